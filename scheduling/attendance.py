"""Attendance: each site's connection, its check-in (people present against expected, named
leaders present or absent with a reason), and roll-call rounds opened by the chair."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .actors import Role, require_self_or
from .base import Command, Event, check_code, check_id, check_range, check_text, command, event
from .directory import MAX_HEADCOUNT
from .errors import DomainError, ErrorCode, ValidationError
from .presentation import after_going_offline
from .rules import Ctx, decides, evolves
from .state import ConferenceState, Connection, Leader, Phase, RollCall

MAX_LEADERS = 50
MAX_AT_ONCE = 1_000      # sites in one set_connections


@command
@dataclass(frozen=True, kw_only=True)
class SetConnection(Command):
    """Sent by the server itself when a site's link comes up, wavers or goes."""

    TYPE = "set_connection"
    site: str
    connection: Connection

    def check(self) -> None:
        check_code("site", self.site)


@command
@dataclass(frozen=True, kw_only=True)
class SetConnections(Command):
    """Sent by the server itself when the links of several sites come up at once (a
    conference's opening, every page back after a restart): one command, so that their
    events reach each page in one write."""

    TYPE = "set_connections"
    sites: tuple[str, ...]
    connection: Connection

    def check(self) -> None:
        if not 1 <= len(self.sites) <= MAX_AT_ONCE:
            raise ValidationError(f"sites: 1 to {MAX_AT_ONCE}")
        for i, site in enumerate(self.sites):
            check_code(f"sites[{i}]", site)


@command
@dataclass(frozen=True, kw_only=True)
class CheckIn(Command):
    TYPE = "check_in"
    site: str
    headcount: int
    leaders: tuple[Leader, ...] = ()

    def check(self) -> None:
        check_code("site", self.site)
        check_range("headcount", self.headcount, 0, MAX_HEADCOUNT)
        if len(self.leaders) > MAX_LEADERS:
            raise ValidationError(f"leaders: at most {MAX_LEADERS}")
        for i, leader in enumerate(self.leaders):
            check_text(f"leaders[{i}].name", leader.name, max_len=200)
            check_text(f"leaders[{i}].title", leader.title, max_len=200, required=False)
            check_text(f"leaders[{i}].reason", leader.reason, max_len=500, required=not leader.present)


@command
@dataclass(frozen=True, kw_only=True)
class OpenRollCall(Command):
    TYPE = "open_roll_call"
    round_id: str
    deadline: datetime

    def check(self) -> None:
        check_id("round_id", self.round_id)


@command
@dataclass(frozen=True, kw_only=True)
class AnswerRollCall(Command):
    TYPE = "answer_roll_call"
    round_id: str
    site: str
    headcount: int

    def check(self) -> None:
        check_code("site", self.site)
        check_range("headcount", self.headcount, 0, MAX_HEADCOUNT)


@command
@dataclass(frozen=True, kw_only=True)
class CloseRollCall(Command):
    TYPE = "close_roll_call"
    round_id: str


@event
@dataclass(frozen=True, kw_only=True)
class ConnectionChanged(Event):
    TYPE = "connection_changed"
    site: str
    connection: Connection


@event
@dataclass(frozen=True, kw_only=True)
class CheckedIn(Event):
    TYPE = "checked_in"
    site: str
    headcount: int
    leaders: tuple[Leader, ...]


@event
@dataclass(frozen=True, kw_only=True)
class RollCallOpened(Event):
    TYPE = "roll_call_opened"
    round_id: str
    deadline: datetime


@event
@dataclass(frozen=True, kw_only=True)
class RollCallAnswered(Event):
    TYPE = "roll_call_answered"
    round_id: str
    site: str
    headcount: int


@event
@dataclass(frozen=True, kw_only=True)
class RollCallClosed(Event):
    TYPE = "roll_call_closed"
    round_id: str


@decides(SetConnection)
def _connection(ctx: Ctx, cmd: SetConnection) -> list[Event]:
    ctx.require(Role.SYSTEM, what="report a connection")
    ctx.require_invited(cmd.site)
    if ctx.state.phase is Phase.CANCELLED:
        return []
    if ctx.state.attendance[cmd.site].connection is cmd.connection:
        return []
    out: list[Event] = [ConnectionChanged(site=cmd.site, connection=cmd.connection, **ctx.meta())]
    if cmd.connection is Connection.OFFLINE:
        out += after_going_offline(ctx.state, cmd.site, ctx.meta())
    return out


@decides(SetConnections)
def _connections(ctx: Ctx, cmd: SetConnections) -> list[Event]:
    """Each invited site as ``set_connection`` would (a site uninvited meanwhile is left out,
    not a reason to lose the others)."""
    ctx.require(Role.SYSTEM, what="report connections")
    out: list[Event] = []
    for site in dict.fromkeys(cmd.sites):
        if ctx.state.is_invited(site):
            out += _connection(ctx, SetConnection(key=cmd.key, site=site, connection=cmd.connection))
    return out


@decides(CheckIn)
def _check_in(ctx: Ctx, cmd: CheckIn) -> list[Event]:
    require_self_or(ctx.state, ctx.actor, cmd.site, Role.CHAIR, Role.SECRETARY, what="check in")
    ctx.require_invited(cmd.site)
    ctx.require_phase(Phase.REHEARSAL, Phase.LIVE, what="check in")
    return [CheckedIn(site=cmd.site, headcount=cmd.headcount, leaders=cmd.leaders, **ctx.meta())]


def _round(ctx: Ctx, round_id: str) -> RollCall:
    rc = ctx.state.roll_calls.get(round_id)
    if rc is None:
        raise DomainError(ErrorCode.UNKNOWN_ROLL_CALL, f"no roll call {round_id!r}")
    return rc


@decides(OpenRollCall)
def _open(ctx: Ctx, cmd: OpenRollCall) -> list[Event]:
    ctx.require(Role.CHAIR, what="open a roll call")
    ctx.require_phase(Phase.LIVE, what="open a roll call")
    if cmd.round_id in ctx.state.roll_calls:
        raise DomainError(ErrorCode.ROLL_CALL_EXISTS, f"roll call {cmd.round_id!r} already exists")
    if cmd.deadline <= ctx.now:
        raise DomainError(ErrorCode.DEADLINE_IN_PAST, "the roll call's deadline must be in the future")
    if cmd.deadline - ctx.now > timedelta(hours=12):
        raise ValidationError("deadline: at most 12 hours from now")
    return [RollCallOpened(round_id=cmd.round_id, deadline=cmd.deadline, **ctx.meta())]


@decides(AnswerRollCall)
def _answer(ctx: Ctx, cmd: AnswerRollCall) -> list[Event]:
    require_self_or(ctx.state, ctx.actor, cmd.site, Role.SECRETARY, what="answer a roll call")
    ctx.require_invited(cmd.site)
    rc = _round(ctx, cmd.round_id)
    if rc.closed_at is not None:
        raise DomainError(ErrorCode.ROLL_CALL_CLOSED, f"roll call {cmd.round_id!r} is closed")
    if ctx.now > rc.deadline:
        raise DomainError(ErrorCode.DEADLINE_PASSED, f"roll call {cmd.round_id!r} closed at its deadline")
    return [RollCallAnswered(round_id=cmd.round_id, site=cmd.site, headcount=cmd.headcount, **ctx.meta())]


@decides(CloseRollCall)
def _close(ctx: Ctx, cmd: CloseRollCall) -> list[Event]:
    ctx.require(Role.CHAIR, what="close a roll call")
    rc = _round(ctx, cmd.round_id)
    if rc.closed_at is not None:
        raise DomainError(ErrorCode.ROLL_CALL_CLOSED, f"roll call {cmd.round_id!r} is already closed")
    return [RollCallClosed(round_id=cmd.round_id, **ctx.meta())]


@evolves(ConnectionChanged)
def _connection_changed(s: ConferenceState, ev: ConnectionChanged) -> None:
    att = s.attendance[ev.site]
    att.connection = ev.connection
    if ev.connection is Connection.ONLINE and att.first_joined is None:
        att.first_joined = ev.at
    if ev.connection is Connection.OFFLINE:
        att.last_left = ev.at


@evolves(CheckedIn)
def _checked_in(s: ConferenceState, ev: CheckedIn) -> None:
    att = s.attendance[ev.site]
    att.headcount = ev.headcount
    att.leaders = ev.leaders
    att.checked_in_at = ev.at


@evolves(RollCallOpened)
def _opened(s: ConferenceState, ev: RollCallOpened) -> None:
    s.roll_calls[ev.round_id] = RollCall(round_id=ev.round_id, opened_at=ev.at, deadline=ev.deadline)


@evolves(RollCallAnswered)
def _answered(s: ConferenceState, ev: RollCallAnswered) -> None:
    s.roll_calls[ev.round_id].answers[ev.site] = ev.headcount


@evolves(RollCallClosed)
def _closed(s: ConferenceState, ev: RollCallClosed) -> None:
    s.roll_calls[ev.round_id].closed_at = ev.at
