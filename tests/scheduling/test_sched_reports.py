"""Reports are folds of the log: attendance totals ("people at bridges") at any seq,
speaking time per site, overrun per agenda item, the canonical minutes content and its
chained hash."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import pytest
from scheduling_builders import (
    ADMIN,
    CHAIR,
    HAI_CHAU,
    HOA_BAC,
    HOA_NINH,
    MAIN,
    SECRETARY,
    SYSTEM,
    THANH_KHE,
    Harness,
    build,
    site,
)

from scheduling import (
    AgendaItem,
    Run,
    chain_hash,
    minutes_content,
    overrun_seconds,
    parse_command,
    replay,
    speaking_seconds,
    totals,
)
from scheduling.directory import evolve_directory
from scheduling.minutes import GENESIS
from scheduling.reports import Totals, canonical_json, item_seconds, overdue_actions


class TestTotals:
    def test_nobody_yet(self, live: Harness) -> None:
        assert totals(live.s) == Totals(invited=5, online=0, checked_in=0, people=0, expected=60 + 45 + 38 + 25 + 30)

    def test_people_at_bridges(self, live: Harness) -> None:
        live.online(MAIN, HAI_CHAU, THANH_KHE, HOA_BAC)
        live.run(site(MAIN), {"type": "check_in", "site": MAIN, "headcount": 57})
        live.run(site(HAI_CHAU), {"type": "check_in", "site": HAI_CHAU, "headcount": 44})
        live.run(SECRETARY, {"type": "check_in", "site": HOA_BAC, "headcount": 0})
        live.run(SYSTEM, {"type": "set_connection", "site": THANH_KHE, "connection": "reconnecting"})
        assert totals(live.s).to_dict() == {"invited": 5, "online": 3, "checked_in": 3, "people": 101,
                                            "expected": 198}

    def test_at_any_seq(self, live: Harness) -> None:
        start = len(live.log)
        live.run(site(HAI_CHAU), {"type": "check_in", "site": HAI_CHAU, "headcount": 44})
        live.run(site(THANH_KHE), {"type": "check_in", "site": THANH_KHE, "headcount": 30})
        live.run(site(HAI_CHAU), {"type": "check_in", "site": HAI_CHAU, "headcount": 40})
        people = [totals(replay(live.log[:seq])).people for seq in range(start, len(live.log) + 1)]
        assert people == [0, 44, 74, 70]

    def test_a_whole_city(self) -> None:
        """126 wards and communes imported from CSV, invited as a group, all checked in."""
        h = Harness()
        rows = "".join(f"P-{n:03d},UBND phường {n},Thành phố mới,remote,{100 + n}\n" for n in range(126))
        cmd = parse_command({"type": "import_sites", "key": "nhap", "csv": "code,name,parent,kind,expected_headcount\n"
                             + rows})
        from scheduling import decide_directory
        for ev in decide_directory(h.directory, cmd, ADMIN, now=h.now):
            evolve_directory(h.directory, ev)
        h.run(ADMIN, {"type": "create_conference", "conference_id": "tap-huan", "title": "Tập huấn trực tuyến",
                      "kind": "training", "starts_at": "2025-10-03T08:00:00+07:00",
                      "ends_at": "2025-10-03T11:00:00+07:00", "main_site": MAIN, "chair": CHAIR.id})
        h.run(ADMIN, {"type": "invite_sites", "group": "Thành phố mới"})
        h.run(ADMIN, {"type": "schedule_conference"})
        h.run(CHAIR, {"type": "open_conference"})
        for n in range(126):
            code = f"P-{n:03d}"
            h.online(code)
            h.run(site(code), {"type": "check_in", "site": code, "headcount": 100 + n})
        t = totals(h.s)
        assert (t.invited, t.online, t.checked_in) == (127, 126, 126)
        assert t.people == sum(100 + n for n in range(126)) == 20_475
        assert t.expected == t.people + 60


class TestSpeakingSeconds:
    def test_turns_add_up_and_the_current_turn_counts_to_now(self) -> None:
        h = build("live", max_speakers=2)
        h.give(HAI_CHAU)
        h.tick(90)
        h.run(CHAIR, {"type": "revoke_floor", "site": HAI_CHAU})
        h.give(THANH_KHE)
        h.tick(30)
        h.give(HAI_CHAU)
        h.tick(45)
        assert speaking_seconds(h.s, h.now) == {HAI_CHAU: 135.0, THANH_KHE: 75.0}

    def test_a_clock_behind_the_turn_never_counts_negative(self, live: Harness) -> None:
        live.give(HAI_CHAU)
        assert speaking_seconds(live.s, live.now - timedelta(seconds=10)) == {HAI_CHAU: 0.0}

    def test_nobody_spoke(self, live: Harness) -> None:
        assert speaking_seconds(live.s, live.now) == {}


class TestOverrun:
    def item(self, planned: int, *runs: tuple[int, int | None]) -> AgendaItem:
        t0 = build("draft").now
        return AgendaItem(item_id="x", title="x", planned_minutes=planned,
                          runs=[Run(started=t0 + timedelta(minutes=a),
                                    ended=None if b is None else t0 + timedelta(minutes=b)) for a, b in runs])

    @pytest.mark.parametrize(("planned", "runs", "now_min", "spent", "over"), [
        (0, [(0, 50)], 60, 3000, 0),              # unplanned never overruns
        (20, [(0, 15)], 60, 900, 0),              # within
        (20, [(0, 25)], 60, 1500, 300),           # five minutes over
        (20, [(0, 10), (30, 45)], 60, 1500, 300),  # two runs add up
        (20, [(0, None)], 30, 1800, 600),         # still running: counted to now
    ])
    def test_overrun(self, planned: int, runs: list[tuple[int, int | None]], now_min: int, spent: int,
                     over: int) -> None:
        item = self.item(planned, *runs)
        now = build("draft").now + timedelta(minutes=now_min)
        assert item_seconds(item, now) == spent
        assert overrun_seconds(item, now) == over

    def test_from_the_log(self, live: Harness) -> None:
        live.run(CHAIR, {"type": "start_item", "item_id": "i1"})   # 20 minutes planned
        live.tick(21 * 60)
        assert overrun_seconds(live.s.item("i1"), live.now) == 60


def test_overdue_actions_use_the_due_date(live: Harness) -> None:
    live.action("a1", HAI_CHAU, due="2025-10-10")
    live.action("a2", THANH_KHE, due="2025-10-20")
    live.action("a3", HOA_BAC, due="2025-10-05")
    live.run(SECRETARY, {"type": "confirm_action_done", "action_id": "a3"})
    assert [a.action_id for a in overdue_actions(live.s, date(2025, 10, 10))] == []
    assert [a.action_id for a in overdue_actions(live.s, date(2025, 10, 11))] == ["a1"]
    assert [a.action_id for a in overdue_actions(live.s, date(2025, 10, 21))] == ["a1", "a2"]


class TestMinutesContent:
    @pytest.fixture
    def held(self) -> Harness:
        h = build("live")
        h.online(MAIN, HAI_CHAU)
        h.run(site(HAI_CHAU), {"type": "check_in", "site": HAI_CHAU, "headcount": 44, "leaders": [
            {"name": "Nguyễn Thị Lan", "title": "Chủ tịch UBND phường"},
            {"name": "Lê Văn Hùng", "title": "Phó Chủ tịch", "present": False, "reason": "Đi công tác"}]})
        h.run(CHAIR, {"type": "start_item", "item_id": "i2"})
        h.request(HAI_CHAU, "Giải phóng mặt bằng")
        h.tick(60)
        h.run(CHAIR, {"type": "grant_floor", "site": HAI_CHAU})
        h.tick(150)
        h.run(site(HAI_CHAU), {"type": "release_floor", "site": HAI_CHAU})
        h.note("n1", "Phường Hải Châu kiến nghị hỗ trợ kinh phí.", item_id="i2")
        h.note("k1", "Giao Sở Tài chính xem xét.", item_id="i2", kind="conclusion")
        h.note("g1", "Hội nghị kết thúc lúc 09 giờ.", item_id=None)
        h.action("a1", HAI_CHAU, due="2025-10-31")
        h.run(SYSTEM, {"type": "set_connection", "site": HAI_CHAU, "connection": "offline"})
        h.tick(600)
        h.run(CHAIR, {"type": "end_conference"})
        return h

    def test_from_the_log_alone(self, held: Harness) -> None:
        c = minutes_content(held.s)
        assert c == minutes_content(replay(held.log))
        assert c["header"]["title"] == "Hội nghị giao ban trực tuyến quý III năm 2025"
        assert c["header"]["version"] == 1 and c["header"]["ended_at"] == held.now.isoformat()
        hai_chau = next(a for a in c["attendance"] if a["code"] == HAI_CHAU)
        assert hai_chau["present"] and hai_chau["headcount"] == 44 and hai_chau["left"] is not None
        assert hai_chau["leaders"][1] == {"name": "Lê Văn Hùng", "title": "Phó Chủ tịch", "present": False,
                                          "reason": "Đi công tác"}
        hoa_ninh = next(a for a in c["attendance"] if a["code"] == HOA_NINH)
        assert not hoa_ninh["present"]
        i2 = next(i for i in c["agenda"] if i["item_id"] == "i2")
        assert i2["status"] == "done" and i2["actual_seconds"] == 810
        assert i2["speakers"] == [{"site": HAI_CHAU, "name": "UBND phường Hải Châu", "topic": "Giải phóng mặt bằng",
                                   "started": (held.now - timedelta(seconds=750)).isoformat(), "seconds": 150}]
        assert i2["notes"] == ["Phường Hải Châu kiến nghị hỗ trợ kinh phí."]
        assert i2["conclusions"] == ["Giao Sở Tài chính xem xét."]
        assert c["general_notes"] == [{"kind": "note", "text": "Hội nghị kết thúc lúc 09 giờ."}]
        assert [a["action_id"] for a in c["actions"]] == ["a1"] and c["actions"][0]["due"] == "2025-10-31"
        assert c["totals"]["people"] == 44
        json.dumps(c)   # plain data

    def test_canonical_json_keeps_vietnamese_and_sorts_keys(self) -> None:
        assert canonical_json({"b": "Đà Nẵng", "a": [1, {"y": None, "x": True}]}) == \
            '{"a":[1,{"x":true,"y":null}],"b":"Đà Nẵng"}'


class TestChainHash:
    def test_is_sha256_over_the_previous_hash_and_the_canonical_content(self) -> None:
        content = {"header": {"title": "Hội nghị"}, "agenda": []}
        expected = hashlib.sha256(f"{GENESIS}\n{canonical_json(content)}".encode()).hexdigest()
        assert chain_hash(GENESIS, content) == expected

    def test_ignores_key_order_but_not_content_nor_the_previous_hash(self) -> None:
        a = {"x": 1, "y": "Huế"}
        assert chain_hash(GENESIS, a) == chain_hash(GENESIS, {"y": "Huế", "x": 1})
        assert chain_hash(GENESIS, a) != chain_hash(GENESIS, {"x": 1, "y": "Hue"})
        assert chain_hash(GENESIS, a) != chain_hash("1" * 64, a)

    def test_approving_twice_after_a_correction_chains_the_versions(self) -> None:
        h = build("ended")
        h.run(CHAIR, {"type": "approve_minutes"})
        h.run(SECRETARY, {"type": "open_correction", "reason": "Bổ sung kết luận"})
        h.note("k2", "Bổ sung: giao UBND các quận rà soát.", kind="conclusion")
        h.run(CHAIR, {"type": "approve_minutes"})
        h.run(SECRETARY, {"type": "open_correction", "reason": "Sửa chính tả"})
        h.run(CHAIR, {"type": "approve_minutes"})
        versions = h.s.minutes.approved
        assert [v.version for v in versions] == [1, 2, 3]
        prev = GENESIS
        for v in versions:
            assert v.prev_sha256 == prev and v.sha256 == chain_hash(prev, v.content)
            prev = v.sha256
        assert len({v.sha256 for v in versions}) == 3, "the version number alone changes the hash"
        assert versions[1].content["agenda"][0]["conclusions"][-1] == "Bổ sung: giao UBND các quận rà soát."
        assert versions[0].content["agenda"][0]["conclusions"] == ["Các phường, xã đẩy nhanh giải ngân vốn đầu tư công."]
