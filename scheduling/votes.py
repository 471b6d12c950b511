"""Quick votes (biểu quyết): the chair opens a question with options (by default Tán thành /
Không tán thành / Không có ý kiến), per site (one vote each) or per delegate (each hall
reports how many of its delegates present chose each option, never more than the headcount
it reported), open or secret, with a deadline. A site votes once, before the deadline and
while the vote is open; only the chair opens and closes it. The tally of a secret vote names
no one; an open vote's minutes say who voted what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .actors import Role, require_self_or
from .base import Command, Event, check_code, check_id, check_range, check_text, command, event
from .directory import MAX_HEADCOUNT, SiteKind
from .errors import DomainError, ErrorCode, ValidationError
from .rules import RUNNING, Ctx, decides, evolves
from .state import ConferenceState, Connection
from .ward_records import DEFAULT_OPTIONS, Ballot, Vote, VoteMode

MAX_VOTES = 200
MAX_OPTIONS = 10
MAX_OPEN_FOR = timedelta(hours=8)


@command
@dataclass(frozen=True, kw_only=True)
class OpenVote(Command):
    TYPE = "open_vote"
    vote_id: str
    question: str
    options: tuple[str, ...] = DEFAULT_OPTIONS
    mode: VoteMode = VoteMode.PER_SITE
    secret: bool = False
    deadline: datetime
    item_id: str | None = None

    def check(self) -> None:
        check_id("vote_id", self.vote_id)
        check_text("question", self.question, max_len=1000)
        if not 2 <= len(self.options) <= MAX_OPTIONS:
            raise ValidationError(f"options: between 2 and {MAX_OPTIONS}")
        for i, option in enumerate(self.options):
            check_text(f"options[{i}]", option, max_len=200)
        if len(set(self.options)) != len(self.options):
            raise ValidationError("options: duplicates are not allowed")


@command
@dataclass(frozen=True, kw_only=True)
class CastVote(Command):
    """A site's vote: ``option`` (per site, the option's index) or ``counts`` (per delegate:
    how many delegates chose each option)."""

    TYPE = "cast_vote"
    vote_id: str
    site: str
    option: int | None = None
    counts: tuple[int, ...] | None = None

    def check(self) -> None:
        check_code("site", self.site)
        if (self.option is None) == (self.counts is None):
            raise ValidationError("option/counts: give an option (per site) or counts (per delegate)")
        if self.option is not None:
            check_range("option", self.option, 0, MAX_OPTIONS - 1)
        for i, n in enumerate(self.counts or ()):
            check_range(f"counts[{i}]", n, 0, MAX_HEADCOUNT)


@command
@dataclass(frozen=True, kw_only=True)
class CloseVote(Command):
    TYPE = "close_vote"
    vote_id: str


@event
@dataclass(frozen=True, kw_only=True)
class VoteOpened(Event):
    TYPE = "vote_opened"
    vote_id: str
    question: str
    options: tuple[str, ...]
    mode: VoteMode
    secret: bool
    deadline: datetime
    item_id: str | None = None


@event
@dataclass(frozen=True, kw_only=True)
class VoteCast(Event):
    TYPE = "vote_cast"
    vote_id: str
    site: str
    counts: tuple[int, ...]


@event
@dataclass(frozen=True, kw_only=True)
class VoteClosed(Event):
    TYPE = "vote_closed"
    vote_id: str
    tally: tuple[int, ...]
    voters: int


def may_vote(state: ConferenceState, site: str) -> bool:
    """A hall present (online or checked in) that is not a department."""
    info = state.sites.get(site)
    att = state.attendance.get(site)
    if info is None or att is None or info.kind is SiteKind.DEPARTMENT:
        return False
    return att.connection is Connection.ONLINE or att.checked_in


def _vote(ctx: Ctx, vote_id: str) -> Vote:
    vote = ctx.state.votes.get(vote_id)
    if vote is None:
        raise DomainError(ErrorCode.UNKNOWN_VOTE, f"no vote {vote_id[:64]!r}")
    return vote


@decides(OpenVote)
def _open(ctx: Ctx, cmd: OpenVote) -> list[Event]:
    ctx.require(Role.CHAIR, what="open a vote")
    ctx.require_phase(*RUNNING, what="open a vote")
    if cmd.vote_id in ctx.state.votes:
        raise DomainError(ErrorCode.VOTE_EXISTS, f"vote {cmd.vote_id!r} already exists")
    if len(ctx.state.votes) >= MAX_VOTES:
        raise DomainError(ErrorCode.INVALID_COMMAND, f"a conference has at most {MAX_VOTES} votes")
    if not ctx.now < cmd.deadline <= ctx.now + MAX_OPEN_FOR:
        raise DomainError(ErrorCode.DEADLINE_IN_PAST, "deadline: after now and within 8 hours")
    if cmd.item_id is not None and ctx.state.item(cmd.item_id) is None:
        raise DomainError(ErrorCode.UNKNOWN_ITEM, f"no agenda item {cmd.item_id[:64]!r}")
    return [VoteOpened(vote_id=cmd.vote_id, question=cmd.question, options=cmd.options, mode=cmd.mode,
                       secret=cmd.secret, deadline=cmd.deadline, item_id=cmd.item_id, **ctx.meta())]


def _counts(ctx: Ctx, vote: Vote, cmd: CastVote) -> tuple[int, ...]:
    n = len(vote.options)
    if vote.mode is VoteMode.PER_SITE:
        if cmd.option is None or cmd.option >= n:
            raise ValidationError(f"option: this vote is per site: the index of one of its {n} options")
        return tuple(1 if i == cmd.option else 0 for i in range(n))
    if cmd.counts is None or len(cmd.counts) != n:
        raise ValidationError(f"counts: this vote is per delegate: {n} counts, one per option")
    att = ctx.state.attendance[cmd.site]
    if not att.checked_in:
        raise DomainError(ErrorCode.NOT_PRESENT, f"site {cmd.site} must check in (report its headcount) first")
    if sum(cmd.counts) > att.headcount:
        raise DomainError(ErrorCode.OVER_HEADCOUNT,
                          f"{sum(cmd.counts)} votes for {att.headcount} delegates present at {cmd.site}")
    return cmd.counts


@decides(CastVote)
def _cast(ctx: Ctx, cmd: CastVote) -> list[Event]:
    require_self_or(ctx.state, ctx.actor, cmd.site, Role.CHAIR, Role.SECRETARY, what="vote")
    ctx.require_invited(cmd.site)
    vote = _vote(ctx, cmd.vote_id)
    if ctx.now > vote.deadline:
        raise DomainError(ErrorCode.DEADLINE_PASSED, f"vote {cmd.vote_id!r} closed at its deadline")
    if vote.closed_at is not None:
        raise DomainError(ErrorCode.VOTE_CLOSED, f"vote {cmd.vote_id!r} was closed by the chair")
    if cmd.site in vote.ballots:
        raise DomainError(ErrorCode.ALREADY_VOTED, f"site {cmd.site} has already voted")
    if not may_vote(ctx.state, cmd.site):
        raise DomainError(ErrorCode.NOT_PRESENT, f"site {cmd.site} is not present (or is a department)")
    return [VoteCast(vote_id=cmd.vote_id, site=cmd.site, counts=_counts(ctx, vote, cmd), **ctx.meta())]


@decides(CloseVote)
def _close(ctx: Ctx, cmd: CloseVote) -> list[Event]:
    ctx.require(Role.CHAIR, Role.SYSTEM, what="close a vote")
    vote = _vote(ctx, cmd.vote_id)
    if vote.closed_at is not None:
        return []
    return [VoteClosed(vote_id=cmd.vote_id, tally=vote.tally(), voters=len(vote.ballots), **ctx.meta())]


@evolves(VoteOpened)
def _opened(s: ConferenceState, ev: VoteOpened) -> None:
    s.votes[ev.vote_id] = Vote(vote_id=ev.vote_id, question=ev.question, options=ev.options, mode=ev.mode,
                               secret=ev.secret, deadline=ev.deadline, item_id=ev.item_id, opened_at=ev.at)


@evolves(VoteCast)
def _cast_(s: ConferenceState, ev: VoteCast) -> None:
    s.votes[ev.vote_id].ballots[ev.site] = Ballot(site=ev.site, counts=ev.counts, at=ev.at)


@evolves(VoteClosed)
def _closed(s: ConferenceState, ev: VoteClosed) -> None:
    vote = s.votes[ev.vote_id]
    vote.closed_at, vote.result = ev.at, ev.tally
