"""Minutes: the secretaries' notes and conclusions per agenda item; approval by the chair
(an approved version is immutable, carries a SHA-256 over its content chained to the
previous version; a correction opens a new version); distribution to sites with receipts,
reminders to the sites that have not acknowledged, and what the server's mailer reports of
the e-mails it sent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .actors import Role, require_self_or
from .base import Command, Event, check_code, check_codes, check_id, check_text, command, event
from .errors import DomainError, ErrorCode, ValidationError
from .reports import chain_hash, minutes_content
from .rules import Ctx, decides, evolves
from .state import ConferenceState, Mailing, MinutesVersion, Note, NoteKind, Phase, Receipt

MAX_NOTE = 20_000
MAX_NOTES = 5_000
GENESIS = "0" * 64
WRITERS = (Role.SECRETARY, Role.CHAIR)
MAX_MAIL_RESULTS = 2_500
RECIPIENT_RE = re.compile(r"^(site:[A-Z0-9][A-Z0-9_-]{0,31}|account:[A-Za-z0-9][A-Za-z0-9_.-]{0,63})\Z")


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


@command
@dataclass(frozen=True, kw_only=True)
class DistributeMinutes(Command):
    """Send an approved version to sites (all invited when ``sites`` is empty) and accounts."""

    TYPE = "distribute_minutes"
    version: int
    sites: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()

    def check(self) -> None:
        check_codes("sites", self.sites, required=False)
        if len(self.accounts) > 500:
            raise ValidationError("accounts: at most 500")
        for i, a in enumerate(self.accounts):
            check_id(f"accounts[{i}]", a)
        if len(set(self.accounts)) != len(self.accounts):
            raise ValidationError("accounts: duplicates are not allowed")


@dataclass(frozen=True, kw_only=True)
class _Receipt(Command):
    version: int
    site: str

    def check(self) -> None:
        check_code("site", self.site)


@command
@dataclass(frozen=True, kw_only=True)
class OpenMinutes(_Receipt):
    TYPE = "open_minutes"


@command
@dataclass(frozen=True, kw_only=True)
class AcknowledgeMinutes(_Receipt):
    TYPE = "acknowledge_minutes"


@command
@dataclass(frozen=True, kw_only=True)
class RemindMinutes(Command):
    """Remind the sites that got a version and have not acknowledged it (all of them when
    ``sites`` is empty); the server e-mails them again."""

    TYPE = "remind_minutes"
    version: int
    sites: tuple[str, ...] = ()

    def check(self) -> None:
        check_codes("sites", self.sites, required=False)


@dataclass(frozen=True, kw_only=True)
class MailResult:
    """One recipient of an e-mail of the minutes: ``site:<code>`` or ``account:<id>``, and
    the SMTP error when the mail was not accepted (empty when it was)."""

    recipient: str
    error: str = ""


@command
@dataclass(frozen=True, kw_only=True)
class RecordMinutesMail(Command):
    """The server's mailer reports the e-mails it sent for a version (system only)."""

    TYPE = "record_minutes_mail"
    version: int
    results: tuple[MailResult, ...]

    def check(self) -> None:
        if not 1 <= len(self.results) <= MAX_MAIL_RESULTS:
            raise ValidationError(f"results: between 1 and {MAX_MAIL_RESULTS}")
        for i, r in enumerate(self.results):
            if not RECIPIENT_RE.match(r.recipient):
                raise ValidationError(f"results[{i}].recipient: {r.recipient[:40]!r} is not site:<code> or account:<id>")
            check_text(f"results[{i}].error", r.error, max_len=500, required=False)
        if len({r.recipient for r in self.results}) != len(self.results):
            raise ValidationError("results: a recipient appears twice")


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


@event
@dataclass(frozen=True, kw_only=True)
class MinutesDistributed(Event):
    TYPE = "minutes_distributed"
    version: int
    sites: tuple[str, ...]
    accounts: tuple[str, ...] = ()


@event
@dataclass(frozen=True, kw_only=True)
class MinutesOpened(Event):
    TYPE = "minutes_opened"
    version: int
    site: str


@event
@dataclass(frozen=True, kw_only=True)
class MinutesAcknowledged(Event):
    TYPE = "minutes_acknowledged"
    version: int
    site: str


@event
@dataclass(frozen=True, kw_only=True)
class MinutesReminded(Event):
    TYPE = "minutes_reminded"
    version: int
    sites: tuple[str, ...]


@event
@dataclass(frozen=True, kw_only=True)
class MinutesMailed(Event):
    TYPE = "minutes_mailed"
    version: int
    results: tuple[MailResult, ...]


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
    ctx.require(Role.CHAIR, what="approve the minutes")
    ctx.require_phase(Phase.ENDED, what="approve the minutes")
    m = ctx.state.minutes
    if not m.editing:
        raise DomainError(ErrorCode.NOTHING_TO_APPROVE, "this version is already approved; open a correction first")
    content = minutes_content(ctx.state, ctx.minutes_inputs)
    prev = m.latest()
    prev_sha = prev.sha256 if prev else GENESIS
    return [MinutesApproved(version=m.draft_version, sha256=chain_hash(prev_sha, content),
                            prev_sha256=prev_sha, content=content, **ctx.meta())]


@decides(OpenCorrection)
def _correct(ctx: Ctx, cmd: OpenCorrection) -> list[Event]:
    ctx.require(*WRITERS, what="open a correction of the minutes")
    if ctx.state.minutes.editing:
        raise DomainError(ErrorCode.NOT_APPROVED, "the minutes are still a draft: edit them directly")
    return [CorrectionOpened(version=ctx.state.minutes.draft_version, reason=cmd.reason, **ctx.meta())]


def _approved(ctx: Ctx, version: int) -> MinutesVersion:
    if not 1 <= version <= len(ctx.state.minutes.approved):
        raise DomainError(ErrorCode.UNKNOWN_VERSION, f"no approved version {version} of the minutes")
    return ctx.state.minutes.approved[version - 1]


@decides(DistributeMinutes)
def _distribute(ctx: Ctx, cmd: DistributeMinutes) -> list[Event]:
    ctx.require(*WRITERS, what="distribute the minutes")
    _approved(ctx, cmd.version)
    for code in cmd.sites:
        ctx.require_invited(code)
    targets = cmd.sites or tuple(ctx.state.sites)
    done = ctx.state.minutes.receipts.get(cmd.version, {})
    sent_accounts = ctx.state.minutes.accounts.get(cmd.version, ())
    sites = tuple(c for c in targets if c not in done)
    accounts = tuple(a for a in cmd.accounts if a not in sent_accounts)
    if not sites and not accounts:
        return []
    return [MinutesDistributed(version=cmd.version, sites=sites, accounts=accounts, **ctx.meta())]


def _receipt(ctx: Ctx, cmd: _Receipt, what: str) -> Receipt:
    require_self_or(ctx.state, ctx.actor, cmd.site, what=what)
    _approved(ctx, cmd.version)
    receipt = ctx.state.minutes.receipts.get(cmd.version, {}).get(cmd.site)
    if receipt is None:
        raise DomainError(ErrorCode.NOT_DISTRIBUTED, f"version {cmd.version} was not sent to site {cmd.site}")
    return receipt


@decides(OpenMinutes)
def _open(ctx: Ctx, cmd: OpenMinutes) -> list[Event]:
    receipt = _receipt(ctx, cmd, "open the minutes")
    if receipt.opened_at is not None:
        return []
    return [MinutesOpened(version=cmd.version, site=cmd.site, **ctx.meta())]


@decides(AcknowledgeMinutes)
def _ack(ctx: Ctx, cmd: AcknowledgeMinutes) -> list[Event]:
    receipt = _receipt(ctx, cmd, "acknowledge the minutes")
    if receipt.acknowledged_at is not None:
        return []
    return [MinutesAcknowledged(version=cmd.version, site=cmd.site, **ctx.meta())]


@decides(RemindMinutes)
def _remind(ctx: Ctx, cmd: RemindMinutes) -> list[Event]:
    ctx.require(*WRITERS, what="remind sites of the minutes")
    _approved(ctx, cmd.version)
    receipts = ctx.state.minutes.receipts.get(cmd.version, {})
    for code in cmd.sites:
        ctx.require_invited(code)
        if code not in receipts:
            raise DomainError(ErrorCode.NOT_DISTRIBUTED, f"version {cmd.version} was not sent to site {code}")
    targets = cmd.sites or tuple(receipts)
    pending = tuple(c for c in targets if receipts[c].acknowledged_at is None)
    if not pending:
        return []
    return [MinutesReminded(version=cmd.version, sites=pending, **ctx.meta())]


@decides(RecordMinutesMail)
def _mailed(ctx: Ctx, cmd: RecordMinutesMail) -> list[Event]:
    ctx.require(Role.SYSTEM, what="record the e-mails of the minutes")
    _approved(ctx, cmd.version)
    receipts = ctx.state.minutes.receipts.get(cmd.version, {})
    accounts = ctx.state.minutes.accounts.get(cmd.version, ())
    for r in cmd.results:
        kind, _, who = r.recipient.partition(":")
        if (kind == "site" and who not in receipts) or (kind == "account" and who not in accounts):
            raise DomainError(ErrorCode.NOT_DISTRIBUTED, f"version {cmd.version} was not sent to {r.recipient}")
    return [MinutesMailed(version=cmd.version, results=cmd.results, **ctx.meta())]


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


@evolves(MinutesDistributed)
def _distributed(s: ConferenceState, ev: MinutesDistributed) -> None:
    receipts = s.minutes.receipts.setdefault(ev.version, {})
    for code in ev.sites:
        receipts[code] = Receipt(delivered_at=ev.at)
    s.minutes.accounts[ev.version] = s.minutes.accounts.get(ev.version, ()) + ev.accounts


@evolves(MinutesOpened)
def _opened(s: ConferenceState, ev: MinutesOpened) -> None:
    s.minutes.receipts[ev.version][ev.site].opened_at = ev.at


@evolves(MinutesAcknowledged)
def _acked(s: ConferenceState, ev: MinutesAcknowledged) -> None:
    r = s.minutes.receipts[ev.version][ev.site]
    r.acknowledged_at = ev.at
    if r.opened_at is None:
        r.opened_at = ev.at


@evolves(MinutesReminded)
def _reminded(s: ConferenceState, ev: MinutesReminded) -> None:
    for code in ev.sites:
        r = s.minutes.receipts[ev.version][code]
        r.reminded_at = ev.at
        r.reminders += 1


@evolves(MinutesMailed)
def _mailed_ev(s: ConferenceState, ev: MinutesMailed) -> None:
    mail = s.minutes.mail.setdefault(ev.version, {})
    for r in ev.results:
        mail[r.recipient] = Mailing(at=ev.at, error=r.error)
