"""Conference lifecycle: draft -> scheduled -> rehearsal -> live -> ended (or cancelled);
its settings, staff, and invited sites."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .actors import Actor, Role, require
from .agenda import ItemFinished
from .base import Command, Event, check_codes, check_id, check_range, check_text, command, event
from .directory import Directory, SiteInfo, SiteKind
from .errors import DomainError, ErrorCode, ValidationError
from .floor import FloorEnded, FloorRequestWithdrawn, SiteMuted
from .presentation import at_conference_end
from .rules import OPEN_PHASES, Ctx, check_accounts, decides, evolves
from .state import (
    DEFAULT_TZ,
    Attendance,
    ConferenceKind,
    ConferenceState,
    ItemStatus,
    Phase,
)

MAX_STAFF = 50
MAX_SPEAKERS = 16


def _check_common(title: str | None, tz: str | None, starts: datetime | None, ends: datetime | None,
                  staff: tuple[str, ...], max_speakers: int | None, description: str | None) -> None:
    if title is not None:
        check_text("title", title, max_len=300)
    if description is not None:
        check_text("description", description, max_len=5000, required=False)
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, OSError):   # OSError: a name too long for a file
            raise ValidationError(f"timezone: {tz[:60]!r} is not an IANA time zone") from None
    if starts is not None and ends is not None:
        if ends <= starts:
            raise ValidationError("ends_at: must be after starts_at")
        if ends - starts > timedelta(days=7):
            raise ValidationError("ends_at: a conference lasts at most 7 days")
    if len(staff) > MAX_STAFF:
        raise ValidationError(f"secretaries/observers: at most {MAX_STAFF}")
    for i, who in enumerate(staff):
        check_id(f"staff[{i}]", who)
    if max_speakers is not None:
        check_range("max_speakers", max_speakers, 1, MAX_SPEAKERS)


@command
@dataclass(frozen=True, kw_only=True)
class CreateConference(Command):
    TYPE = "create_conference"
    conference_id: str
    title: str
    kind: ConferenceKind = ConferenceKind.OTHER
    starts_at: datetime
    ends_at: datetime
    timezone: str = DEFAULT_TZ
    main_site: str
    chair: str
    secretaries: tuple[str, ...] = ()
    observers: tuple[str, ...] = ()
    max_speakers: int = 1
    series: str = ""
    description: str = ""

    def check(self) -> None:
        check_id("conference_id", self.conference_id)
        check_id("chair", self.chair)
        check_text("series", self.series, max_len=100, required=False)
        _check_common(self.title, self.timezone, self.starts_at, self.ends_at,
                      self.secretaries + self.observers, self.max_speakers, self.description)


EDITABLE_FIELDS: tuple[str, ...] = (
    "title", "kind", "starts_at", "ends_at", "timezone", "chair", "secretaries", "observers", "max_speakers",
    "description", "series")
"""The fields of a conference that ``edit_conference`` may change: ``EditConference`` and
``ConferenceEdited`` carry each of them, optional (client_web/static/js/reducer.js keeps
the same list; tests/scheduling/test_sched_lifecycle.py checks all three)."""

CREATED_FIELDS: tuple[str, ...] = EDITABLE_FIELDS
"""The fields copied as they are from ``create_conference`` to its event and to the state."""


@command
@dataclass(frozen=True, kw_only=True)
class EditConference(Command):
    TYPE = "edit_conference"
    title: str | None = None
    kind: ConferenceKind | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    timezone: str | None = None
    chair: str | None = None
    secretaries: tuple[str, ...] | None = None
    observers: tuple[str, ...] | None = None
    max_speakers: int | None = None
    description: str | None = None
    series: str | None = None

    def check(self) -> None:
        if self.chair is not None:
            check_id("chair", self.chair)
        if self.series is not None:
            check_text("series", self.series, max_len=100, required=False)
        _check_common(self.title, self.timezone, self.starts_at, self.ends_at,
                      (self.secretaries or ()) + (self.observers or ()), self.max_speakers, self.description)


@command
@dataclass(frozen=True, kw_only=True)
class InviteSites(Command):
    """Invite a hand-picked list of sites (``codes``) or a whole ``group`` of the directory."""

    TYPE = "invite_sites"
    codes: tuple[str, ...] = ()
    group: str = ""

    def check(self) -> None:
        if bool(self.codes) == bool(self.group):
            raise ValidationError("codes/group: give either a list of site codes or a group, not both")
        check_codes("codes", self.codes, required=False)
        check_text("group", self.group, max_len=200, required=False)


@command
@dataclass(frozen=True, kw_only=True)
class UninviteSites(Command):
    TYPE = "uninvite_sites"
    codes: tuple[str, ...]

    def check(self) -> None:
        check_codes("codes", self.codes)


@command
@dataclass(frozen=True, kw_only=True)
class ScheduleConference(Command):
    TYPE = "schedule_conference"


@command
@dataclass(frozen=True, kw_only=True)
class StartRehearsal(Command):
    TYPE = "start_rehearsal"


@command
@dataclass(frozen=True, kw_only=True)
class OpenConference(Command):
    TYPE = "open_conference"


@command
@dataclass(frozen=True, kw_only=True)
class EndConference(Command):
    TYPE = "end_conference"


@command
@dataclass(frozen=True, kw_only=True)
class CancelConference(Command):
    TYPE = "cancel_conference"
    reason: str = ""

    def check(self) -> None:
        check_text("reason", self.reason, max_len=1000, required=False)


@event
@dataclass(frozen=True, kw_only=True)
class ConferenceCreated(Event):
    TYPE = "conference_created"
    conference_id: str
    title: str
    kind: ConferenceKind
    starts_at: datetime
    ends_at: datetime
    timezone: str
    main_site: SiteInfo
    chair: str
    secretaries: tuple[str, ...]
    observers: tuple[str, ...]
    max_speakers: int
    series: str
    description: str


@event
@dataclass(frozen=True, kw_only=True)
class ConferenceEdited(Event):
    TYPE = "conference_edited"
    title: str | None = None
    kind: ConferenceKind | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    timezone: str | None = None
    chair: str | None = None
    secretaries: tuple[str, ...] | None = None
    observers: tuple[str, ...] | None = None
    max_speakers: int | None = None
    description: str | None = None
    series: str | None = None


@event
@dataclass(frozen=True, kw_only=True)
class SitesInvited(Event):
    TYPE = "sites_invited"
    sites: tuple[SiteInfo, ...]


@event
@dataclass(frozen=True, kw_only=True)
class SitesUninvited(Event):
    TYPE = "sites_uninvited"
    codes: tuple[str, ...]


@event
@dataclass(frozen=True, kw_only=True)
class PhaseChanged(Event):
    TYPE = "phase_changed"
    phase: Phase
    reason: str = ""


def decide_create(cmd: CreateConference, actor: Actor, now: datetime,
                  directory: Directory | None, accounts: Collection[str] | None) -> list[Event]:
    require(None, actor, Role.ADMIN, what="create a conference")
    if directory is None:
        raise DomainError(ErrorCode.UNKNOWN_SITE, "the site directory is needed to create a conference")
    main = directory.get(cmd.main_site)
    if main.kind is not SiteKind.MAIN:
        raise DomainError(ErrorCode.INVALID_COMMAND, f"site {main.code} is not a main bridge")
    check_accounts(accounts, (cmd.chair, *cmd.secretaries, *cmd.observers))
    return [ConferenceCreated(conference_id=cmd.conference_id, main_site=main,
                              **{name: getattr(cmd, name) for name in CREATED_FIELDS},
                              at=now, actor=actor.ref, key=cmd.key)]


def new_state(ev: ConferenceCreated) -> ConferenceState:
    state = ConferenceState(conference_id=ev.conference_id, main_site=ev.main_site.code,
                            **{name: getattr(ev, name) for name in CREATED_FIELDS})
    state.sites[ev.main_site.code] = ev.main_site
    state.attendance[ev.main_site.code] = Attendance()
    return state


@decides(EditConference)
def _edit(ctx: Ctx, cmd: EditConference) -> list[Event]:
    ctx.require(Role.ADMIN, what="edit the conference")
    ctx.require_phase(*OPEN_PHASES, what="edit the conference")
    s = ctx.state
    starts = cmd.starts_at or s.starts_at
    ends = cmd.ends_at or s.ends_at
    if ends <= starts:
        raise ValidationError("ends_at: must be after starts_at")
    if ends - starts > timedelta(days=7):   # check() sees only the fields given
        raise ValidationError("ends_at: a conference lasts at most 7 days")
    if cmd.max_speakers is not None and cmd.max_speakers < len(s.floor.speakers):
        raise DomainError(ErrorCode.FLOOR_FULL,
                          f"{len(s.floor.speakers)} sites hold the floor: revoke before lowering max_speakers")
    check_accounts(ctx.accounts, (cmd.chair or "", *(cmd.secretaries or ()), *(cmd.observers or ())))
    given = {name: getattr(cmd, name) for name in EDITABLE_FIELDS}
    changes = {k: v for k, v in given.items() if v is not None and v != getattr(s, k)}
    return [ConferenceEdited(**changes, **ctx.meta())] if changes else []


@decides(InviteSites)
def _invite(ctx: Ctx, cmd: InviteSites) -> list[Event]:
    ctx.require(Role.ADMIN, what="invite sites")
    ctx.require_phase(*OPEN_PHASES, what="invite sites")
    if ctx.directory is None:
        raise DomainError(ErrorCode.UNKNOWN_SITE, "the site directory is needed to invite sites")
    chosen = ctx.directory.group(cmd.group) if cmd.group else [ctx.directory.get(c) for c in cmd.codes]
    new = tuple(s for s in chosen if not ctx.state.is_invited(s.code))
    return [SitesInvited(sites=new, **ctx.meta())] if new else []


@decides(UninviteSites)
def _uninvite(ctx: Ctx, cmd: UninviteSites) -> list[Event]:
    ctx.require(Role.ADMIN, what="uninvite sites")
    ctx.require_phase(Phase.DRAFT, Phase.SCHEDULED, Phase.REHEARSAL, what="uninvite sites")
    for code in cmd.codes:
        ctx.require_invited(code)
        if code == ctx.state.main_site:
            raise DomainError(ErrorCode.MAIN_BRIDGE, "the main bridge cannot be uninvited")
    return [SitesUninvited(codes=cmd.codes, **ctx.meta())]


def _phase(ctx: Ctx, to: Phase, *, frm: tuple[Phase, ...], what: str, reason: str = "") -> list[Event]:
    ctx.require_phase(*frm, what=what)
    return [PhaseChanged(phase=to, reason=reason, **ctx.meta())]


@decides(ScheduleConference)
def _schedule(ctx: Ctx, cmd: ScheduleConference) -> list[Event]:
    ctx.require(Role.ADMIN, what="schedule the conference")
    if not ctx.state.remote_sites():
        raise DomainError(ErrorCode.SITE_NOT_INVITED, "invite at least one remote site before scheduling")
    return _phase(ctx, Phase.SCHEDULED, frm=(Phase.DRAFT,), what="schedule")


@decides(StartRehearsal)
def _rehearse(ctx: Ctx, cmd: StartRehearsal) -> list[Event]:
    ctx.require(Role.ADMIN, Role.CHAIR, what="start the rehearsal")
    return _phase(ctx, Phase.REHEARSAL, frm=(Phase.SCHEDULED,), what="start the rehearsal")


@decides(OpenConference)
def _open(ctx: Ctx, cmd: OpenConference) -> list[Event]:
    ctx.require(Role.CHAIR, what="open the conference")
    return _phase(ctx, Phase.LIVE, frm=(Phase.SCHEDULED, Phase.REHEARSAL), what="open")


@decides(EndConference)
def _end(ctx: Ctx, cmd: EndConference) -> list[Event]:
    ctx.require(Role.CHAIR, what="end the conference")
    ctx.require_phase(Phase.LIVE, what="end")
    s, meta = ctx.state, ctx.meta()
    out: list[Event] = at_conference_end(s, meta)   # the presentation stops first
    for site in s.floor.speakers:   # losing the floor closes the microphone, as in floor._end
        out.append(FloorEnded(site=site, reason="ended", **meta))
        if site not in s.floor.muted:
            out.append(SiteMuted(site=site, **meta))
    out += [FloorRequestWithdrawn(site=r.site, **meta) for r in s.floor.queue]
    out += [ItemFinished(item_id=i.item_id, **meta) for i in s.agenda if i.status is ItemStatus.ACTIVE]
    return [*out, PhaseChanged(phase=Phase.ENDED, **meta)]


@decides(CancelConference)
def _cancel(ctx: Ctx, cmd: CancelConference) -> list[Event]:
    ctx.require(Role.ADMIN, what="cancel the conference")
    return _phase(ctx, Phase.CANCELLED, frm=(Phase.DRAFT, Phase.SCHEDULED, Phase.REHEARSAL),
                  what="cancel", reason=cmd.reason)


@evolves(ConferenceEdited)
def _edited(s: ConferenceState, ev: ConferenceEdited) -> None:
    for name in EDITABLE_FIELDS:
        value = getattr(ev, name)
        if value is not None:
            setattr(s, name, value)


@evolves(SitesInvited)
def _invited(s: ConferenceState, ev: SitesInvited) -> None:
    for site in ev.sites:
        s.sites[site.code] = site
        s.attendance.setdefault(site.code, Attendance())
        if site.code != s.main_site:
            s.floor.muted.add(site.code)


@evolves(SitesUninvited)
def _uninvited(s: ConferenceState, ev: SitesUninvited) -> None:
    for code in ev.codes:
        s.sites.pop(code, None)
        s.attendance.pop(code, None)
        s.floor.muted.discard(code)
        s.floor.queue = [r for r in s.floor.queue if r.site != code]


@evolves(PhaseChanged)
def _phase_changed(s: ConferenceState, ev: PhaseChanged) -> None:
    s.phase = ev.phase
    if ev.phase is Phase.LIVE and s.opened_at is None:
        s.opened_at = ev.at
    if ev.phase is Phase.ENDED:
        s.ended_at = ev.at

