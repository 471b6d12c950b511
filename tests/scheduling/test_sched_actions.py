"""Action items: created from an agenda item and assigned to sites with a due date, edited,
followed up by the assignees' progress, confirmed done, re-opened or cancelled; they outlive
the conference."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from scheduling_builders import (
    ADMIN,
    AN_HAI,
    CHAIR,
    HAI_CHAU,
    HOA_BAC,
    OBSERVER,
    SECRETARY,
    STRANGER,
    SYSTEM,
    THANH_KHE,
    Harness,
    build,
    site,
)

from scheduling import (
    ActionCancelled,
    ActionDoneConfirmed,
    ActionItem,
    ActionItemCreated,
    ActionItemEdited,
    ActionReopened,
    ActionStatus,
    Actor,
    ErrorCode,
    Progress,
    ProgressPosted,
)
from scheduling.reports import overdue_actions

NOT_WRITERS = [ADMIN, OBSERVER, STRANGER, site(HAI_CHAU), SYSTEM]


def create(**fields: Any) -> dict[str, Any]:
    return {"type": "create_action_item", "action_id": "a1", "item_id": "i2",
            "title": "Hoàn thành giải phóng mặt bằng dự án đường Hoàng Sa",
            "description": "Báo cáo kết quả bằng văn bản về Văn phòng UBND thành phố.",
            "assignees": [HAI_CHAU, THANH_KHE], "due": "2025-10-31", **fields}


class TestCreateActionItem:
    @pytest.mark.parametrize("actor", [SECRETARY, CHAIR], ids=str)
    def test_a_secretary_or_the_chair_assigns(self, live: Harness, actor: Actor) -> None:
        events = live.run(actor, create(), key="giao")
        assert list(events) == [ActionItemCreated(
            action_id="a1", item_id="i2", title="Hoàn thành giải phóng mặt bằng dự án đường Hoàng Sa",
            description="Báo cáo kết quả bằng văn bản về Văn phòng UBND thành phố.",
            assignees=(HAI_CHAU, THANH_KHE), due=date(2025, 10, 31), **live.meta(actor, "giao"))]
        assert live.s.actions == {"a1": ActionItem(
            action_id="a1", item_id="i2", title="Hoàn thành giải phóng mặt bằng dự án đường Hoàng Sa",
            description="Báo cáo kết quả bằng văn bản về Văn phòng UBND thành phố.",
            assignees=(HAI_CHAU, THANH_KHE), due=date(2025, 10, 31), created=live.now)}

    def test_due_today_is_fine(self, live: Harness) -> None:
        live.run(SECRETARY, create(due="2025-10-03"))

    def test_due_in_the_past(self, live: Harness) -> None:
        live.refuse(SECRETARY, create(due="2025-10-02"), ErrorCode.DUE_IN_PAST, "2025-10-02", "2025-10-03")

    def test_today_is_the_conference_s_local_date(self, rehearsal: Harness) -> None:
        rehearsal.now = datetime(2025, 10, 2, 18, 0, tzinfo=UTC)   # 01:00 on the 3rd in Đà Nẵng
        rehearsal.refuse(SECRETARY, create(due="2025-10-02"), ErrorCode.DUE_IN_PAST, "today (2025-10-03)")

    @pytest.mark.parametrize("phase", ["rehearsal", "live", "ended"])
    def test_from_rehearsal_on(self, phase: str) -> None:
        build(phase).run(SECRETARY, create())

    @pytest.mark.parametrize("phase", ["draft", "scheduled", "cancelled"])
    def test_not_before(self, phase: str) -> None:
        build(phase).refuse(SECRETARY, create(), ErrorCode.WRONG_PHASE)

    def test_even_after_the_minutes_are_approved(self, ended: Harness) -> None:
        ended.run(CHAIR, {"type": "approve_minutes"})
        ended.run(SECRETARY, create())

    def test_unknown_site(self, live: Harness) -> None:
        live.refuse(SECRETARY, create(assignees=[HAI_CHAU, "P-KHONG-CO"]), ErrorCode.SITE_NOT_INVITED, "P-KHONG-CO")

    def test_uninvited_site(self, live: Harness) -> None:
        live.refuse(SECRETARY, create(assignees=[AN_HAI]), ErrorCode.SITE_NOT_INVITED, AN_HAI)

    def test_unknown_item(self, live: Harness) -> None:
        live.refuse(SECRETARY, create(item_id="i9"), ErrorCode.UNKNOWN_ITEM, "'i9'")

    def test_ids_are_unique(self, live: Harness) -> None:
        live.run(SECRETARY, create())
        live.refuse(SECRETARY, create(), ErrorCode.ACTION_EXISTS, "'a1'")

    @pytest.mark.parametrize("actor", NOT_WRITERS, ids=str)
    def test_others_may_not(self, live: Harness, actor: Actor) -> None:
        live.refuse(actor, create(), ErrorCode.FORBIDDEN, "assign action items")

    @pytest.mark.parametrize(("fields", "message"), [
        ({"assignees": []}, "assignees: at least one is needed"),
        ({"assignees": HAI_CHAU}, "assignees: expected an array, got string"),
        ({"assignees": [HAI_CHAU, HAI_CHAU]}, "assignees: duplicates are not allowed"),
        ({"due": "31/10/2025"}, "due: '31/10/2025' is not an ISO 8601 date"),
        ({"due": None}, "due: expected an ISO 8601 date string, got null"),
        ({"title": ""}, "title: must not be empty"),
        ({"description": "x" * 10_001}, "description: at most 10000 characters"),
        ({"action_id": "việc 1"}, "action_id: 'việc 1' is not an id"),
    ])
    def test_bad_input(self, live: Harness, fields: dict[str, Any], message: str) -> None:
        err = live.refuse(SECRETARY, create(**fields), ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message

    def test_missing_due_date(self, live: Harness) -> None:
        cmd = create()
        del cmd["due"]
        live.refuse(SECRETARY, cmd, ErrorCode.INVALID_COMMAND, "due: missing")


@pytest.fixture
def assigned(live: Harness) -> Harness:
    live.run(SECRETARY, create())
    return live


class TestEditActionItem:
    def test_only_what_changed_is_recorded(self, assigned: Harness) -> None:
        events = assigned.run(CHAIR, {"type": "edit_action_item", "action_id": "a1", "due": "2025-11-15",
                                      "assignees": [HAI_CHAU, THANH_KHE, HOA_BAC],
                                      "title": "Hoàn thành giải phóng mặt bằng dự án đường Hoàng Sa"}, key="sua")
        assert list(events) == [ActionItemEdited(action_id="a1", assignees=(HAI_CHAU, THANH_KHE, HOA_BAC),
                                                 due=date(2025, 11, 15), **assigned.meta(CHAIR, "sua"))]
        a = assigned.s.actions["a1"]
        assert (a.assignees, a.due) == ((HAI_CHAU, THANH_KHE, HOA_BAC), date(2025, 11, 15))

    def test_no_change_no_event(self, assigned: Harness) -> None:
        assert assigned.run(SECRETARY, {"type": "edit_action_item", "action_id": "a1", "due": "2025-10-31"}) == ()

    def test_an_overdue_item_keeps_its_due_date_through_other_edits(self, assigned: Harness) -> None:
        assigned.now = datetime(2025, 11, 5, 9, 0, tzinfo=assigned.now.tzinfo)
        assigned.run(SECRETARY, {"type": "edit_action_item", "action_id": "a1", "due": "2025-10-31",
                                 "description": "Bổ sung hồ sơ"})
        assert [a.action_id for a in overdue_actions(assigned.s, assigned.now.date())] == ["a1"]

    def test_a_new_due_date_in_the_past(self, assigned: Harness) -> None:
        assigned.refuse(SECRETARY, {"type": "edit_action_item", "action_id": "a1", "due": "2025-09-30"},
                        ErrorCode.DUE_IN_PAST, "2025-09-30")

    def test_uninvited_assignee(self, assigned: Harness) -> None:
        assigned.refuse(SECRETARY, {"type": "edit_action_item", "action_id": "a1", "assignees": [AN_HAI]},
                        ErrorCode.SITE_NOT_INVITED, AN_HAI)

    def test_unknown_action(self, assigned: Harness) -> None:
        assigned.refuse(SECRETARY, {"type": "edit_action_item", "action_id": "a9", "title": "x"},
                        ErrorCode.UNKNOWN_ACTION, "'a9'")

    @pytest.mark.parametrize("end", ["confirm_action_done", "cancel_action"])
    def test_not_once_done_or_cancelled(self, assigned: Harness, end: str) -> None:
        assigned.run(SECRETARY, {"type": end, "action_id": "a1"})
        assigned.refuse(SECRETARY, {"type": "edit_action_item", "action_id": "a1", "title": "x"},
                        ErrorCode.WRONG_ACTION_STATUS)

    @pytest.mark.parametrize("actor", NOT_WRITERS, ids=str)
    def test_others_may_not(self, assigned: Harness, actor: Actor) -> None:
        assigned.refuse(actor, {"type": "edit_action_item", "action_id": "a1", "title": "x"}, ErrorCode.FORBIDDEN)

    @pytest.mark.parametrize(("fields", "message"), [
        ({"assignees": []}, "assignees: at least one is needed"),
        ({"due": 20251031}, "due: expected an ISO 8601 date string, got integer"),
        ({"status": "done"}, "status: unknown field"),
    ])
    def test_bad_input(self, assigned: Harness, fields: dict[str, Any], message: str) -> None:
        err = assigned.refuse(SECRETARY, {"type": "edit_action_item", "action_id": "a1", **fields},
                              ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


def progress(code: str, text: str = "Đã bàn giao 80% mặt bằng", **fields: Any) -> dict[str, Any]:
    return {"type": "post_progress", "action_id": "a1", "site": code, "text": text, **fields}


class TestPostProgress:
    def test_an_assignee_reports_progress(self, assigned: Harness) -> None:
        h = assigned
        events = h.run(site(HAI_CHAU), progress(HAI_CHAU, percent=80), key="bc")
        assert list(events) == [ProgressPosted(action_id="a1", site=HAI_CHAU, text="Đã bàn giao 80% mặt bằng",
                                               percent=80, status=ActionStatus.IN_PROGRESS,
                                               **h.meta(site(HAI_CHAU), "bc"))]
        a = h.s.actions["a1"]
        assert a.status is ActionStatus.IN_PROGRESS
        assert a.updates == [Progress(by=HAI_CHAU, at=h.now, text="Đã bàn giao 80% mặt bằng", percent=80)]

    def test_a_site_reporting_done_awaits_confirmation(self, assigned: Harness) -> None:
        assigned.run(site(HAI_CHAU), progress(HAI_CHAU, "Hoàn thành", status="done"))
        a = assigned.s.actions["a1"]
        assert a.status is ActionStatus.DONE and not a.confirmed

    def test_the_main_bridge_reporting_done_confirms(self, assigned: Harness) -> None:
        assigned.run(SECRETARY, progress(THANH_KHE, "Phường báo cáo qua điện thoại: xong", status="done"))
        assert assigned.s.actions["a1"].confirmed

    def test_after_the_conference_ended(self) -> None:
        h = build("ended")
        h.action("a1", HAI_CHAU)
        h.tick(7 * 24 * 3600)
        h.run(site(HAI_CHAU), progress(HAI_CHAU))
        assert h.s.actions["a1"].status is ActionStatus.IN_PROGRESS

    def test_not_by_a_site_not_assigned(self, assigned: Harness) -> None:
        assigned.refuse(site(HOA_BAC), progress(HOA_BAC), ErrorCode.NOT_ASSIGNEE, HOA_BAC, "'a1'")

    def test_not_for_another_site(self, assigned: Harness) -> None:
        assigned.refuse(site(HAI_CHAU), progress(THANH_KHE), ErrorCode.NOT_OWN_SITE)

    def test_not_once_done(self, assigned: Harness) -> None:
        assigned.run(site(HAI_CHAU), progress(HAI_CHAU, status="done"))
        assigned.refuse(site(THANH_KHE), progress(THANH_KHE), ErrorCode.WRONG_ACTION_STATUS, "done")

    def test_unknown_action(self, assigned: Harness) -> None:
        assigned.refuse(site(HAI_CHAU), {**progress(HAI_CHAU), "action_id": "a9"}, ErrorCode.UNKNOWN_ACTION)

    @pytest.mark.parametrize("actor", [ADMIN, OBSERVER, STRANGER, SYSTEM], ids=str)
    def test_nobody_else(self, assigned: Harness, actor: Actor) -> None:
        assigned.refuse(actor, progress(HAI_CHAU), ErrorCode.FORBIDDEN)

    @pytest.mark.parametrize(("fields", "message"), [
        ({"percent": -1}, "percent: must be between 0 and 100, got -1"),
        ({"percent": "80"}, "percent: expected an integer, got string"),
        ({"status": "cancelled"}, "status: expected one of ['in_progress', 'done']"),
        ({"status": "open"}, "status: expected one of"),
        ({"text": ""}, "text: must not be empty"),
    ])
    def test_bad_input(self, assigned: Harness, fields: dict[str, Any], message: str) -> None:
        err = assigned.refuse(site(HAI_CHAU), {**progress(HAI_CHAU), **fields}, ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


class TestConfirmActionDone:
    @pytest.mark.parametrize("before", ["open", "in_progress", "done"])
    def test_the_main_bridge_confirms(self, assigned: Harness, before: str) -> None:
        if before != "open":
            assigned.run(site(HAI_CHAU), progress(HAI_CHAU, status=before))
        events = assigned.run(SECRETARY, {"type": "confirm_action_done", "action_id": "a1"}, key="xac-nhan")
        assert list(events) == [ActionDoneConfirmed(action_id="a1", **assigned.meta(SECRETARY, "xac-nhan"))]
        a = assigned.s.actions["a1"]
        assert a.status is ActionStatus.DONE and a.confirmed
        assert not a.is_overdue(date(2026, 1, 1))

    def test_confirming_twice_yields_nothing(self, assigned: Harness) -> None:
        assigned.run(CHAIR, {"type": "confirm_action_done", "action_id": "a1"})
        assert assigned.run(CHAIR, {"type": "confirm_action_done", "action_id": "a1"}) == ()

    def test_not_a_cancelled_item(self, assigned: Harness) -> None:
        assigned.run(CHAIR, {"type": "cancel_action", "action_id": "a1"})
        assigned.refuse(CHAIR, {"type": "confirm_action_done", "action_id": "a1"}, ErrorCode.WRONG_ACTION_STATUS,
                        "cancelled")

    def test_unknown_action(self, assigned: Harness) -> None:
        assigned.refuse(CHAIR, {"type": "confirm_action_done", "action_id": "a9"}, ErrorCode.UNKNOWN_ACTION)

    @pytest.mark.parametrize("actor", NOT_WRITERS, ids=str)
    def test_others_may_not(self, assigned: Harness, actor: Actor) -> None:
        assigned.refuse(actor, {"type": "confirm_action_done", "action_id": "a1"}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, assigned: Harness) -> None:
        assigned.refuse(CHAIR, {"type": "confirm_action_done"}, ErrorCode.INVALID_COMMAND, "action_id: missing")


class TestReopenAction:
    @pytest.mark.parametrize("end", ["confirm_action_done", "cancel_action"])
    def test_a_closed_item_opens_again(self, assigned: Harness, end: str) -> None:
        assigned.run(CHAIR, {"type": end, "action_id": "a1"})
        events = assigned.run(SECRETARY, {"type": "reopen_action", "action_id": "a1", "reason": "Chưa đạt yêu cầu"},
                              key="mo-lai")
        assert list(events) == [ActionReopened(action_id="a1", reason="Chưa đạt yêu cầu",
                                               **assigned.meta(SECRETARY, "mo-lai"))]
        a = assigned.s.actions["a1"]
        assert a.status is ActionStatus.OPEN and not a.confirmed

    @pytest.mark.parametrize("before", ["open", "in_progress"])
    def test_not_an_open_item(self, assigned: Harness, before: str) -> None:
        if before == "in_progress":
            assigned.run(site(HAI_CHAU), progress(HAI_CHAU))
        assigned.refuse(SECRETARY, {"type": "reopen_action", "action_id": "a1"}, ErrorCode.WRONG_ACTION_STATUS, before)

    def test_unknown_action(self, assigned: Harness) -> None:
        assigned.refuse(SECRETARY, {"type": "reopen_action", "action_id": "a9"}, ErrorCode.UNKNOWN_ACTION)

    @pytest.mark.parametrize("actor", NOT_WRITERS, ids=str)
    def test_others_may_not(self, assigned: Harness, actor: Actor) -> None:
        assigned.run(CHAIR, {"type": "cancel_action", "action_id": "a1"})
        assigned.refuse(actor, {"type": "reopen_action", "action_id": "a1"}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, assigned: Harness) -> None:
        assigned.refuse(SECRETARY, {"type": "reopen_action", "action_id": "a1", "reason": "x" * 2001},
                        ErrorCode.INVALID_COMMAND, "reason: at most 2000 characters")


class TestCancelAction:
    @pytest.mark.parametrize("before", ["open", "in_progress", "done"])
    def test_the_main_bridge_cancels(self, assigned: Harness, before: str) -> None:
        if before != "open":
            assigned.run(site(HAI_CHAU), progress(HAI_CHAU, status=before))
        events = assigned.run(CHAIR, {"type": "cancel_action", "action_id": "a1", "reason": "Dự án tạm dừng"},
                              key="huy")
        assert list(events) == [ActionCancelled(action_id="a1", reason="Dự án tạm dừng",
                                                **assigned.meta(CHAIR, "huy"))]
        assert assigned.s.actions["a1"].status is ActionStatus.CANCELLED
        assert not assigned.s.actions["a1"].is_overdue(date(2026, 1, 1))

    def test_not_twice(self, assigned: Harness) -> None:
        assigned.run(CHAIR, {"type": "cancel_action", "action_id": "a1"})
        assigned.refuse(CHAIR, {"type": "cancel_action", "action_id": "a1"}, ErrorCode.WRONG_ACTION_STATUS)

    def test_unknown_action(self, assigned: Harness) -> None:
        assigned.refuse(CHAIR, {"type": "cancel_action", "action_id": "a9"}, ErrorCode.UNKNOWN_ACTION)

    @pytest.mark.parametrize("actor", NOT_WRITERS, ids=str)
    def test_others_may_not(self, assigned: Harness, actor: Actor) -> None:
        assigned.refuse(actor, {"type": "cancel_action", "action_id": "a1"}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, assigned: Harness) -> None:
        assigned.refuse(CHAIR, {"type": "cancel_action", "action_id": "a1", "reason": 0}, ErrorCode.INVALID_COMMAND,
                        "reason: expected a string, got integer")
