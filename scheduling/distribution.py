"""Distribution of approved minutes: sending a version to sites (and accounts), the sites'
receipts (opened, acknowledged), reminders to the sites that have not acknowledged, and what
the server's mailer reports of the e-mails it sent. Writing and approving the minutes is in
minutes.py."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .actors import Role, require_self_or
from .base import Command, Event, check_code, check_codes, check_id, check_text, command, event
from .errors import DomainError, ErrorCode, ValidationError
from .minutes import WRITERS
from .rules import Ctx, decides, evolves
from .state import ConferenceState, Mailing, MinutesVersion, Receipt

MAX_MAIL_RESULTS = 2_500
RECIPIENT_RE = re.compile(r"^(site:[A-Z0-9][A-Z0-9_-]{0,31}|account:[A-Za-z0-9][A-Za-z0-9_.-]{0,63})\Z")


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
