"""Minutes: notes and conclusions per agenda item (secretaries and the chair), approval by
the chair (immutable, hashed, chained), corrections, distribution and receipts."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from scheduling_builders import (
    ADMIN,
    AN_HAI,
    CHAIR,
    HAI_CHAU,
    HOA_BAC,
    HOA_NINH,
    MAIN,
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
    Actor,
    CorrectionOpened,
    ErrorCode,
    MinutesAcknowledged,
    MinutesApproved,
    MinutesDistributed,
    MinutesOpened,
    MinutesVersion,
    Note,
    NoteAdded,
    NoteDeleted,
    NoteEdited,
    NoteKind,
    Receipt,
    chain_hash,
    minutes_content,
)
from scheduling.minutes import GENESIS

NOT_WRITERS = [ADMIN, OBSERVER, STRANGER, site(HAI_CHAU), SYSTEM]


def approve(h: Harness) -> None:
    h.run(CHAIR, {"type": "approve_minutes"})


class TestAddNote:
    @pytest.mark.parametrize("actor", [SECRETARY, CHAIR], ids=str)
    def test_a_secretary_or_the_chair_adds_a_note(self, live: Harness, actor: Actor) -> None:
        live.run(CHAIR, {"type": "start_item", "item_id": "i1"})
        events = live.run(actor, {"type": "add_note", "note_id": "n1", "item_id": "i1",
                                  "text": "GRDP quý III tăng 7,2% so với cùng kỳ."}, key="ghi")
        assert list(events) == [NoteAdded(note_id="n1", item_id="i1", kind=NoteKind.NOTE,
                                          text="GRDP quý III tăng 7,2% so với cùng kỳ.", **live.meta(actor, "ghi"))]
        assert live.s.notes == {"n1": Note(note_id="n1", item_id="i1", kind=NoteKind.NOTE,
                                           text="GRDP quý III tăng 7,2% so với cùng kỳ.", author=actor.ref,
                                           created=live.now, updated=live.now)}

    def test_a_general_conclusion(self, ended: Harness) -> None:
        ended.run(SECRETARY, {"type": "add_note", "note_id": "kl", "kind": "conclusion",
                              "text": "Giao Sở Tài chính tổng hợp, báo cáo trước ngày 15/10."})
        assert ended.s.notes["kl"].item_id is None and ended.s.notes["kl"].kind is NoteKind.CONCLUSION

    @pytest.mark.parametrize("phase", ["scheduled", "rehearsal", "live", "ended"])
    def test_from_scheduled_until_approved(self, phase: str) -> None:
        build(phase).note("n9", "Ghi chú")

    @pytest.mark.parametrize("phase", ["draft", "cancelled"])
    def test_not_in_draft_or_cancelled(self, phase: str) -> None:
        build(phase).refuse(SECRETARY, {"type": "add_note", "note_id": "n9", "text": "x"}, ErrorCode.WRONG_PHASE)

    def test_not_once_approved(self, ended: Harness) -> None:
        approve(ended)
        ended.refuse(SECRETARY, {"type": "add_note", "note_id": "n9", "text": "x"}, ErrorCode.MINUTES_APPROVED,
                     "version 1", "open a correction")

    def test_note_ids_are_unique(self, ended: Harness) -> None:
        ended.refuse(SECRETARY, {"type": "add_note", "note_id": "n1", "text": "x"}, ErrorCode.NOTE_EXISTS, "'n1'")

    def test_unknown_item(self, ended: Harness) -> None:
        ended.refuse(SECRETARY, {"type": "add_note", "note_id": "n9", "item_id": "i9", "text": "x"},
                     ErrorCode.UNKNOWN_ITEM, "'i9'")

    @pytest.mark.parametrize("actor", NOT_WRITERS, ids=str)
    def test_others_may_not(self, live: Harness, actor: Actor) -> None:
        live.refuse(actor, {"type": "add_note", "note_id": "n9", "text": "x"}, ErrorCode.FORBIDDEN)

    @pytest.mark.parametrize(("fields", "message"), [
        ({"text": ""}, "text: must not be empty"),
        ({"text": "a\x07b"}, "text: control characters are not allowed"),
        ({"kind": "summary"}, "kind: 'summary' is not one of note, conclusion"),
        ({"note_id": "ghi chú"}, "note_id: 'ghi chú' is not an id"),
        ({"item_id": 1}, "item_id: expected a string, got integer"),
    ])
    def test_bad_input(self, live: Harness, fields: dict[str, Any], message: str) -> None:
        err = live.refuse(SECRETARY, {"type": "add_note", "note_id": "n9", "text": "x", **fields},
                          ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


class TestEditNote:
    def test_a_note_is_rewritten_from_its_revision(self, ended: Harness) -> None:
        h = ended
        created = h.s.notes["n1"].created
        h.tick(60)
        events = h.run(CHAIR, {"type": "edit_note", "note_id": "n1", "text": "GRDP quý III tăng 7,4%.", "rev": 1},
                       key="sua")
        assert list(events) == [NoteEdited(note_id="n1", text="GRDP quý III tăng 7,4%.", rev=2,
                                           **h.meta(CHAIR, "sua"))]
        note = h.s.notes["n1"]
        assert (note.text, note.rev, note.created, note.updated) == ("GRDP quý III tăng 7,4%.", 2, created, h.now)
        assert note.author == SECRETARY.ref, "the author stays the one who wrote it"

    def test_two_editors_at_once_the_second_is_told(self, ended: Harness) -> None:
        ended.run(SECRETARY, {"type": "edit_note", "note_id": "n1", "text": "Bản của thư ký", "rev": 1})
        ended.refuse(CHAIR, {"type": "edit_note", "note_id": "n1", "text": "Bản của chủ trì", "rev": 1},
                     ErrorCode.EDIT_CONFLICT, "revision 2, yours 1")

    def test_the_same_text_yields_nothing(self, ended: Harness) -> None:
        assert ended.run(SECRETARY, {"type": "edit_note", "note_id": "n1", "rev": 1,
                                     "text": "Tăng trưởng GRDP quý III đạt 7,2%."}) == ()

    def test_unknown_note(self, ended: Harness) -> None:
        ended.refuse(SECRETARY, {"type": "edit_note", "note_id": "n9", "text": "x", "rev": 1}, ErrorCode.UNKNOWN_NOTE)

    def test_not_once_approved(self, ended: Harness) -> None:
        approve(ended)
        ended.refuse(SECRETARY, {"type": "edit_note", "note_id": "n1", "text": "x", "rev": 1},
                     ErrorCode.MINUTES_APPROVED)

    @pytest.mark.parametrize("actor", NOT_WRITERS, ids=str)
    def test_others_may_not(self, ended: Harness, actor: Actor) -> None:
        ended.refuse(actor, {"type": "edit_note", "note_id": "n1", "text": "x", "rev": 1}, ErrorCode.FORBIDDEN)

    @pytest.mark.parametrize(("fields", "message"), [
        ({"rev": "1"}, "rev: expected an integer, got string"),
        ({"rev": None}, "rev: expected an integer, got null"),
        ({"text": "\x1b[31m"}, "text: control characters"),
    ])
    def test_bad_input(self, ended: Harness, fields: dict[str, Any], message: str) -> None:
        err = ended.refuse(SECRETARY, {"type": "edit_note", "note_id": "n1", "text": "x", "rev": 1, **fields},
                           ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message

    def test_missing_revision(self, ended: Harness) -> None:
        ended.refuse(SECRETARY, {"type": "edit_note", "note_id": "n1", "text": "x"}, ErrorCode.INVALID_COMMAND,
                     "rev: missing")


class TestDeleteNote:
    def test_a_note_is_deleted(self, ended: Harness) -> None:
        events = ended.run(SECRETARY, {"type": "delete_note", "note_id": "n1", "rev": 1}, key="xoa")
        assert list(events) == [NoteDeleted(note_id="n1", **ended.meta(SECRETARY, "xoa"))]
        assert list(ended.s.notes) == ["c1"]

    def test_not_a_revision_someone_changed(self, ended: Harness) -> None:
        ended.run(CHAIR, {"type": "edit_note", "note_id": "n1", "text": "Đã sửa", "rev": 1})
        ended.refuse(SECRETARY, {"type": "delete_note", "note_id": "n1", "rev": 1}, ErrorCode.EDIT_CONFLICT)

    def test_unknown_note(self, ended: Harness) -> None:
        ended.refuse(SECRETARY, {"type": "delete_note", "note_id": "n9", "rev": 1}, ErrorCode.UNKNOWN_NOTE, "'n9'")

    def test_not_once_approved(self, ended: Harness) -> None:
        approve(ended)
        ended.refuse(SECRETARY, {"type": "delete_note", "note_id": "n1", "rev": 1}, ErrorCode.MINUTES_APPROVED)

    @pytest.mark.parametrize("actor", NOT_WRITERS, ids=str)
    def test_others_may_not(self, ended: Harness, actor: Actor) -> None:
        ended.refuse(actor, {"type": "delete_note", "note_id": "n1", "rev": 1}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, ended: Harness) -> None:
        ended.refuse(SECRETARY, {"type": "delete_note", "note_id": "n1", "rev": True}, ErrorCode.INVALID_COMMAND,
                     "rev: expected an integer, got boolean")


class TestApproveMinutes:
    def test_the_chair_approves_and_the_version_is_hashed(self, ended: Harness) -> None:
        h = ended
        content = minutes_content(h.s)
        h.tick(1800)
        events = h.run(CHAIR, {"type": "approve_minutes"}, key="duyet")
        sha = chain_hash(GENESIS, content)
        assert list(events) == [MinutesApproved(version=1, sha256=sha, prev_sha256=GENESIS, content=content,
                                                **h.meta(CHAIR, "duyet"))]
        assert h.s.minutes.approved == [MinutesVersion(version=1, approved_at=h.now, approved_by=CHAIR.ref,
                                                       sha256=sha, prev_sha256=GENESIS, content=content)]
        assert not h.s.minutes.editing and h.s.minutes.draft_version == 2
        assert content["agenda"][0]["notes"] == ["Tăng trưởng GRDP quý III đạt 7,2%."]
        assert content["agenda"][0]["conclusions"] == ["Các phường, xã đẩy nhanh giải ngân vốn đầu tư công."]

    def test_not_twice_without_a_correction(self, ended: Harness) -> None:
        approve(ended)
        ended.refuse(CHAIR, {"type": "approve_minutes"}, ErrorCode.NOTHING_TO_APPROVE, "open a correction")

    @pytest.mark.parametrize("phase", ["scheduled", "rehearsal", "live", "cancelled"])
    def test_only_after_the_end(self, phase: str) -> None:
        build(phase).refuse(CHAIR, {"type": "approve_minutes"}, ErrorCode.WRONG_PHASE, "ended")

    @pytest.mark.parametrize("actor", [ADMIN, SECRETARY, OBSERVER, site(MAIN), SYSTEM], ids=str)
    def test_only_the_chair(self, ended: Harness, actor: Actor) -> None:
        ended.refuse(actor, {"type": "approve_minutes"}, ErrorCode.FORBIDDEN, "chair")

    def test_bad_input(self, ended: Harness) -> None:
        ended.refuse(CHAIR, {"type": "approve_minutes", "sha256": "0" * 64}, ErrorCode.INVALID_COMMAND,
                     "sha256: unknown field")


class TestOpenCorrection:
    @pytest.mark.parametrize("actor", [SECRETARY, CHAIR], ids=str)
    def test_a_correction_opens_version_two(self, ended: Harness, actor: Actor) -> None:
        approve(ended)
        events = ended.run(actor, {"type": "open_correction", "reason": "Sai số liệu GRDP"}, key="dinh-chinh")
        assert list(events) == [CorrectionOpened(version=2, reason="Sai số liệu GRDP",
                                                 **ended.meta(actor, "dinh-chinh"))]
        assert ended.s.minutes.editing and ended.s.minutes.draft_version == 2

    def test_approving_after_a_correction_chains_the_hashes(self, ended: Harness) -> None:
        h = ended
        approve(h)
        v1 = copy.deepcopy(h.s.minutes.approved[0])
        h.run(SECRETARY, {"type": "open_correction", "reason": "Sai số liệu GRDP"})
        h.run(SECRETARY, {"type": "edit_note", "note_id": "n1", "text": "GRDP quý III tăng 7,4%.", "rev": 1})
        approve(h)
        v1_after, v2 = h.s.minutes.approved
        assert v1_after == v1, "an approved version never changes"
        assert (v2.version, v2.prev_sha256) == (2, v1.sha256)
        assert v2.sha256 == chain_hash(v1.sha256, v2.content) != v1.sha256
        assert v1.content["agenda"][0]["notes"] == ["Tăng trưởng GRDP quý III đạt 7,2%."]
        assert v2.content["agenda"][0]["notes"] == ["GRDP quý III tăng 7,4%."]
        assert (v1.content["header"]["version"], v2.content["header"]["version"]) == (1, 2)

    def test_a_draft_needs_no_correction(self, ended: Harness) -> None:
        ended.refuse(SECRETARY, {"type": "open_correction", "reason": "x"}, ErrorCode.NOT_APPROVED, "draft")

    def test_not_twice(self, ended: Harness) -> None:
        approve(ended)
        ended.run(SECRETARY, {"type": "open_correction", "reason": "x"})
        ended.refuse(SECRETARY, {"type": "open_correction", "reason": "y"}, ErrorCode.NOT_APPROVED)

    @pytest.mark.parametrize("actor", NOT_WRITERS, ids=str)
    def test_others_may_not(self, ended: Harness, actor: Actor) -> None:
        approve(ended)
        ended.refuse(actor, {"type": "open_correction", "reason": "x"}, ErrorCode.FORBIDDEN)

    @pytest.mark.parametrize(("fields", "message"), [({}, "reason: missing"), ({"reason": ""}, "reason: must not be empty")])
    def test_bad_input(self, ended: Harness, fields: dict[str, Any], message: str) -> None:
        approve(ended)
        err = ended.refuse(SECRETARY, {"type": "open_correction", **fields}, ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


@pytest.fixture
def approved(ended: Harness) -> Harness:
    approve(ended)
    return ended


class TestDistributeMinutes:
    def test_to_every_invited_site_by_default(self, approved: Harness) -> None:
        events = approved.run(SECRETARY, {"type": "distribute_minutes", "version": 1, "accounts": ["chu_tri"]},
                              key="gui")
        everyone = (MAIN, HAI_CHAU, THANH_KHE, HOA_BAC, HOA_NINH)
        assert list(events) == [MinutesDistributed(version=1, sites=everyone, accounts=("chu_tri",),
                                                   **approved.meta(SECRETARY, "gui"))]
        assert approved.s.minutes.receipts[1] == {c: Receipt(delivered_at=approved.now) for c in everyone}
        assert approved.s.minutes.accounts[1] == ("chu_tri",)

    def test_to_chosen_sites_and_only_once_to_each(self, approved: Harness) -> None:
        approved.run(CHAIR, {"type": "distribute_minutes", "version": 1, "sites": [HAI_CHAU]})
        events = approved.run(CHAIR, {"type": "distribute_minutes", "version": 1, "sites": [HAI_CHAU, HOA_BAC]})
        assert events[0].sites == (HOA_BAC,)  # type: ignore[attr-defined]
        assert approved.run(CHAIR, {"type": "distribute_minutes", "version": 1, "sites": [HAI_CHAU, HOA_BAC]}) == ()

    def test_unknown_version(self, approved: Harness) -> None:
        approved.refuse(SECRETARY, {"type": "distribute_minutes", "version": 2}, ErrorCode.UNKNOWN_VERSION, "2")
        approved.refuse(SECRETARY, {"type": "distribute_minutes", "version": 0}, ErrorCode.UNKNOWN_VERSION)

    def test_nothing_approved_nothing_to_send(self, ended: Harness) -> None:
        ended.refuse(SECRETARY, {"type": "distribute_minutes", "version": 1}, ErrorCode.UNKNOWN_VERSION)

    def test_not_to_an_uninvited_site(self, approved: Harness) -> None:
        approved.refuse(SECRETARY, {"type": "distribute_minutes", "version": 1, "sites": [HAI_CHAU, AN_HAI]},
                        ErrorCode.SITE_NOT_INVITED, AN_HAI)

    @pytest.mark.parametrize("actor", NOT_WRITERS, ids=str)
    def test_others_may_not(self, approved: Harness, actor: Actor) -> None:
        approved.refuse(actor, {"type": "distribute_minutes", "version": 1}, ErrorCode.FORBIDDEN)

    @pytest.mark.parametrize(("fields", "message"), [
        ({"version": "1"}, "version: expected an integer, got string"),
        ({"sites": [HAI_CHAU, HAI_CHAU]}, "sites: duplicates are not allowed"),
        ({"accounts": ["Chủ trì"]}, "accounts[0]:"),
        ({"accounts": ["thu_ky"] * 501}, "accounts: at most 500"),
        ({"accounts": ["thu_ky", "chu_tri", "thu_ky"]}, "accounts: duplicates are not allowed"),
    ])
    def test_bad_input(self, approved: Harness, fields: dict[str, Any], message: str) -> None:
        err = approved.refuse(SECRETARY, {"type": "distribute_minutes", "version": 1, **fields},
                              ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


@pytest.fixture
def distributed(approved: Harness) -> Harness:
    approved.run(SECRETARY, {"type": "distribute_minutes", "version": 1, "sites": [HAI_CHAU, THANH_KHE]})
    approved.tick(3600)
    return approved


class TestOpenMinutes:
    def test_a_site_opens_what_it_received(self, distributed: Harness) -> None:
        h = distributed
        events = h.run(site(HAI_CHAU), {"type": "open_minutes", "version": 1, "site": HAI_CHAU}, key="xem")
        assert list(events) == [MinutesOpened(version=1, site=HAI_CHAU, **h.meta(site(HAI_CHAU), "xem"))]
        assert h.s.minutes.receipts[1][HAI_CHAU].opened_at == h.now
        h.tick(60)
        assert h.run(site(HAI_CHAU), {"type": "open_minutes", "version": 1, "site": HAI_CHAU}) == ()

    def test_not_what_was_not_sent(self, distributed: Harness) -> None:
        distributed.refuse(site(HOA_BAC), {"type": "open_minutes", "version": 1, "site": HOA_BAC},
                           ErrorCode.NOT_DISTRIBUTED, HOA_BAC)

    def test_unknown_version(self, distributed: Harness) -> None:
        distributed.refuse(site(HAI_CHAU), {"type": "open_minutes", "version": 3, "site": HAI_CHAU},
                           ErrorCode.UNKNOWN_VERSION)

    def test_not_for_another_site(self, distributed: Harness) -> None:
        distributed.refuse(site(THANH_KHE), {"type": "open_minutes", "version": 1, "site": HAI_CHAU},
                           ErrorCode.NOT_OWN_SITE)

    @pytest.mark.parametrize("actor", [ADMIN, CHAIR, SECRETARY, OBSERVER, SYSTEM], ids=str)
    def test_only_the_site_itself(self, distributed: Harness, actor: Actor) -> None:
        distributed.refuse(actor, {"type": "open_minutes", "version": 1, "site": HAI_CHAU}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, distributed: Harness) -> None:
        distributed.refuse(site(HAI_CHAU), {"type": "open_minutes", "site": HAI_CHAU}, ErrorCode.INVALID_COMMAND,
                           "version: missing")


class TestAcknowledgeMinutes:
    def test_a_site_acknowledges(self, distributed: Harness) -> None:
        h = distributed
        h.run(site(HAI_CHAU), {"type": "open_minutes", "version": 1, "site": HAI_CHAU})
        opened = h.now
        h.tick(600)
        events = h.run(site(HAI_CHAU), {"type": "acknowledge_minutes", "version": 1, "site": HAI_CHAU}, key="da-nhan")
        assert list(events) == [MinutesAcknowledged(version=1, site=HAI_CHAU, **h.meta(site(HAI_CHAU), "da-nhan"))]
        r = h.s.minutes.receipts[1][HAI_CHAU]
        assert (r.opened_at, r.acknowledged_at) == (opened, h.now)
        assert h.run(site(HAI_CHAU), {"type": "acknowledge_minutes", "version": 1, "site": HAI_CHAU}) == ()

    def test_acknowledging_unopened_minutes_opens_them(self, distributed: Harness) -> None:
        distributed.run(site(THANH_KHE), {"type": "acknowledge_minutes", "version": 1, "site": THANH_KHE})
        r = distributed.s.minutes.receipts[1][THANH_KHE]
        assert r.opened_at == r.acknowledged_at == distributed.now

    def test_not_what_was_not_sent(self, distributed: Harness) -> None:
        distributed.refuse(site(HOA_NINH), {"type": "acknowledge_minutes", "version": 1, "site": HOA_NINH},
                           ErrorCode.NOT_DISTRIBUTED)

    def test_not_for_another_site(self, distributed: Harness) -> None:
        distributed.refuse(site(THANH_KHE), {"type": "acknowledge_minutes", "version": 1, "site": HAI_CHAU},
                           ErrorCode.NOT_OWN_SITE)

    def test_not_an_uninvited_site(self, distributed: Harness) -> None:
        distributed.refuse(site(AN_HAI), {"type": "acknowledge_minutes", "version": 1, "site": AN_HAI},
                           ErrorCode.SITE_NOT_INVITED)

    @pytest.mark.parametrize("actor", [ADMIN, CHAIR, SECRETARY, OBSERVER, SYSTEM], ids=str)
    def test_only_the_site_itself(self, distributed: Harness, actor: Actor) -> None:
        distributed.refuse(actor, {"type": "acknowledge_minutes", "version": 1, "site": HAI_CHAU}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, distributed: Harness) -> None:
        distributed.refuse(site(HAI_CHAU), {"type": "acknowledge_minutes", "version": 1.0, "site": HAI_CHAU},
                           ErrorCode.INVALID_COMMAND, "version: expected an integer, got number")
