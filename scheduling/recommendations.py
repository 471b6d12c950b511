"""Recommendations (kiến nghị): what a ward or commune asks of the city, before or during the
meeting. The secretary or the chair triages them (merges duplicates keeping every source,
assigns them to departments with a due date, marks them for the meeting); an assigned
department answers (in writing, or in the meeting during its speaking turn); the chair
accepts the answer or keeps the recommendation open; each ward that raised it says whether
its obstacle is resolved. Open ones are carried into the series' next conference."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from .actors import Role, require_self_or
from .base import (
    Command,
    Event,
    check_code,
    check_codes,
    check_id,
    check_text,
    command,
    event,
    local_date,
)
from .directory import DEFAULT_FIELDS, SiteKind
from .errors import DomainError, ErrorCode, ValidationError
from .rules import OPEN_PHASES, Ctx, decides, evolves
from .state import ConferenceState, Phase
from .ward_records import OPEN_RECS, Answer, AnswerMode, FileRef, Recommendation, RecStatus

MAX_RECOMMENDATIONS = 5_000
MAX_TEXT = 20_000
MAX_ATTACHMENTS = 10
TRIAGERS = (Role.SECRETARY, Role.CHAIR)
NOT_CANCELLED = (*OPEN_PHASES, Phase.ENDED)


def _check_body(title: str, text: str, field_name: str) -> None:
    check_text("title", title, max_len=300)
    check_text("text", text, max_len=MAX_TEXT)
    check_text("field", field_name, max_len=100)


@command
@dataclass(frozen=True, kw_only=True)
class SubmitRecommendation(Command):
    """A site's recommendation (by the site itself, or entered for it by the staff)."""

    TYPE = "submit_recommendation"
    rec_id: str
    site: str
    title: str
    text: str
    field: str
    item_id: str | None = None
    attachments: tuple[FileRef, ...] = ()

    def check(self) -> None:
        check_id("rec_id", self.rec_id)
        check_code("site", self.site)
        _check_body(self.title, self.text, self.field)
        if len(self.attachments) > MAX_ATTACHMENTS:
            raise ValidationError(f"attachments: at most {MAX_ATTACHMENTS}")


@command
@dataclass(frozen=True, kw_only=True)
class MergeRecommendations(Command):
    """Fold duplicates (``others``) into one recommendation (``into``), which keeps every source."""

    TYPE = "merge_recommendations"
    into: str
    others: tuple[str, ...]

    def check(self) -> None:
        if not 1 <= len(self.others) <= 500 or len(set(self.others)) != len(self.others):
            raise ValidationError("others: 1 to 500 distinct recommendations")
        if self.into in self.others:
            raise ValidationError("others: a recommendation cannot be merged into itself")


@command
@dataclass(frozen=True, kw_only=True)
class AssignRecommendation(Command):
    TYPE = "assign_recommendation"
    rec_id: str
    departments: tuple[str, ...]
    due: date

    def check(self) -> None:
        check_codes("departments", self.departments, max_len=20)


@command
@dataclass(frozen=True, kw_only=True)
class MarkForMeeting(Command):
    """To be answered in the meeting (``in_meeting``), under agenda item ``item_id``."""

    TYPE = "mark_recommendation_for_meeting"
    rec_id: str
    in_meeting: bool = True
    item_id: str | None = None


@command
@dataclass(frozen=True, kw_only=True)
class AnswerRecommendation(Command):
    """An assigned department's answer; ``in_meeting``: given in its speaking turn."""

    TYPE = "answer_recommendation"
    rec_id: str
    department: str
    mode: AnswerMode = AnswerMode.WRITTEN
    text: str = ""

    def check(self) -> None:
        check_code("department", self.department)
        check_text("text", self.text, max_len=MAX_TEXT, required=self.mode is AnswerMode.WRITTEN)


@command
@dataclass(frozen=True, kw_only=True)
class DecideAnswer(Command):
    """The chair accepts the answer (the recommendation is closed) or keeps it open."""

    TYPE = "decide_answer"
    rec_id: str
    accept: bool
    reason: str = ""

    def check(self) -> None:
        check_text("reason", self.reason, max_len=2000, required=False)


@command
@dataclass(frozen=True, kw_only=True)
class GiveFeedback(Command):
    """A ward that raised the recommendation says whether the answer resolves its obstacle."""

    TYPE = "give_recommendation_feedback"
    rec_id: str
    site: str
    resolved: bool


@dataclass(frozen=True, kw_only=True)
class CarriedRecommendation:
    """An open recommendation of the series' earlier conference, as the next one takes it up."""

    rec_id: str
    origin: str   # "<conference_id>/<rec_id>"
    site: str
    title: str
    text: str
    field: str
    sources: tuple[str, ...]
    departments: tuple[str, ...] = ()
    due: date | None = None

    def __post_init__(self) -> None:
        check_id("rec_id", self.rec_id)
        check_text("origin", self.origin, max_len=140)
        check_code("site", self.site)
        _check_body(self.title, self.text, self.field)
        check_codes("sources", self.sources, max_len=500)
        check_codes("departments", self.departments, max_len=20, required=False)


@command
@dataclass(frozen=True, kw_only=True)
class CarryRecommendations(Command):
    TYPE = "carry_recommendations"
    items: tuple[CarriedRecommendation, ...]

    def check(self) -> None:
        if not 1 <= len(self.items) <= MAX_RECOMMENDATIONS:
            raise ValidationError(f"items: 1 to {MAX_RECOMMENDATIONS}")


@event
@dataclass(frozen=True, kw_only=True)
class RecommendationSubmitted(Event):
    TYPE = "recommendation_submitted"
    rec_id: str
    site: str
    title: str
    text: str
    field: str
    item_id: str | None = None
    attachments: tuple[FileRef, ...] = ()


@event
@dataclass(frozen=True, kw_only=True)
class RecommendationsMerged(Event):
    TYPE = "recommendations_merged"
    into: str
    others: tuple[str, ...]
    sources: tuple[str, ...]   # the merged recommendation's sources afterwards


@event
@dataclass(frozen=True, kw_only=True)
class RecommendationAssigned(Event):
    TYPE = "recommendation_assigned"
    rec_id: str
    departments: tuple[str, ...]
    due: date


@event
@dataclass(frozen=True, kw_only=True)
class RecommendationMarked(Event):
    TYPE = "recommendation_marked"
    rec_id: str
    in_meeting: bool
    item_id: str | None = None


@event
@dataclass(frozen=True, kw_only=True)
class RecommendationAnswered(Event):
    TYPE = "recommendation_answered"
    rec_id: str
    department: str
    mode: AnswerMode
    text: str = ""
    turn_started: datetime | None = None   # the start of the department's speaking turn


@event
@dataclass(frozen=True, kw_only=True)
class AnswerDecided(Event):
    TYPE = "answer_decided"
    rec_id: str
    accept: bool
    reason: str = ""


@event
@dataclass(frozen=True, kw_only=True)
class FeedbackGiven(Event):
    TYPE = "recommendation_feedback_given"
    rec_id: str
    site: str
    resolved: bool


@event
@dataclass(frozen=True, kw_only=True)
class RecommendationsCarried(Event):
    TYPE = "recommendations_carried"
    items: tuple[CarriedRecommendation, ...]


def open_recommendations(state: ConferenceState) -> list[Recommendation]:
    """The recommendations not yet accepted (merged ones live on in the one they joined)."""
    return [r for r in state.recommendations.values() if r.is_open]


def carry_items(earlier: ConferenceState, state: ConferenceState) -> tuple[CarriedRecommendation, ...]:
    """The open recommendations of ``earlier`` (the series' previous conference) that
    ``state`` has not taken up yet, as a CarryRecommendations command lists them."""
    taken = {r.carried_from for r in state.recommendations.values()}
    out: list[CarriedRecommendation] = []
    for rec in open_recommendations(earlier):
        origin = f"{earlier.conference_id}/{rec.rec_id}"
        if origin in taken:
            continue
        rec_id = rec.rec_id
        if rec_id in state.recommendations or any(c.rec_id == rec_id for c in out):
            rec_id = f"{rec.rec_id[:40]}-{hashlib.sha256(origin.encode()).hexdigest()[:10]}"
        out.append(CarriedRecommendation(
            rec_id=rec_id, origin=origin, site=rec.site, title=rec.title, text=rec.text, field=rec.field,
            sources=rec.sources, departments=rec.departments, due=rec.due))
    return tuple(out)


def _rec(ctx: Ctx, rec_id: str, *statuses: RecStatus, what: str) -> Recommendation:
    rec = ctx.state.recommendations.get(rec_id)
    if rec is None:
        raise DomainError(ErrorCode.UNKNOWN_RECOMMENDATION, f"no recommendation {rec_id[:64]!r}")
    if rec.status not in statuses:
        allowed = " or ".join(s.value for s in statuses)
        raise DomainError(ErrorCode.WRONG_RECOMMENDATION_STATUS,
                          f"cannot {what} recommendation {rec_id!r}: it is {rec.status.value}, not {allowed}")
    return rec


def _room_for(ctx: Ctx, count: int) -> None:
    if len(ctx.state.recommendations) + count > MAX_RECOMMENDATIONS:
        raise DomainError(ErrorCode.INVALID_COMMAND, f"a conference has at most {MAX_RECOMMENDATIONS} recommendations")


def _check_item(ctx: Ctx, item_id: str | None) -> None:
    if item_id is not None and ctx.state.item(item_id) is None:
        raise DomainError(ErrorCode.UNKNOWN_ITEM, f"no agenda item {item_id[:64]!r}")


@decides(SubmitRecommendation)
def _submit(ctx: Ctx, cmd: SubmitRecommendation) -> list[Event]:
    require_self_or(ctx.state, ctx.actor, cmd.site, *TRIAGERS, what="submit a recommendation")
    ctx.require_phase(*OPEN_PHASES, what="submit a recommendation")
    ctx.require_invited(cmd.site)
    if cmd.rec_id in ctx.state.recommendations:
        raise DomainError(ErrorCode.RECOMMENDATION_EXISTS, f"recommendation {cmd.rec_id!r} already exists")
    _room_for(ctx, 1)
    _check_item(ctx, cmd.item_id)
    known = ctx.directory.fields if ctx.directory is not None else DEFAULT_FIELDS
    if cmd.field not in known:
        raise DomainError(ErrorCode.UNKNOWN_FIELD, f"{cmd.field[:100]!r} is not one of the fields: {', '.join(known)}")
    return [RecommendationSubmitted(rec_id=cmd.rec_id, site=cmd.site, title=cmd.title, text=cmd.text,
                                    field=cmd.field, item_id=cmd.item_id, attachments=cmd.attachments, **ctx.meta())]


@decides(MergeRecommendations)
def _merge(ctx: Ctx, cmd: MergeRecommendations) -> list[Event]:
    ctx.require(*TRIAGERS, what="merge recommendations")
    ctx.require_phase(*NOT_CANCELLED, what="merge recommendations")
    target = _rec(ctx, cmd.into, *OPEN_RECS, what="merge into")
    sources = list(target.sources)
    for rec_id in cmd.others:
        other = _rec(ctx, rec_id, RecStatus.SUBMITTED, RecStatus.ASSIGNED, what="merge")
        sources += [s for s in other.sources if s not in sources]
    return [RecommendationsMerged(into=cmd.into, others=cmd.others, sources=tuple(sources), **ctx.meta())]


def _check_departments(ctx: Ctx, departments: tuple[str, ...]) -> None:
    for code in departments:
        ctx.require_invited(code)
        if ctx.state.sites[code].kind is not SiteKind.DEPARTMENT:
            raise DomainError(ErrorCode.NOT_DEPARTMENT, f"site {code} is not a department (sở, ngành)")


@decides(AssignRecommendation)
def _assign(ctx: Ctx, cmd: AssignRecommendation) -> list[Event]:
    ctx.require(*TRIAGERS, what="assign a recommendation")
    ctx.require_phase(*NOT_CANCELLED, what="assign a recommendation")
    _rec(ctx, cmd.rec_id, *OPEN_RECS, what="assign")
    _check_departments(ctx, cmd.departments)
    today = local_date(ctx.now, ctx.state.tz)
    if cmd.due < today:
        raise DomainError(ErrorCode.DUE_IN_PAST, f"due date {cmd.due.isoformat()} is before today ({today.isoformat()})")
    return [RecommendationAssigned(rec_id=cmd.rec_id, departments=cmd.departments, due=cmd.due, **ctx.meta())]


@decides(MarkForMeeting)
def _mark(ctx: Ctx, cmd: MarkForMeeting) -> list[Event]:
    ctx.require(*TRIAGERS, what="mark a recommendation for the meeting")
    ctx.require_phase(*OPEN_PHASES, what="mark a recommendation for the meeting")
    rec = _rec(ctx, cmd.rec_id, *OPEN_RECS, what="mark")
    _check_item(ctx, cmd.item_id)
    item_id = cmd.item_id if cmd.item_id is not None else rec.item_id
    if rec.in_meeting == cmd.in_meeting and item_id == rec.item_id:
        return []
    return [RecommendationMarked(rec_id=cmd.rec_id, in_meeting=cmd.in_meeting, item_id=item_id, **ctx.meta())]


def _turn_of(ctx: Ctx, department: str) -> datetime:
    """The department's speaking turn: the one it holds now, else its last one."""
    speaker = ctx.state.floor.speakers.get(department)
    if speaker is not None:
        return speaker.since
    turns = [t for t in ctx.state.floor.turns if t.site == department]
    if not turns:
        raise DomainError(ErrorCode.NO_TURN, f"site {department} has not had the floor: give it the floor first")
    return turns[-1].started


@decides(AnswerRecommendation)
def _answer(ctx: Ctx, cmd: AnswerRecommendation) -> list[Event]:
    require_self_or(ctx.state, ctx.actor, cmd.department, *TRIAGERS, what="answer a recommendation")
    ctx.require_phase(*NOT_CANCELLED, what="answer a recommendation")
    rec = _rec(ctx, cmd.rec_id, RecStatus.ASSIGNED, RecStatus.ANSWERED, what="answer")
    if cmd.department not in rec.departments:
        raise DomainError(ErrorCode.NOT_ASSIGNEE,
                          f"recommendation {cmd.rec_id!r} is not assigned to {cmd.department}")
    turn = _turn_of(ctx, cmd.department) if cmd.mode is AnswerMode.IN_MEETING else None
    return [RecommendationAnswered(rec_id=cmd.rec_id, department=cmd.department, mode=cmd.mode, text=cmd.text,
                                   turn_started=turn, **ctx.meta())]


@decides(DecideAnswer)
def _decide(ctx: Ctx, cmd: DecideAnswer) -> list[Event]:
    ctx.require(Role.CHAIR, what="accept an answer or keep a recommendation open")
    ctx.require_phase(*NOT_CANCELLED, what="accept an answer")
    _rec(ctx, cmd.rec_id, RecStatus.ANSWERED, what="decide on the answer to")
    return [AnswerDecided(rec_id=cmd.rec_id, accept=cmd.accept, reason=cmd.reason, **ctx.meta())]


@decides(GiveFeedback)
def _feedback(ctx: Ctx, cmd: GiveFeedback) -> list[Event]:
    require_self_or(ctx.state, ctx.actor, cmd.site, what="say whether an answer resolves its obstacle")
    rec = _rec(ctx, cmd.rec_id, RecStatus.ANSWERED, RecStatus.ACCEPTED, what="give feedback on")
    if cmd.site not in rec.sources:
        raise DomainError(ErrorCode.NOT_SOURCE, f"site {cmd.site} did not raise recommendation {cmd.rec_id!r}")
    if rec.feedback.get(cmd.site) is cmd.resolved:
        return []
    return [FeedbackGiven(rec_id=cmd.rec_id, site=cmd.site, resolved=cmd.resolved, **ctx.meta())]


@decides(CarryRecommendations)
def _carry(ctx: Ctx, cmd: CarryRecommendations) -> list[Event]:
    ctx.require(*TRIAGERS, what="carry recommendations over")
    ctx.require_phase(*OPEN_PHASES, what="carry recommendations over")
    carried = {r.carried_from for r in ctx.state.recommendations.values() if r.carried_from}
    seen: set[str] = set()
    for item in cmd.items:
        if item.rec_id in ctx.state.recommendations or item.rec_id in seen:
            raise DomainError(ErrorCode.RECOMMENDATION_EXISTS, f"recommendation {item.rec_id!r} already exists")
        if item.origin in carried:
            raise DomainError(ErrorCode.ALREADY_CARRIED, f"{item.origin} was already carried into this conference")
        seen.add(item.rec_id)
        carried.add(item.origin)
    _room_for(ctx, len(cmd.items))
    return [RecommendationsCarried(items=cmd.items, **ctx.meta())]


@evolves(RecommendationSubmitted)
def _submitted(s: ConferenceState, ev: RecommendationSubmitted) -> None:
    s.recommendations[ev.rec_id] = Recommendation(
        rec_id=ev.rec_id, site=ev.site, title=ev.title, text=ev.text, field=ev.field, item_id=ev.item_id,
        submitted_at=ev.at, attachments=ev.attachments, sources=(ev.site,))


@evolves(RecommendationsMerged)
def _merged(s: ConferenceState, ev: RecommendationsMerged) -> None:
    target = s.recommendations[ev.into]
    target.sources = ev.sources
    target.merged_from += ev.others
    for rec_id in ev.others:
        other = s.recommendations[rec_id]
        other.status, other.merged_into = RecStatus.MERGED, ev.into


@evolves(RecommendationAssigned)
def _assigned(s: ConferenceState, ev: RecommendationAssigned) -> None:
    rec = s.recommendations[ev.rec_id]
    rec.departments, rec.due, rec.status = ev.departments, ev.due, RecStatus.ASSIGNED


@evolves(RecommendationMarked)
def _marked(s: ConferenceState, ev: RecommendationMarked) -> None:
    rec = s.recommendations[ev.rec_id]
    rec.in_meeting, rec.item_id = ev.in_meeting, ev.item_id


@evolves(RecommendationAnswered)
def _answered(s: ConferenceState, ev: RecommendationAnswered) -> None:
    rec = s.recommendations[ev.rec_id]
    rec.answers.append(Answer(department=ev.department, mode=ev.mode, text=ev.text, at=ev.at,
                              turn_started=ev.turn_started))
    rec.status = RecStatus.ANSWERED


@evolves(AnswerDecided)
def _decided(s: ConferenceState, ev: AnswerDecided) -> None:
    rec = s.recommendations[ev.rec_id]
    if ev.accept:
        rec.status = RecStatus.ACCEPTED
    else:
        rec.status = RecStatus.ASSIGNED
        rec.kept_open.append(ev.reason)


@evolves(FeedbackGiven)
def _fed_back(s: ConferenceState, ev: FeedbackGiven) -> None:
    s.recommendations[ev.rec_id].feedback[ev.site] = ev.resolved


@evolves(RecommendationsCarried)
def _carried(s: ConferenceState, ev: RecommendationsCarried) -> None:
    for item in ev.items:
        s.recommendations[item.rec_id] = Recommendation(
            rec_id=item.rec_id, site=item.site, title=item.title, text=item.text, field=item.field, item_id=None,
            submitted_at=ev.at, sources=item.sources, departments=item.departments, due=item.due,
            status=RecStatus.ASSIGNED if item.departments and item.due else RecStatus.SUBMITTED,
            carried_from=item.origin)

