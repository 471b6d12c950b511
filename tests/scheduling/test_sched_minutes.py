"""Minutes: notes and conclusions per agenda item (secretaries and the chair), approval by
the chair (immutable, hashed, chained), corrections. Distribution and receipts are in
test_sched_distribution.py."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from scheduling_builders import (
    ADMIN,
    CHAIR,
    HAI_CHAU,
    MAIN,
    OBSERVER,
    SECRETARY,
    STRANGER,
    SYSTEM,
    Harness,
    build,
    site,
)

from scheduling import (
    Actor,
    CorrectionOpened,
    ErrorCode,
    MinutesApproved,
    MinutesInputs,
    MinutesVersion,
    Note,
    NoteAdded,
    NoteDeleted,
    NoteEdited,
    NoteKind,
    OrgSettings,
    approval_block,
    chain_hash,
    decide,
    minutes_content,
    parse_command,
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
        content["approval"] = approval_block(version=1, approved_by=CHAIR.id, approver_name="", role="chair",
                                             approved_at=h.now, prev_sha256=GENESIS)
        sha = chain_hash(GENESIS, content)
        assert list(events) == [MinutesApproved(version=1, sha256=sha, prev_sha256=GENESIS, content=content,
                                                **h.meta(CHAIR, "duyet"))]
        assert h.s.minutes.approved == [MinutesVersion(version=1, approved_at=h.now, approved_by=CHAIR.ref,
                                                       sha256=sha, prev_sha256=GENESIS, content=content)]
        assert not h.s.minutes.editing and h.s.minutes.draft_version == 2
        assert content["agenda"][0]["notes"] == ["Tăng trưởng GRDP quý III đạt 7,2%."]
        assert content["agenda"][0]["conclusions"] == ["Các phường, xã đẩy nhanh giải ngân vốn đầu tư công."]

    def test_what_the_record_prints_is_inside_its_hash(self, ended: Harness) -> None:
        """The approval block, the issuer's settings and the document number are part of the
        content the hash covers: none of them can be changed without changing the hash."""
        settings = OrgSettings(governing_body="UBND THÀNH PHỐ HÀ NỘI", issuing_body="VĂN PHÒNG", symbol="BB-VP",
                               place="Hà Nội", recipients=("Như trên;", "Lưu: VT, VP."))
        inputs = MinutesInputs(names={CHAIR.id: "Lê Minh Quang"}, organisation=settings, number=(2025, 12))
        ended.tick(600)
        decision = decide(ended.state, parse_command({"type": "approve_minutes", "key": "duyet"}), CHAIR,
                          now=ended.now, directory=ended.directory, accounts=ended.accounts, minutes_inputs=inputs)
        (ev,) = decision.events
        c = ev.content  # type: ignore[attr-defined]
        assert c["approval"] == {"version": 1, "approved_by": CHAIR.id, "approver_name": "Lê Minh Quang",
                                 "role": "chair", "approved_at": ended.now.isoformat(), "prev_sha256": GENESIS}
        assert c["record"]["number_text"] == "12/BB-VP" and c["record"]["place"] == "Hà Nội"
        assert c["record"]["recipients"] == ["Như trên;", "Lưu: VT, VP."]
        for path in (("approval", "approved_by"), ("approval", "approved_at"), ("record", "place"),
                     ("record", "number_text"), ("record", "issuing_body")):
            forged = copy.deepcopy(c)
            forged[path[0]][path[1]] = "thu-ky"
            assert chain_hash(GENESIS, forged) != ev.sha256, path  # type: ignore[attr-defined]

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
