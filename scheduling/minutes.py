"""Minutes: the secretaries' notes and conclusions per agenda item, and their approval by
the chair (an approved version is immutable and carries a SHA-256 over its content chained
to the previous version; a correction opens a new version). Sending an approved version to
the sites, and their receipts, are in distribution.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .actors import Role
from .base import Command, Event, check_id, check_text, command, event
from .errors import DomainError, ErrorCode
from .reports import approval_block, chain_hash, minutes_content
from .rules import Ctx, decides, evolves
from .state import ConferenceState, MinutesVersion, Note, NoteKind, Phase

MAX_NOTE = 20_000
MAX_NOTES = 5_000
GENESIS = "0" * 64
WRITERS = (Role.SECRETARY, Role.CHAIR)


@command
@dataclass(frozen=True, kw_only=True)
class AddNote(Command):
    TYPE = "add_note"
    note_id: str
    item_id: str | None = None
    kind: NoteKind = NoteKind.NOTE
    text: str

    def check(self) -> None:
        check_id("note_id", self.note_id)
        check_text("text", self.text, max_len=MAX_NOTE)


@command
@dataclass(frozen=True, kw_only=True)
class EditNote(Command):
    """Replace a note's text; ``rev`` is the revision the editor started from, so that two
    secretaries editing at once never silently overwrite each other."""

    TYPE = "edit_note"
    note_id: str
    text: str
    rev: int

    def check(self) -> None:
        check_text("text", self.text, max_len=MAX_NOTE)


@command
@dataclass(frozen=True, kw_only=True)
class DeleteNote(Command):
    TYPE = "delete_note"
    note_id: str
    rev: int


@command
@dataclass(frozen=True, kw_only=True)
class ApproveMinutes(Command):
    TYPE = "approve_minutes"


@command
@dataclass(frozen=True, kw_only=True)
class OpenCorrection(Command):
    TYPE = "open_correction"
    reason: str

    def check(self) -> None:
        check_text("reason", self.reason, max_len=2000)


@event
@dataclass(frozen=True, kw_only=True)
class NoteAdded(Event):
    TYPE = "note_added"
    note_id: str
    item_id: str | None
    kind: NoteKind
    text: str


@event
@dataclass(frozen=True, kw_only=True)
class NoteEdited(Event):
    TYPE = "note_edited"
    note_id: str
    text: str
    rev: int


@event
@dataclass(frozen=True, kw_only=True)
class NoteDeleted(Event):
    TYPE = "note_deleted"
    note_id: str


@event
@dataclass(frozen=True, kw_only=True)
class MinutesApproved(Event):
    TYPE = "minutes_approved"
    version: int
    sha256: str
    prev_sha256: str
    content: dict[str, Any]


@event
@dataclass(frozen=True, kw_only=True)
class CorrectionOpened(Event):
    TYPE = "correction_opened"
    version: int
    reason: str


def _editable(ctx: Ctx, what: str) -> None:
    ctx.require(*WRITERS, what=what)
    ctx.require_phase(Phase.SCHEDULED, Phase.REHEARSAL, Phase.LIVE, Phase.ENDED, what=what)
    if not ctx.state.minutes.editing:
        v = ctx.state.minutes.latest()
        raise DomainError(ErrorCode.MINUTES_APPROVED,
                          f"version {v.version if v else '?'} of the minutes is approved and cannot change; "
                          "open a correction to make a new version")


def _note(ctx: Ctx, note_id: str, rev: int) -> Note:
    note = ctx.state.notes.get(note_id)
    if note is None:
        raise DomainError(ErrorCode.UNKNOWN_NOTE, f"no note {note_id!r}")
    if note.rev != rev:
        raise DomainError(ErrorCode.EDIT_CONFLICT,
                          f"note {note_id!r} was changed meanwhile (revision {note.rev}, yours {rev}): "
                          "reload it and apply your change again")
    return note


@decides(AddNote)
def _add(ctx: Ctx, cmd: AddNote) -> list[Event]:
    _editable(ctx, "write the minutes")
    if cmd.note_id in ctx.state.notes:
        raise DomainError(ErrorCode.NOTE_EXISTS, f"note {cmd.note_id!r} already exists")
    if cmd.item_id is not None and ctx.state.item(cmd.item_id) is None:
        raise DomainError(ErrorCode.UNKNOWN_ITEM, f"no agenda item {cmd.item_id!r}")
    if len(ctx.state.notes) >= MAX_NOTES:
        raise DomainError(ErrorCode.INVALID_COMMAND, f"a conference has at most {MAX_NOTES} notes")
    return [NoteAdded(note_id=cmd.note_id, item_id=cmd.item_id, kind=cmd.kind, text=cmd.text, **ctx.meta())]


@decides(EditNote)
def _edit(ctx: Ctx, cmd: EditNote) -> list[Event]:
    _editable(ctx, "write the minutes")
    note = _note(ctx, cmd.note_id, cmd.rev)
    if note.text == cmd.text:
        return []
    return [NoteEdited(note_id=cmd.note_id, text=cmd.text, rev=note.rev + 1, **ctx.meta())]


@decides(DeleteNote)
def _delete(ctx: Ctx, cmd: DeleteNote) -> list[Event]:
    _editable(ctx, "write the minutes")
    _note(ctx, cmd.note_id, cmd.rev)
    return [NoteDeleted(note_id=cmd.note_id, **ctx.meta())]


@decides(ApproveMinutes)
def _approve(ctx: Ctx, cmd: ApproveMinutes) -> list[Event]:
    """The chair approves a draft once the conference has ended. The hash covers everything
    the record prints: the content, the approval block (who, as what, when, which version,
    after which hash) and, when the server hands them in, the issuer's settings and number."""
    ctx.require(Role.CHAIR, what="approve the minutes")
    ctx.require_phase(Phase.ENDED, what="approve the minutes")
    m = ctx.state.minutes
    if not m.editing:
        raise DomainError(ErrorCode.NOTHING_TO_APPROVE, "this version is already approved; open a correction first")
    content = minutes_content(ctx.state, ctx.minutes_inputs)
    prev = m.latest()
    prev_sha = prev.sha256 if prev else GENESIS
    names = ctx.minutes_inputs.names if ctx.minutes_inputs else {}
    content["approval"] = approval_block(
        version=m.draft_version, approved_by=ctx.actor.id, approver_name=names.get(ctx.actor.id, ""),
        role=Role.CHAIR.value, approved_at=ctx.now, prev_sha256=prev_sha)
    return [MinutesApproved(version=m.draft_version, sha256=chain_hash(prev_sha, content),
                            prev_sha256=prev_sha, content=content, **ctx.meta())]


@decides(OpenCorrection)
def _correct(ctx: Ctx, cmd: OpenCorrection) -> list[Event]:
    ctx.require(*WRITERS, what="open a correction of the minutes")
    if ctx.state.minutes.editing:
        raise DomainError(ErrorCode.NOT_APPROVED, "the minutes are still a draft: edit them directly")
    return [CorrectionOpened(version=ctx.state.minutes.draft_version, reason=cmd.reason, **ctx.meta())]


@evolves(NoteAdded)
def _added(s: ConferenceState, ev: NoteAdded) -> None:
    s.notes[ev.note_id] = Note(note_id=ev.note_id, item_id=ev.item_id, kind=ev.kind, text=ev.text,
                               author=ev.actor, created=ev.at, updated=ev.at)


@evolves(NoteEdited)
def _edited(s: ConferenceState, ev: NoteEdited) -> None:
    note = s.notes[ev.note_id]
    note.text, note.rev, note.updated = ev.text, ev.rev, ev.at


@evolves(NoteDeleted)
def _deleted(s: ConferenceState, ev: NoteDeleted) -> None:
    del s.notes[ev.note_id]


@evolves(MinutesApproved)
def _approved_ev(s: ConferenceState, ev: MinutesApproved) -> None:
    s.minutes.approved.append(MinutesVersion(version=ev.version, approved_at=ev.at, approved_by=ev.actor,
                                             sha256=ev.sha256, prev_sha256=ev.prev_sha256, content=ev.content))
    s.minutes.editing = False


@evolves(CorrectionOpened)
def _corrected(s: ConferenceState, ev: CorrectionOpened) -> None:
    s.minutes.editing = True
