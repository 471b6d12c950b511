"""Action items across meetings: the next conference of a series reviews the open action
items of the previous one (an agenda item with ``follow_up`` references), and its minutes
record their status and the staff's display names — pure data handed to ``decide``."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from scheduling_builders import (
    ADMIN,
    CHAIR,
    HAI_CHAU,
    HOA_BAC,
    INVITED,
    SECRETARY,
    THANH_KHE,
    VN,
    Harness,
    build,
    create_cmd,
    site,
)

from scheduling import (
    FOLLOW_UP_ITEM,
    FOLLOW_UP_TITLE,
    ActionSnapshot,
    ActionStatus,
    ErrorCode,
    MinutesApproved,
    MinutesInputs,
    Phase,
    Progress,
    action_snapshot,
    chain_hash,
    decide,
    evolve,
    follow_up_ref,
    minutes_content,
    open_actions,
    parse_command,
    previous_in_series,
)
from scheduling.minutes import GENESIS

SERIES = "giao-ban-quy"
NAMES = {CHAIR.id: "Lê Minh Quang – Chủ tịch UBND thành phố", SECRETARY.id: "Phạm Thị Lan – Chuyên viên"}


def conference(conf_id: str, start: datetime, *, series: str = SERIES, phase: str = "scheduled") -> Harness:
    """A conference of the series starting at ``start``, taken to ``phase``."""
    h = Harness(now=start - timedelta(days=7))
    h.run(ADMIN, create_cmd(conference_id=conf_id, series=series, starts_at=start.isoformat(),
                            ends_at=(start + timedelta(hours=3)).isoformat()))
    h.run(ADMIN, {"type": "invite_sites", "codes": list(INVITED)})
    if phase == "cancelled":
        h.run(ADMIN, {"type": "cancel_conference"})
        return h
    if phase == "scheduled":
        h.run(ADMIN, {"type": "schedule_conference"})
    return h


@pytest.fixture
def q3() -> Harness:
    """The third-quarter review (ended) with four action items in every status."""
    h = build("ended")
    h.action("a1", HAI_CHAU, due="2025-10-31", title="Rà soát hộ nghèo")
    h.action("a2", THANH_KHE, HOA_BAC, due="2025-10-15", title="Báo cáo giải ngân vốn đầu tư công")
    h.action("a3", HOA_BAC, due="2025-11-30", title="Hoàn thành giải phóng mặt bằng")
    h.action("a4", HAI_CHAU, due="2025-12-31", title="Tổng kết phong trào thi đua")
    h.tick(86_400 * 5)
    h.run(site(THANH_KHE), {"type": "post_progress", "action_id": "a2", "site": THANH_KHE,
                            "text": "Đã giải ngân 60% kế hoạch vốn", "percent": 60})
    h.run(site(HOA_BAC), {"type": "post_progress", "action_id": "a3", "site": HOA_BAC, "text": "Đã xong",
                          "status": "done"})
    h.run(CHAIR, {"type": "confirm_action_done", "action_id": "a3"})
    h.run(SECRETARY, {"type": "cancel_action", "action_id": "a4", "reason": "Gộp vào nhiệm vụ năm"})
    return h


class TestPreviousInSeries:
    def test_the_last_one_held_before_in_the_same_series(self) -> None:
        q2 = conference("q2", datetime(2025, 7, 3, 8, tzinfo=VN)).s
        q3 = conference("q3", datetime(2025, 10, 3, 8, tzinfo=VN)).s
        q4 = conference("q4", datetime(2026, 1, 5, 8, tzinfo=VN)).s
        other = conference("khac", datetime(2025, 12, 1, 8, tzinfo=VN), series="chuyen-de").s
        later = conference("q1-2026", datetime(2026, 4, 3, 8, tzinfo=VN)).s
        everyone = [q2, q3, q4, other, later]
        assert previous_in_series(everyone, q4) is q3
        assert previous_in_series(everyone, q3) is q2
        assert previous_in_series(everyone, q2) is None
        assert previous_in_series(everyone, other) is None

    def test_skips_cancelled_conferences_and_needs_a_series(self) -> None:
        q3 = conference("q3", datetime(2025, 10, 3, 8, tzinfo=VN)).s
        extra = conference("bat-thuong", datetime(2025, 11, 3, 8, tzinfo=VN), phase="cancelled").s
        q4 = conference("q4", datetime(2026, 1, 5, 8, tzinfo=VN)).s
        assert extra.phase is Phase.CANCELLED
        assert previous_in_series([q3, extra, q4], q4) is q3
        alone = conference("le", datetime(2026, 1, 9, 8, tzinfo=VN), series="").s
        assert previous_in_series([q3, extra, q4, alone], alone) is None


class TestOpenActions:
    def test_open_and_in_progress_ones_by_due_date(self, q3: Harness) -> None:
        assert [a.action_id for a in open_actions(q3.s)] == ["a2", "a1"]

    def test_none_in_a_conference_without_action_items(self, ended: Harness) -> None:
        assert open_actions(ended.s) == []


class TestActionSnapshot:
    def test_what_the_minutes_record_of_an_action_item(self, q3: Harness) -> None:
        snap = action_snapshot(q3.s, "a2", date(2025, 10, 20))
        assert snap == ActionSnapshot(
            ref="giao-ban-q3-2025/a2", conference_id="giao-ban-q3-2025",
            conference_title="Hội nghị giao ban trực tuyến quý III năm 2025", action_id="a2",
            title="Báo cáo giải ngân vốn đầu tư công", assignees=(THANH_KHE, HOA_BAC),
            assignee_names=("UBND phường Thanh Khê Đông", "UBND xã Hòa Bắc"), due=date(2025, 10, 15),
            status=ActionStatus.IN_PROGRESS, confirmed=False, overdue=True,
            last_progress=Progress(by=THANH_KHE, at=q3.s.actions["a2"].updates[-1].at,
                                   text="Đã giải ngân 60% kế hoạch vốn", percent=60))
        done = action_snapshot(q3.s, "a3", date(2026, 1, 5))
        assert done is not None and (done.status, done.confirmed, done.overdue) == (ActionStatus.DONE, True, False)
        assert action_snapshot(q3.s, "a9", date(2026, 1, 5)) is None
        assert follow_up_ref("giao-ban-q3-2025", "a2") == snap.ref


def _next(q3: Harness, refs: list[str]) -> Harness:
    """The fourth-quarter conference: a follow-up item reviewing ``refs``, run and ended."""
    h = conference("giao-ban-q4-2025", datetime(2026, 1, 5, 8, tzinfo=VN), phase="draft")
    h.run(ADMIN, {"type": "add_agenda_item", "item_id": FOLLOW_UP_ITEM, "title": FOLLOW_UP_TITLE,
                  "planned_minutes": 20, "follow_up": refs})
    h.run(ADMIN, {"type": "schedule_conference"})
    h.now = datetime(2026, 1, 5, 8, tzinfo=VN)
    h.run(CHAIR, {"type": "open_conference"})
    h.run(CHAIR, {"type": "start_item", "item_id": FOLLOW_UP_ITEM})
    h.note("k1", "Các đơn vị chưa hoàn thành khẩn trương thực hiện.", item_id=FOLLOW_UP_ITEM, kind="conclusion")
    h.tick(1200)
    h.run(CHAIR, {"type": "end_conference"})
    return h


def _inputs(q3: Harness, refs: list[str], today: date) -> MinutesInputs:
    snaps = {ref: action_snapshot(q3.s, ref.split("/", 1)[1], today) for ref in refs}
    return MinutesInputs(names=NAMES, follow_up={r: s for r, s in snaps.items() if s is not None})


class TestFollowUpInTheMinutes:
    def test_the_approved_minutes_record_the_status_of_the_reviewed_action_items(self, q3: Harness) -> None:
        refs = [follow_up_ref(q3.s.conference_id, a.action_id) for a in open_actions(q3.s)]
        q4 = _next(q3, refs)
        inputs = _inputs(q3, refs, q4.now.date())
        decision = decide(q4.s, parse_command({"type": "approve_minutes", "key": "duyet"}), CHAIR, now=q4.now,
                          minutes_inputs=inputs)
        (ev,) = decision.events
        assert isinstance(ev, MinutesApproved)
        item = ev.content["agenda"][0]
        assert item["follow_up"] == refs == ["giao-ban-q3-2025/a2", "giao-ban-q3-2025/a1"]
        a2, a1 = item["follow_up_status"]
        assert (a2["title"], a2["status"], a2["overdue"], a2["due"]) == \
            ("Báo cáo giải ngân vốn đầu tư công", "in_progress", True, "2025-10-15")
        assert a2["assignee_names"] == ["UBND phường Thanh Khê Đông", "UBND xã Hòa Bắc"]
        assert a2["last_progress"]["text"] == "Đã giải ngân 60% kế hoạch vốn" and a2["last_progress"]["percent"] == 60
        assert (a1["status"], a1["last_progress"]) == ("open", None)
        assert ev.content["header"]["names"] == NAMES
        # the hash covers the statuses and the names: the record cannot be re-told
        assert ev.sha256 == chain_hash(GENESIS, ev.content)
        json.dumps(ev.content)
        evolve(q4.s, ev)
        assert q4.s.minutes.approved[0].content == ev.content

    def test_the_status_is_the_one_on_the_day_of_approval(self, q3: Harness) -> None:
        refs = ["giao-ban-q3-2025/a1"]
        q4 = _next(q3, refs)
        before = minutes_content(q4.s, _inputs(q3, refs, q4.now.date()))
        q3.now = q4.now
        q3.run(site(HAI_CHAU), {"type": "post_progress", "action_id": "a1", "site": HAI_CHAU,
                                "text": "Đã rà soát xong 12/15 tổ dân phố", "percent": 80})
        after = minutes_content(q4.s, _inputs(q3, refs, q4.now.date()))
        assert before["agenda"][0]["follow_up_status"][0]["status"] == "open"
        assert after["agenda"][0]["follow_up_status"][0]["status"] == "in_progress"
        assert after["agenda"][0]["follow_up_status"][0]["last_progress"]["percent"] == 80

    def test_an_unknown_reference_is_left_out_of_the_statuses(self, q3: Harness) -> None:
        q4 = _next(q3, ["giao-ban-q3-2025/a1", "da-xoa/a7"])
        content = minutes_content(q4.s, _inputs(q3, ["giao-ban-q3-2025/a1"], q4.now.date()))
        item = content["agenda"][0]
        assert item["follow_up"] == ["giao-ban-q3-2025/a1", "da-xoa/a7"]
        assert [x["ref"] for x in item["follow_up_status"]] == ["giao-ban-q3-2025/a1"]

    def test_without_inputs_the_content_is_what_it_always_was(self, q3: Harness) -> None:
        q4 = _next(q3, ["giao-ban-q3-2025/a1"])
        content = minutes_content(q4.s)
        assert "names" not in content["header"] and "follow_up_status" not in content["agenda"][0]
        (ev,) = decide(q4.s, parse_command({"type": "approve_minutes", "key": "k"}), CHAIR, now=q4.now).events
        recorded = dict(ev.content)   # type: ignore[attr-defined]
        assert recorded.pop("approval")["approved_by"] == CHAIR.id   # the approval block is always recorded
        assert recorded == content

    def test_names_cover_only_the_chair_and_secretaries(self, ended: Harness) -> None:
        inputs = MinutesInputs(names={**NAMES, "nguoi_khac": "Người khác"})
        assert minutes_content(ended.s, inputs)["header"]["names"] == NAMES
        assert minutes_content(ended.s, MinutesInputs())["header"]["names"] == {}


class TestFollowUpReferences:
    def test_an_agenda_item_carries_references_to_earlier_action_items(self, scheduled: Harness) -> None:
        (ev,) = scheduled.run(ADMIN, {"type": "add_agenda_item", "item_id": FOLLOW_UP_ITEM, "title": FOLLOW_UP_TITLE,
                                      "follow_up": ["giao-ban-q3-2025/a1", "giao-ban-q3-2025/a2"]})
        assert scheduled.s.item(FOLLOW_UP_ITEM).follow_up == ("giao-ban-q3-2025/a1", "giao-ban-q3-2025/a2")
        assert ev.follow_up == ("giao-ban-q3-2025/a1", "giao-ban-q3-2025/a2")   # type: ignore[attr-defined]

    @pytest.mark.parametrize(("refs", "message"), [
        (["a1"], "follow_up[0]: 'a1' is not <conference_id>/<action_id>"),
        (["q3/a1", "q3/a 2"], "follow_up[1]:"),
        (["q3/a1/x"], "follow_up[0]:"),
        (["q3/a1", "q3/a1"], "follow_up: duplicates are not allowed"),
        ([f"q3/a{i}" for i in range(501)], "follow_up: at most 500"),
    ])
    def test_bad_references(self, scheduled: Harness, refs: list[Any], message: str) -> None:
        err = scheduled.refuse(ADMIN, {"type": "add_agenda_item", "item_id": "x", "title": "Kiểm điểm",
                                       "follow_up": refs}, ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message
