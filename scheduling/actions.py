"""Action items (nhiệm vụ): assigned in a conference to one or more sites with a due date,
followed up by the sites' progress reports, and confirmed done by the chair or a secretary.
They outlive the conference: its stream keeps taking their progress after it has ended."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from .actors import ActorKind, Role, require_self_or
from .base import (
    Command,
    Event,
    check_code,
    check_codes,
    check_id,
    check_range,
    check_text,
    command,
    event,
    local_date,
)
from .errors import DomainError, ErrorCode
from .rules import Ctx, decides, evolves
from .state import ActionItem, ActionStatus, ConferenceState, Phase, Progress

MAX_ACTIONS = 2_000
WRITERS = (Role.SECRETARY, Role.CHAIR)
ReportedStatus = Literal["in_progress", "done"]
OPEN_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)


def previous_in_series(conferences: Iterable[ConferenceState], state: ConferenceState) -> ConferenceState | None:
    """The conference of ``state``'s series held last before it (not cancelled), if any."""
    if not state.series:
        return None
    earlier = [c for c in conferences if c.series == state.series and c.conference_id != state.conference_id
               and c.starts_at < state.starts_at and c.phase is not Phase.CANCELLED]
    return max(earlier, key=lambda c: (c.starts_at, c.conference_id), default=None)


def open_actions(state: ConferenceState) -> list[ActionItem]:
    """The action items still to be done (open or in progress), by due date: what the next
    conference of the series reviews."""
    return sorted((a for a in state.actions.values() if a.status in OPEN_STATUSES),
                  key=lambda a: (a.due, a.action_id))


def _check_fields(title: str | None, description: str | None, assignees: tuple[str, ...] | None) -> None:
    if title is not None:
        check_text("title", title, max_len=500)
    if description is not None:
        check_text("description", description, max_len=10_000, required=False)
    if assignees is not None:
        check_codes("assignees", assignees, max_len=500)


@command
@dataclass(frozen=True, kw_only=True)
class CreateActionItem(Command):
    TYPE = "create_action_item"
    action_id: str
    item_id: str | None = None
    title: str
    description: str = ""
    assignees: tuple[str, ...]
    due: date

    def check(self) -> None:
        check_id("action_id", self.action_id)
        _check_fields(self.title, self.description, self.assignees)


@command
@dataclass(frozen=True, kw_only=True)
class EditActionItem(Command):
    TYPE = "edit_action_item"
    action_id: str
    title: str | None = None
    description: str | None = None
    assignees: tuple[str, ...] | None = None
    due: date | None = None

    def check(self) -> None:
        _check_fields(self.title, self.description, self.assignees)


@command
@dataclass(frozen=True, kw_only=True)
class PostProgress(Command):
    TYPE = "post_progress"
    action_id: str
    site: str
    text: str
    percent: int | None = None
    status: ReportedStatus | None = None

    def check(self) -> None:
        check_code("site", self.site)
        check_text("text", self.text, max_len=5000)
        if self.percent is not None:
            check_range("percent", self.percent, 0, 100)


@command
@dataclass(frozen=True, kw_only=True)
class ConfirmActionDone(Command):
    TYPE = "confirm_action_done"
    action_id: str


@command
@dataclass(frozen=True, kw_only=True)
class ReopenAction(Command):
    TYPE = "reopen_action"
    action_id: str
    reason: str = ""

    def check(self) -> None:
        check_text("reason", self.reason, max_len=2000, required=False)


@command
@dataclass(frozen=True, kw_only=True)
class CancelAction(Command):
    TYPE = "cancel_action"
    action_id: str
    reason: str = ""

    def check(self) -> None:
        check_text("reason", self.reason, max_len=2000, required=False)


@event
@dataclass(frozen=True, kw_only=True)
class ActionItemCreated(Event):
    TYPE = "action_item_created"
    action_id: str
    item_id: str | None
    title: str
    description: str
    assignees: tuple[str, ...]
    due: date


@event
@dataclass(frozen=True, kw_only=True)
class ActionItemEdited(Event):
    TYPE = "action_item_edited"
    action_id: str
    title: str | None = None
    description: str | None = None
    assignees: tuple[str, ...] | None = None
    due: date | None = None


@event
@dataclass(frozen=True, kw_only=True)
class ProgressPosted(Event):
    TYPE = "progress_posted"
    action_id: str
    site: str
    text: str
    percent: int | None = None
    status: ActionStatus


@event
@dataclass(frozen=True, kw_only=True)
class ActionDoneConfirmed(Event):
    TYPE = "action_done_confirmed"
    action_id: str


@event
@dataclass(frozen=True, kw_only=True)
class ActionReopened(Event):
    TYPE = "action_reopened"
    action_id: str
    reason: str = ""


@event
@dataclass(frozen=True, kw_only=True)
class ActionCancelled(Event):
    TYPE = "action_cancelled"
    action_id: str
    reason: str = ""


def _action(ctx: Ctx, action_id: str, *statuses: ActionStatus, what: str) -> ActionItem:
    action = ctx.state.actions.get(action_id)
    if action is None:
        raise DomainError(ErrorCode.UNKNOWN_ACTION, f"no action item {action_id!r}")
    if statuses and action.status not in statuses:
        allowed = " or ".join(s.value for s in statuses)
        raise DomainError(ErrorCode.WRONG_ACTION_STATUS,
                          f"cannot {what} action item {action_id!r}: it is {action.status.value}, not {allowed}")
    return action


def _check_due(ctx: Ctx, due: date) -> None:
    today = local_date(ctx.now, ctx.state.tz)
    if due < today:
        raise DomainError(ErrorCode.DUE_IN_PAST, f"due date {due.isoformat()} is before today ({today.isoformat()})")


def _check_assignees(ctx: Ctx, assignees: tuple[str, ...]) -> None:
    for code in assignees:
        ctx.require_invited(code)


@decides(CreateActionItem)
def _create(ctx: Ctx, cmd: CreateActionItem) -> list[Event]:
    ctx.require(*WRITERS, what="assign action items")
    ctx.require_phase(Phase.REHEARSAL, Phase.LIVE, Phase.ENDED, what="assign action items")
    if cmd.action_id in ctx.state.actions:
        raise DomainError(ErrorCode.ACTION_EXISTS, f"action item {cmd.action_id!r} already exists")
    if len(ctx.state.actions) >= MAX_ACTIONS:
        raise DomainError(ErrorCode.INVALID_COMMAND, f"a conference has at most {MAX_ACTIONS} action items")
    if cmd.item_id is not None and ctx.state.item(cmd.item_id) is None:
        raise DomainError(ErrorCode.UNKNOWN_ITEM, f"no agenda item {cmd.item_id!r}")
    _check_assignees(ctx, cmd.assignees)
    _check_due(ctx, cmd.due)
    return [ActionItemCreated(action_id=cmd.action_id, item_id=cmd.item_id, title=cmd.title,
                              description=cmd.description, assignees=cmd.assignees, due=cmd.due, **ctx.meta())]


@decides(EditActionItem)
def _edit(ctx: Ctx, cmd: EditActionItem) -> list[Event]:
    ctx.require(*WRITERS, what="edit action items")
    action = _action(ctx, cmd.action_id, ActionStatus.OPEN, ActionStatus.IN_PROGRESS, what="edit")
    if cmd.assignees is not None:
        _check_assignees(ctx, cmd.assignees)
    if cmd.due is not None and cmd.due != action.due:
        _check_due(ctx, cmd.due)
    changes = {k: getattr(cmd, k) for k in ("title", "description", "assignees", "due")
               if getattr(cmd, k) is not None and getattr(cmd, k) != getattr(action, k)}
    return [ActionItemEdited(action_id=cmd.action_id, **changes, **ctx.meta())] if changes else []


@decides(PostProgress)
def _progress(ctx: Ctx, cmd: PostProgress) -> list[Event]:
    require_self_or(ctx.state, ctx.actor, cmd.site, *WRITERS, what="report progress")
    action = _action(ctx, cmd.action_id, ActionStatus.OPEN, ActionStatus.IN_PROGRESS, what="report progress on")
    if cmd.site not in action.assignees:
        raise DomainError(ErrorCode.NOT_ASSIGNEE, f"site {cmd.site} is not assigned action item {cmd.action_id!r}")
    status = ActionStatus(cmd.status) if cmd.status else ActionStatus.IN_PROGRESS
    return [ProgressPosted(action_id=cmd.action_id, site=cmd.site, text=cmd.text, percent=cmd.percent,
                           status=status, **ctx.meta())]


@decides(ConfirmActionDone)
def _confirm(ctx: Ctx, cmd: ConfirmActionDone) -> list[Event]:
    ctx.require(*WRITERS, what="confirm an action item done")
    action = _action(ctx, cmd.action_id, ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.DONE,
                     what="confirm")
    if action.confirmed:
        return []
    return [ActionDoneConfirmed(action_id=cmd.action_id, **ctx.meta())]


@decides(ReopenAction)
def _reopen(ctx: Ctx, cmd: ReopenAction) -> list[Event]:
    ctx.require(*WRITERS, what="re-open an action item")
    _action(ctx, cmd.action_id, ActionStatus.DONE, ActionStatus.CANCELLED, what="re-open")
    return [ActionReopened(action_id=cmd.action_id, reason=cmd.reason, **ctx.meta())]


@decides(CancelAction)
def _cancel(ctx: Ctx, cmd: CancelAction) -> list[Event]:
    ctx.require(*WRITERS, what="cancel an action item")
    _action(ctx, cmd.action_id, ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.DONE, what="cancel")
    return [ActionCancelled(action_id=cmd.action_id, reason=cmd.reason, **ctx.meta())]


@evolves(ActionItemCreated)
def _created(s: ConferenceState, ev: ActionItemCreated) -> None:
    s.actions[ev.action_id] = ActionItem(action_id=ev.action_id, item_id=ev.item_id, title=ev.title,
                                         description=ev.description, assignees=ev.assignees, due=ev.due,
                                         created=ev.at)


@evolves(ActionItemEdited)
def _edited(s: ConferenceState, ev: ActionItemEdited) -> None:
    action = s.actions[ev.action_id]
    for name in ("title", "description", "assignees", "due"):
        value = getattr(ev, name)
        if value is not None:
            setattr(action, name, value)


@evolves(ProgressPosted)
def _posted(s: ConferenceState, ev: ProgressPosted) -> None:
    action = s.actions[ev.action_id]
    action.updates.append(Progress(by=ev.site, at=ev.at, text=ev.text, percent=ev.percent))
    action.status = ev.status
    if ev.status is ActionStatus.DONE and not ev.actor.startswith(f"{ActorKind.SITE}:"):
        action.confirmed = True


@evolves(ActionDoneConfirmed)
def _confirmed(s: ConferenceState, ev: ActionDoneConfirmed) -> None:
    action = s.actions[ev.action_id]
    action.status = ActionStatus.DONE
    action.confirmed = True


@evolves(ActionReopened)
def _reopened(s: ConferenceState, ev: ActionReopened) -> None:
    action = s.actions[ev.action_id]
    action.status = ActionStatus.OPEN
    action.confirmed = False


@evolves(ActionCancelled)
def _cancelled(s: ConferenceState, ev: ActionCancelled) -> None:
    s.actions[ev.action_id].status = ActionStatus.CANCELLED
