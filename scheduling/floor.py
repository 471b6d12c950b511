"""Floor control: sites ask for the floor and wait in an ordered queue; the chair grants it
(with an optional time limit), revokes it, or gives it directly; at most ``max_speakers``
remote sites hold it at once (the main bridge always may speak). Holding the floor opens a
site's microphone; losing it closes it. Speaking turns are recorded for the minutes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from .actors import ActorKind, Role, require_self_or
from .base import Command, Event, check_code, check_range, check_text, command, event
from .errors import DomainError, ErrorCode
from .presentation import after_floor_ended
from .rules import RUNNING, Ctx, decides, evolves
from .state import ConferenceState, FloorRequest, Phase, Speaker, Turn

MAX_LIMIT_S = 4 * 3600
EndReason = Literal["revoked", "released", "expired", "replaced", "ended"]


@dataclass(frozen=True, kw_only=True)
class _SiteCommand(Command):
    site: str

    def check(self) -> None:
        check_code("site", self.site)


@command
@dataclass(frozen=True, kw_only=True)
class RequestFloor(_SiteCommand):
    TYPE = "request_floor"
    item_id: str | None = None
    topic: str = ""

    def check(self) -> None:
        super().check()
        check_text("topic", self.topic, max_len=300, required=False)


@command
@dataclass(frozen=True, kw_only=True)
class WithdrawFloorRequest(_SiteCommand):
    TYPE = "withdraw_floor_request"


@dataclass(frozen=True, kw_only=True)
class _Grant(_SiteCommand):
    limit_seconds: int | None = None
    replace: bool = True

    def check(self) -> None:
        super().check()
        if self.limit_seconds is not None:
            check_range("limit_seconds", self.limit_seconds, 10, MAX_LIMIT_S)


@command
@dataclass(frozen=True, kw_only=True)
class GrantFloor(_Grant):
    """Grant the floor to a site waiting in the queue."""

    TYPE = "grant_floor"


@command
@dataclass(frozen=True, kw_only=True)
class GiveFloor(_Grant):
    """Give the floor to any invited site, whether it asked or not."""

    TYPE = "give_floor"


@command
@dataclass(frozen=True, kw_only=True)
class RevokeFloor(_SiteCommand):
    TYPE = "revoke_floor"


@command
@dataclass(frozen=True, kw_only=True)
class ReleaseFloor(_SiteCommand):
    TYPE = "release_floor"


@command
@dataclass(frozen=True, kw_only=True)
class ExpireFloor(_SiteCommand):
    """Sent by the server's timer when a speaker's time limit has passed."""

    TYPE = "expire_floor"


@command
@dataclass(frozen=True, kw_only=True)
class MuteSite(_SiteCommand):
    TYPE = "mute_site"


@command
@dataclass(frozen=True, kw_only=True)
class UnmuteSite(_SiteCommand):
    TYPE = "unmute_site"


@command
@dataclass(frozen=True, kw_only=True)
class MuteAll(Command):
    TYPE = "mute_all"


@event
@dataclass(frozen=True, kw_only=True)
class FloorRequested(Event):
    TYPE = "floor_requested"
    site: str
    item_id: str | None = None
    topic: str = ""


@event
@dataclass(frozen=True, kw_only=True)
class FloorRequestWithdrawn(Event):
    TYPE = "floor_request_withdrawn"
    site: str


@event
@dataclass(frozen=True, kw_only=True)
class FloorGranted(Event):
    TYPE = "floor_granted"
    site: str
    limit_seconds: int | None = None
    topic: str = ""


@event
@dataclass(frozen=True, kw_only=True)
class FloorEnded(Event):
    TYPE = "floor_ended"
    site: str
    reason: EndReason


@event
@dataclass(frozen=True, kw_only=True)
class SiteMuted(Event):
    TYPE = "site_muted"
    site: str


@event
@dataclass(frozen=True, kw_only=True)
class SiteUnmuted(Event):
    TYPE = "site_unmuted"
    site: str


def may_take_floor(state: ConferenceState, site: str) -> bool:
    """Whether granting the floor to ``site`` keeps within the allowed number of speakers."""
    return site in state.floor.speakers or len(state.floor.speakers) < state.max_speakers


def _not_main(ctx: Ctx, site: str) -> None:
    if site == ctx.state.main_site:
        raise DomainError(ErrorCode.MAIN_BRIDGE, "the main bridge always has the floor")


@decides(RequestFloor)
def _request(ctx: Ctx, cmd: RequestFloor) -> list[Event]:
    require_self_or(ctx.state, ctx.actor, cmd.site, what="ask for the floor")
    ctx.require_phase(Phase.LIVE, what="ask for the floor")
    _not_main(ctx, cmd.site)
    if cmd.site in ctx.state.floor.speakers:
        raise DomainError(ErrorCode.ALREADY_SPEAKING, f"site {cmd.site} already has the floor")
    if ctx.state.floor.queued(cmd.site):
        raise DomainError(ErrorCode.ALREADY_QUEUED, f"site {cmd.site} is already waiting for the floor")
    if cmd.item_id is not None and ctx.state.item(cmd.item_id) is None:
        raise DomainError(ErrorCode.UNKNOWN_ITEM, f"no agenda item {cmd.item_id!r}")
    return [FloorRequested(site=cmd.site, item_id=cmd.item_id, topic=cmd.topic, **ctx.meta())]


@decides(WithdrawFloorRequest)
def _withdraw(ctx: Ctx, cmd: WithdrawFloorRequest) -> list[Event]:
    require_self_or(ctx.state, ctx.actor, cmd.site, Role.CHAIR, what="withdraw a floor request")
    if not ctx.state.floor.queued(cmd.site):
        raise DomainError(ErrorCode.NOT_QUEUED, f"site {cmd.site} is not waiting for the floor")
    return [FloorRequestWithdrawn(site=cmd.site, **ctx.meta())]


def _grant(ctx: Ctx, cmd: _Grant) -> list[Event]:
    s = ctx.state
    out: list[Event] = []
    if cmd.site in s.floor.speakers:
        raise DomainError(ErrorCode.ALREADY_SPEAKING, f"site {cmd.site} already has the floor")
    if not may_take_floor(s, cmd.site):
        if not cmd.replace:
            raise DomainError(ErrorCode.FLOOR_FULL,
                              f"{len(s.floor.speakers)} of {s.max_speakers} speakers hold the floor")
        excess = len(s.floor.speakers) - s.max_speakers + 1
        oldest = sorted(s.floor.speakers.values(), key=lambda sp: sp.since)[:excess]
        for sp in oldest:
            out += [FloorEnded(site=sp.site, reason="replaced", **ctx.meta()), SiteMuted(site=sp.site, **ctx.meta())]
            out += after_floor_ended(s, sp.site, ctx.meta())
    request = s.floor.queued(cmd.site)
    out.append(FloorGranted(site=cmd.site, limit_seconds=cmd.limit_seconds,
                            topic=request.topic if request else "", **ctx.meta()))
    if cmd.site in s.floor.muted:
        out.append(SiteUnmuted(site=cmd.site, **ctx.meta()))
    return out


@decides(GrantFloor)
def _grant_queued(ctx: Ctx, cmd: GrantFloor) -> list[Event]:
    ctx.require(Role.CHAIR, what="grant the floor")
    ctx.require_phase(Phase.LIVE, what="grant the floor")
    if not ctx.state.floor.queued(cmd.site):
        raise DomainError(ErrorCode.NOT_QUEUED, f"site {cmd.site} has not asked for the floor")
    return _grant(ctx, cmd)


@decides(GiveFloor)
def _give(ctx: Ctx, cmd: GiveFloor) -> list[Event]:
    ctx.require(Role.CHAIR, what="give the floor")
    ctx.require_phase(Phase.LIVE, what="give the floor")
    ctx.require_invited(cmd.site)
    _not_main(ctx, cmd.site)
    return _grant(ctx, cmd)


def _end(ctx: Ctx, site: str, reason: EndReason) -> list[Event]:
    if site not in ctx.state.floor.speakers:
        raise DomainError(ErrorCode.NOT_SPEAKING, f"site {site} does not have the floor")
    out: list[Event] = [FloorEnded(site=site, reason=reason, **ctx.meta())]
    if site not in ctx.state.floor.muted:
        out.append(SiteMuted(site=site, **ctx.meta()))
    return out + after_floor_ended(ctx.state, site, ctx.meta())


@decides(RevokeFloor)
def _revoke(ctx: Ctx, cmd: RevokeFloor) -> list[Event]:
    ctx.require(Role.CHAIR, what="revoke the floor")
    return _end(ctx, cmd.site, "revoked")


@decides(ReleaseFloor)
def _release(ctx: Ctx, cmd: ReleaseFloor) -> list[Event]:
    require_self_or(ctx.state, ctx.actor, cmd.site, Role.CHAIR, what="hand back the floor")
    return _end(ctx, cmd.site, "released")


@decides(ExpireFloor)
def _expire(ctx: Ctx, cmd: ExpireFloor) -> list[Event]:
    ctx.require(Role.SYSTEM, what="expire a speaking time")
    speaker = ctx.state.floor.speakers.get(cmd.site)
    if speaker is None or speaker.until is None or speaker.until > ctx.now:
        raise DomainError(ErrorCode.NOT_EXPIRED, f"site {cmd.site} has no speaking time that has run out")
    return _end(ctx, cmd.site, "expired")


@decides(MuteSite)
def _mute(ctx: Ctx, cmd: MuteSite) -> list[Event]:
    require_self_or(ctx.state, ctx.actor, cmd.site, Role.CHAIR, what="mute a site")
    ctx.require_invited(cmd.site)
    ctx.require_phase(*RUNNING, what="mute a site")
    if cmd.site in ctx.state.floor.muted:
        return []
    return [SiteMuted(site=cmd.site, **ctx.meta())]


@decides(UnmuteSite)
def _unmute(ctx: Ctx, cmd: UnmuteSite) -> list[Event]:
    require_self_or(ctx.state, ctx.actor, cmd.site, Role.CHAIR, what="unmute a site")
    ctx.require_invited(cmd.site)
    ctx.require_phase(*RUNNING, what="unmute a site")
    s = ctx.state
    if ctx.actor.kind is ActorKind.SITE and cmd.site != s.main_site and cmd.site not in s.floor.speakers:
        raise DomainError(ErrorCode.MUTED, "a site may open its microphone only while it has the floor")
    if cmd.site not in s.floor.muted:
        return []
    return [SiteUnmuted(site=cmd.site, **ctx.meta())]


@decides(MuteAll)
def _mute_all(ctx: Ctx, cmd: MuteAll) -> list[Event]:
    ctx.require(Role.CHAIR, what="mute all sites")
    ctx.require_phase(*RUNNING, what="mute all sites")
    s = ctx.state
    return [SiteMuted(site=c, **ctx.meta()) for c in s.sites if c != s.main_site and c not in s.floor.muted]


@evolves(FloorRequested)
def _requested(s: ConferenceState, ev: FloorRequested) -> None:
    s.floor.queue.append(FloorRequest(site=ev.site, at=ev.at, item_id=ev.item_id, topic=ev.topic))


@evolves(FloorRequestWithdrawn)
def _withdrawn(s: ConferenceState, ev: FloorRequestWithdrawn) -> None:
    s.floor.queue = [r for r in s.floor.queue if r.site != ev.site]


@evolves(FloorGranted)
def _granted(s: ConferenceState, ev: FloorGranted) -> None:
    s.floor.queue = [r for r in s.floor.queue if r.site != ev.site]
    until = ev.at + timedelta(seconds=ev.limit_seconds) if ev.limit_seconds else None
    active = s.active_item()
    s.floor.speakers[ev.site] = Speaker(site=ev.site, since=ev.at, until=until,
                                        item_id=active.item_id if active else None, topic=ev.topic)


@evolves(FloorEnded)
def _ended(s: ConferenceState, ev: FloorEnded) -> None:
    sp = s.floor.speakers.pop(ev.site)
    s.floor.turns.append(Turn(site=ev.site, item_id=sp.item_id, started=sp.since, ended=ev.at, topic=sp.topic))


@evolves(SiteMuted)
def _muted(s: ConferenceState, ev: SiteMuted) -> None:
    s.floor.muted.add(ev.site)


@evolves(SiteUnmuted)
def _unmuted(s: ConferenceState, ev: SiteUnmuted) -> None:
    s.floor.muted.discard(ev.site)
