"""The agenda: add, edit, remove, reorder (admin, chair, secretary, before and during the
conference), and run it (chair, live): start, finish, skip, re-open."""

from __future__ import annotations

from datetime import datetime

import pytest
from scheduling_builders import (
    ADMIN,
    CHAIR,
    HAI_CHAU,
    OBSERVER,
    SECRETARY,
    STRANGER,
    SYSTEM,
    VN,
    Harness,
    build,
    site,
)

from scheduling import (
    Actor,
    AgendaItemAdded,
    AgendaItemEdited,
    AgendaItemRemoved,
    AgendaReordered,
    ErrorCode,
    ItemFinished,
    ItemReopened,
    ItemSkipped,
    ItemStarted,
    ItemStatus,
    Run,
    overrun_seconds,
)

EDITORS = [ADMIN, CHAIR, SECRETARY]
NOT_EDITORS = [OBSERVER, STRANGER, site(HAI_CHAU), SYSTEM]


def order(h: Harness) -> list[str]:
    return [i.item_id for i in h.s.agenda]


class TestAddAgendaItem:
    @pytest.mark.parametrize("actor", EDITORS, ids=str)
    def test_staff_add_an_item_at_the_end(self, scheduled: Harness, actor: Actor) -> None:
        h = scheduled
        events = h.run(actor, {"type": "add_agenda_item", "item_id": "i4", "title": "Ý kiến của Sở Tài chính",
                               "presenter": "Giám đốc Sở Tài chính", "planned_minutes": 10,
                               "documents": ["bao-cao-tai-chinh-q3.pdf"], "follow_up": ["giao-ban-q2/a3"]},
                       key="them")
        assert list(events) == [AgendaItemAdded(
            item_id="i4", title="Ý kiến của Sở Tài chính", presenter="Giám đốc Sở Tài chính", planned_minutes=10,
            documents=("bao-cao-tai-chinh-q3.pdf",), position=3, follow_up=("giao-ban-q2/a3",),
            **h.meta(actor, "them"))]
        assert order(h) == ["i1", "i2", "i3", "i4"]
        item = h.s.item("i4")
        assert item is not None
        assert (item.status, item.runs, item.follow_up) == (ItemStatus.PENDING, [], ("giao-ban-q2/a3",))

    def test_at_a_position(self, scheduled: Harness) -> None:
        scheduled.run(SECRETARY, {"type": "add_agenda_item", "item_id": "i0", "title": "Khai mạc",
                                  "position": 0})
        assert order(scheduled) == ["i0", "i1", "i2", "i3"]

    def test_a_position_past_the_end_is_the_end(self, scheduled: Harness) -> None:
        events = scheduled.run(SECRETARY, {"type": "add_agenda_item", "item_id": "i9", "title": "Bế mạc",
                                           "position": 50})
        assert events[0].position == 3  # type: ignore[attr-defined]
        assert order(scheduled)[-1] == "i9"

    def test_during_the_conference(self, live: Harness) -> None:
        live.run(CHAIR, {"type": "add_agenda_item", "item_id": "phat-sinh", "title": "Vấn đề phát sinh"})
        assert order(live)[-1] == "phat-sinh"

    def test_item_ids_are_unique(self, scheduled: Harness) -> None:
        scheduled.refuse(SECRETARY, {"type": "add_agenda_item", "item_id": "i2", "title": "Trùng"},
                         ErrorCode.ITEM_EXISTS, "'i2'")

    def test_at_most_200_items(self) -> None:
        h = build("draft", agenda=False)
        for n in range(200):
            h.run(SECRETARY, {"type": "add_agenda_item", "item_id": f"m{n}", "title": f"Mục {n}"})
        h.refuse(SECRETARY, {"type": "add_agenda_item", "item_id": "m200", "title": "Mục thừa"},
                 ErrorCode.INVALID_COMMAND, "at most 200")

    @pytest.mark.parametrize("actor", NOT_EDITORS, ids=str)
    def test_others_may_not(self, scheduled: Harness, actor: Actor) -> None:
        scheduled.refuse(actor, {"type": "add_agenda_item", "item_id": "i4", "title": "x"},
                         ErrorCode.FORBIDDEN, "edit the agenda")

    @pytest.mark.parametrize("phase", ["ended", "cancelled"])
    def test_not_after_the_end(self, phase: str) -> None:
        build(phase).refuse(SECRETARY, {"type": "add_agenda_item", "item_id": "i4", "title": "x"},
                            ErrorCode.WRONG_PHASE, phase)

    @pytest.mark.parametrize(("fields", "message"), [
        ({"title": ""}, "title: must not be empty"),
        ({"title": "x" * 501}, "title: at most 500 characters"),
        ({"item_id": "mục 4"}, "item_id: 'mục 4' is not an id"),
        ({"planned_minutes": "15"}, "planned_minutes: expected an integer, got string"),
        ({"planned_minutes": 1441}, "planned_minutes: must be between 0 and 1440"),
        ({"position": -1}, "position: must be between 0 and 200"),
        ({"documents": ["a.pdf"] * 51}, "documents: at most 50"),
        ({"documents": [""]}, "documents[0]: must not be empty"),
        ({"presenter": None}, "presenter: expected a string, got null"),
    ])
    def test_bad_input(self, scheduled: Harness, fields: dict[str, object], message: str) -> None:
        cmd = {"type": "add_agenda_item", "item_id": "i4", "title": "Mục mới", **fields}
        err = scheduled.refuse(SECRETARY, cmd, ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


class TestEditAgendaItem:
    def test_only_the_changed_fields_are_recorded(self, scheduled: Harness) -> None:
        h = scheduled
        events = h.run(CHAIR, {"type": "edit_agenda_item", "item_id": "i2", "title": "Thảo luận của các phường, xã",
                               "planned_minutes": 60, "documents": ["tham-luan-hai-chau.docx"]}, key="sua")
        assert list(events) == [AgendaItemEdited(item_id="i2", planned_minutes=60,
                                                 documents=("tham-luan-hai-chau.docx",), **h.meta(CHAIR, "sua"))]
        item = h.s.item("i2")
        assert item is not None and (item.planned_minutes, item.documents) == (60, ("tham-luan-hai-chau.docx",))

    def test_no_change_no_event(self, scheduled: Harness) -> None:
        assert scheduled.run(CHAIR, {"type": "edit_agenda_item", "item_id": "i2", "planned_minutes": 45}) == ()

    def test_an_active_item_may_be_edited(self, live: Harness) -> None:
        live.run(CHAIR, {"type": "start_item", "item_id": "i1"})
        live.run(SECRETARY, {"type": "edit_agenda_item", "item_id": "i1", "planned_minutes": 30})

    def test_unknown_item(self, scheduled: Harness) -> None:
        scheduled.refuse(CHAIR, {"type": "edit_agenda_item", "item_id": "i9", "title": "x"}, ErrorCode.UNKNOWN_ITEM,
                         "'i9'")

    @pytest.mark.parametrize("actor", NOT_EDITORS, ids=str)
    def test_others_may_not(self, scheduled: Harness, actor: Actor) -> None:
        scheduled.refuse(actor, {"type": "edit_agenda_item", "item_id": "i2", "title": "x"},
                         ErrorCode.FORBIDDEN)

    def test_not_after_the_end(self, ended: Harness) -> None:
        ended.refuse(CHAIR, {"type": "edit_agenda_item", "item_id": "i2", "title": "x"}, ErrorCode.WRONG_PHASE)

    @pytest.mark.parametrize(("fields", "message"), [
        ({"title": " "}, "title: must not be empty"),
        ({"planned_minutes": 9.5}, "planned_minutes: expected an integer, got number"),
        ({"documents": "a.pdf"}, "documents: expected an array"),
        ({"item_id": ""}, "item_id: '' is not an id"),
        ({"status": "done"}, "status: unknown field"),
    ])
    def test_bad_input(self, scheduled: Harness, fields: dict[str, object], message: str) -> None:
        err = scheduled.refuse(CHAIR, {"type": "edit_agenda_item", "item_id": "i2", **fields},
                               ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


class TestRemoveAgendaItem:
    def test_a_pending_item_is_removed(self, scheduled: Harness) -> None:
        events = scheduled.run(ADMIN, {"type": "remove_agenda_item", "item_id": "i2"}, key="xoa")
        assert list(events) == [AgendaItemRemoved(item_id="i2", **scheduled.meta(ADMIN, "xoa"))]
        assert order(scheduled) == ["i1", "i3"]

    def test_unknown_item(self, scheduled: Harness) -> None:
        scheduled.refuse(ADMIN, {"type": "remove_agenda_item", "item_id": "i9"}, ErrorCode.UNKNOWN_ITEM, "'i9'")

    def test_not_an_item_under_discussion(self, live: Harness) -> None:
        live.run(CHAIR, {"type": "start_item", "item_id": "i1"})
        live.refuse(CHAIR, {"type": "remove_agenda_item", "item_id": "i1"}, ErrorCode.WRONG_ITEM_STATUS,
                    "'i1'", "active")

    def test_not_an_item_discussed_then_reopened(self, live: Harness) -> None:
        live.run(CHAIR, {"type": "start_item", "item_id": "i1"})
        live.run(CHAIR, {"type": "finish_item", "item_id": "i1"})
        live.refuse(CHAIR, {"type": "remove_agenda_item", "item_id": "i1"}, ErrorCode.WRONG_ITEM_STATUS, "done")
        live.run(CHAIR, {"type": "reopen_item", "item_id": "i1"})
        live.refuse(CHAIR, {"type": "remove_agenda_item", "item_id": "i1"}, ErrorCode.WRONG_ITEM_STATUS,
                    "already been discussed")

    def test_not_an_item_the_minutes_refer_to(self, scheduled: Harness) -> None:
        """A note or an action item on it would silently drop out of the minutes."""
        scheduled.note("n1", "Chuẩn bị: mời Sở Xây dựng dự", item_id="i3")
        scheduled.refuse(ADMIN, {"type": "remove_agenda_item", "item_id": "i3"}, ErrorCode.WRONG_ITEM_STATUS,
                         "'i3'", "notes")

    def test_not_an_item_an_action_item_refers_to(self, live: Harness) -> None:
        live.action("a1", HAI_CHAU, item_id="i3")
        live.refuse(ADMIN, {"type": "remove_agenda_item", "item_id": "i3"}, ErrorCode.WRONG_ITEM_STATUS,
                    "action items")

    @pytest.mark.parametrize("actor", NOT_EDITORS, ids=str)
    def test_others_may_not(self, scheduled: Harness, actor: Actor) -> None:
        scheduled.refuse(actor, {"type": "remove_agenda_item", "item_id": "i2"}, ErrorCode.FORBIDDEN)

    def test_not_after_the_end(self, ended: Harness) -> None:
        ended.refuse(ADMIN, {"type": "remove_agenda_item", "item_id": "i3"}, ErrorCode.WRONG_PHASE)

    def test_bad_input(self, scheduled: Harness) -> None:
        scheduled.refuse(ADMIN, {"type": "remove_agenda_item", "item_id": ["i2"]}, ErrorCode.INVALID_COMMAND,
                         "item_id: expected a string, got array")
        scheduled.refuse(ADMIN, {"type": "remove_agenda_item"}, ErrorCode.INVALID_COMMAND, "item_id: missing")


class TestReorderAgenda:
    def test_a_new_order(self, scheduled: Harness) -> None:
        events = scheduled.run(SECRETARY, {"type": "reorder_agenda", "order": ["i3", "i1", "i2"]}, key="xep")
        assert list(events) == [AgendaReordered(order=("i3", "i1", "i2"), **scheduled.meta(SECRETARY, "xep"))]
        assert order(scheduled) == ["i3", "i1", "i2"]

    def test_the_same_order_yields_nothing(self, scheduled: Harness) -> None:
        assert scheduled.run(SECRETARY, {"type": "reorder_agenda", "order": ["i1", "i2", "i3"]}) == ()

    def test_unknown_items_are_named(self, scheduled: Harness) -> None:
        scheduled.refuse(SECRETARY, {"type": "reorder_agenda", "order": ["i3", "x1", "i1", "i2", "x2"]},
                         ErrorCode.BAD_ORDER, "unknown agenda item(s): x1, x2")

    def test_an_item_twice(self, scheduled: Harness) -> None:
        scheduled.refuse(SECRETARY, {"type": "reorder_agenda", "order": ["i3", "i1", "i2", "i1"]},
                         ErrorCode.BAD_ORDER, "twice")

    def test_an_item_left_out(self, scheduled: Harness) -> None:
        scheduled.refuse(SECRETARY, {"type": "reorder_agenda", "order": ["i3", "i1"]}, ErrorCode.BAD_ORDER,
                         "leaves out: i2")

    @pytest.mark.parametrize("actor", NOT_EDITORS, ids=str)
    def test_others_may_not(self, scheduled: Harness, actor: Actor) -> None:
        scheduled.refuse(actor, {"type": "reorder_agenda", "order": ["i3", "i1", "i2"]}, ErrorCode.FORBIDDEN)

    def test_not_after_the_end(self, ended: Harness) -> None:
        ended.refuse(CHAIR, {"type": "reorder_agenda", "order": ["i3", "i1", "i2"]}, ErrorCode.WRONG_PHASE)

    @pytest.mark.parametrize(("fields", "message"), [
        ({"order": "i3,i1,i2"}, "order: expected an array, got string"),
        ({"order": ["i3", 1, "i2"]}, "order[1]: expected a string, got integer"),
        ({"order": [f"i{n}" for n in range(201)]}, "order: at most 200 items"),
        ({}, "order: missing"),
    ])
    def test_bad_input(self, scheduled: Harness, fields: dict[str, object], message: str) -> None:
        err = scheduled.refuse(SECRETARY, {"type": "reorder_agenda", **fields}, ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


NOT_CHAIR = [ADMIN, SECRETARY, OBSERVER, site(HAI_CHAU), SYSTEM]


class TestStartItem:
    def test_the_chair_starts_an_item(self, live: Harness) -> None:
        events = live.run(CHAIR, {"type": "start_item", "item_id": "i1"}, key="bd")
        assert list(events) == [ItemStarted(item_id="i1", **live.meta(CHAIR, "bd"))]
        item = live.s.item("i1")
        assert item is not None and item.status is ItemStatus.ACTIVE and item.runs == [Run(started=live.now)]
        assert live.s.active_item() is item

    def test_starting_the_next_finishes_the_active_one(self, live: Harness) -> None:
        live.run(CHAIR, {"type": "start_item", "item_id": "i1"})
        live.tick(1500)
        events = live.run(CHAIR, {"type": "start_item", "item_id": "i2"}, key="tiep")
        m = live.meta(CHAIR, "tiep")
        assert list(events) == [ItemFinished(item_id="i1", **m), ItemStarted(item_id="i2", **m)]
        assert [i.status for i in live.s.agenda] == [ItemStatus.DONE, ItemStatus.ACTIVE, ItemStatus.PENDING]

    @pytest.mark.parametrize("status", ["active", "done", "skipped"])
    def test_only_a_pending_item(self, live: Harness, status: str) -> None:
        live.run(CHAIR, {"type": "start_item", "item_id": "i1"})
        if status == "done":
            live.run(CHAIR, {"type": "finish_item", "item_id": "i1"})
        if status == "skipped":
            live.run(CHAIR, {"type": "skip_item", "item_id": "i2"})
        item_id = "i2" if status == "skipped" else "i1"
        live.refuse(CHAIR, {"type": "start_item", "item_id": item_id}, ErrorCode.WRONG_ITEM_STATUS, status,
                    "pending")

    def test_unknown_item(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "start_item", "item_id": "i9"}, ErrorCode.UNKNOWN_ITEM, "'i9'")

    @pytest.mark.parametrize("phase", ["scheduled", "rehearsal", "ended"])
    def test_only_live(self, phase: str) -> None:
        build(phase).refuse(CHAIR, {"type": "start_item", "item_id": "i3"}, ErrorCode.WRONG_PHASE, "live")

    @pytest.mark.parametrize("actor", NOT_CHAIR, ids=str)
    def test_only_the_chair(self, live: Harness, actor: Actor) -> None:
        live.refuse(actor, {"type": "start_item", "item_id": "i1"}, ErrorCode.FORBIDDEN, "chair")

    def test_bad_input(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "start_item", "item_id": None}, ErrorCode.INVALID_COMMAND,
                    "item_id: expected a string, got null")


class TestFinishItem:
    def test_the_chair_finishes_the_active_item(self, live: Harness) -> None:
        live.run(CHAIR, {"type": "start_item", "item_id": "i1"})
        live.tick(25 * 60)
        events = live.run(CHAIR, {"type": "finish_item", "item_id": "i1"}, key="xong")
        assert list(events) == [ItemFinished(item_id="i1", **live.meta(CHAIR, "xong"))]
        item = live.s.item("i1")
        assert item is not None and item.status is ItemStatus.DONE
        assert item.runs == [Run(started=datetime(2025, 10, 3, 8, 0, tzinfo=VN), ended=live.now)]
        assert overrun_seconds(item, live.now) == 5 * 60
        assert live.s.active_item() is None

    def test_only_the_active_item(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "finish_item", "item_id": "i1"}, ErrorCode.WRONG_ITEM_STATUS, "pending",
                    "active")

    def test_unknown_item(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "finish_item", "item_id": "i9"}, ErrorCode.UNKNOWN_ITEM)

    def test_only_live(self, ended: Harness) -> None:
        ended.refuse(CHAIR, {"type": "finish_item", "item_id": "i1"}, ErrorCode.WRONG_PHASE)

    @pytest.mark.parametrize("actor", NOT_CHAIR, ids=str)
    def test_only_the_chair(self, live: Harness, actor: Actor) -> None:
        live.run(CHAIR, {"type": "start_item", "item_id": "i1"})
        live.refuse(actor, {"type": "finish_item", "item_id": "i1"}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "finish_item", "item": "i1"}, ErrorCode.INVALID_COMMAND, "item: unknown field")


class TestSkipItem:
    def test_the_chair_skips_a_pending_item(self, live: Harness) -> None:
        events = live.run(CHAIR, {"type": "skip_item", "item_id": "i2"}, key="bo")
        assert list(events) == [ItemSkipped(item_id="i2", **live.meta(CHAIR, "bo"))]
        assert live.s.item("i2").status is ItemStatus.SKIPPED  # type: ignore[union-attr]
        assert live.s.item("i2").runs == []  # type: ignore[union-attr]

    def test_not_the_active_item(self, live: Harness) -> None:
        live.run(CHAIR, {"type": "start_item", "item_id": "i1"})
        live.refuse(CHAIR, {"type": "skip_item", "item_id": "i1"}, ErrorCode.WRONG_ITEM_STATUS, "active")

    def test_unknown_item(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "skip_item", "item_id": "i9"}, ErrorCode.UNKNOWN_ITEM)

    def test_only_live(self, rehearsal: Harness) -> None:
        rehearsal.refuse(CHAIR, {"type": "skip_item", "item_id": "i2"}, ErrorCode.WRONG_PHASE, "rehearsal")

    @pytest.mark.parametrize("actor", NOT_CHAIR, ids=str)
    def test_only_the_chair(self, live: Harness, actor: Actor) -> None:
        live.refuse(actor, {"type": "skip_item", "item_id": "i2"}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "skip_item", "item_id": 2}, ErrorCode.INVALID_COMMAND, "item_id: expected a string")


class TestReopenItem:
    @pytest.mark.parametrize("how", ["finish_item", "skip_item"])
    def test_a_done_or_skipped_item_is_pending_again(self, live: Harness, how: str) -> None:
        if how == "finish_item":
            live.run(CHAIR, {"type": "start_item", "item_id": "i1"})
        live.run(CHAIR, {"type": how, "item_id": "i1"})
        events = live.run(CHAIR, {"type": "reopen_item", "item_id": "i1"}, key="mo-lai")
        assert list(events) == [ItemReopened(item_id="i1", **live.meta(CHAIR, "mo-lai"))]
        assert live.s.item("i1").status is ItemStatus.PENDING  # type: ignore[union-attr]

    def test_a_reopened_item_runs_again_and_its_time_adds_up(self, live: Harness) -> None:
        live.run(CHAIR, {"type": "start_item", "item_id": "i3"})
        live.tick(600)
        live.run(CHAIR, {"type": "finish_item", "item_id": "i3"})
        live.run(CHAIR, {"type": "reopen_item", "item_id": "i3"})
        live.tick(60)
        live.run(CHAIR, {"type": "start_item", "item_id": "i3"})
        live.tick(420)
        item = live.s.item("i3")
        assert item is not None and len(item.runs) == 2
        assert overrun_seconds(item, live.now) == 120   # 10 + 7 minutes against 15 planned

    @pytest.mark.parametrize("status", ["pending", "active"])
    def test_not_a_pending_or_active_item(self, live: Harness, status: str) -> None:
        if status == "active":
            live.run(CHAIR, {"type": "start_item", "item_id": "i1"})
        live.refuse(CHAIR, {"type": "reopen_item", "item_id": "i1"}, ErrorCode.WRONG_ITEM_STATUS, status)

    def test_unknown_item(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "reopen_item", "item_id": "i9"}, ErrorCode.UNKNOWN_ITEM)

    def test_only_live(self, ended: Harness) -> None:
        ended.refuse(CHAIR, {"type": "reopen_item", "item_id": "i1"}, ErrorCode.WRONG_PHASE)

    @pytest.mark.parametrize("actor", NOT_CHAIR, ids=str)
    def test_only_the_chair(self, live: Harness, actor: Actor) -> None:
        live.run(CHAIR, {"type": "skip_item", "item_id": "i1"})
        live.refuse(actor, {"type": "reopen_item", "item_id": "i1"}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "reopen_item"}, ErrorCode.INVALID_COMMAND, "item_id: missing")
