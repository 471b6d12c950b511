"""The agenda: items with a presenter and a planned duration, edited before and during the
conference, and run by the chair (start, finish, skip, re-open). Time spent per item is the
sum of its runs, so overrun is derivable at any point of the log."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .actors import Role
from .base import Command, Event, check_id, check_range, check_text, command, event
from .errors import DomainError, ErrorCode, ValidationError
from .rules import OPEN_PHASES, Ctx, decides, evolves
from .state import AgendaItem, ConferenceState, ItemStatus, Phase, Run

MAX_ITEMS = 200
MAX_DOCUMENTS = 50
MAX_FOLLOW_UP = 500
# an agenda item reviews action items of an earlier conference: "<conference_id>/<action_id>"
FOLLOW_UP_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}/[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
FOLLOW_UP_ITEM = "kiem-diem-nhiem-vu"
FOLLOW_UP_TITLE = "Kiểm điểm việc thực hiện nhiệm vụ được giao"   # review of the tasks assigned


def follow_up_ref(conference_id: str, action_id: str) -> str:
    return f"{conference_id}/{action_id}"


def _check_item_fields(title: str | None, presenter: str | None, minutes: int | None,
                       documents: tuple[str, ...] | None) -> None:
    if title is not None:
        check_text("title", title, max_len=500)
    if presenter is not None:
        check_text("presenter", presenter, max_len=200, required=False)
    if minutes is not None:
        check_range("planned_minutes", minutes, 0, 24 * 60)
    if documents is not None:
        if len(documents) > MAX_DOCUMENTS:
            raise ValidationError(f"documents: at most {MAX_DOCUMENTS}")
        for i, doc in enumerate(documents):
            check_text(f"documents[{i}]", doc, max_len=500)


@command
@dataclass(frozen=True, kw_only=True)
class AddAgendaItem(Command):
    TYPE = "add_agenda_item"
    item_id: str
    title: str
    presenter: str = ""
    planned_minutes: int = 0
    documents: tuple[str, ...] = ()
    position: int | None = None
    follow_up: tuple[str, ...] = ()

    def check(self) -> None:
        check_id("item_id", self.item_id)
        _check_item_fields(self.title, self.presenter, self.planned_minutes, self.documents)
        if self.position is not None:
            check_range("position", self.position, 0, MAX_ITEMS)
        if len(self.follow_up) > MAX_FOLLOW_UP:
            raise ValidationError(f"follow_up: at most {MAX_FOLLOW_UP} action items")
        for i, ref in enumerate(self.follow_up):
            if not FOLLOW_UP_REF.match(ref):
                raise ValidationError(f"follow_up[{i}]: {ref[:60]!r} is not <conference_id>/<action_id>")
        if len(set(self.follow_up)) != len(self.follow_up):
            raise ValidationError("follow_up: duplicates are not allowed")


@command
@dataclass(frozen=True, kw_only=True)
class EditAgendaItem(Command):
    TYPE = "edit_agenda_item"
    item_id: str
    title: str | None = None
    presenter: str | None = None
    planned_minutes: int | None = None
    documents: tuple[str, ...] | None = None

    def check(self) -> None:
        check_id("item_id", self.item_id)
        _check_item_fields(self.title, self.presenter, self.planned_minutes, self.documents)


@command
@dataclass(frozen=True, kw_only=True)
class RemoveAgendaItem(Command):
    TYPE = "remove_agenda_item"
    item_id: str


@command
@dataclass(frozen=True, kw_only=True)
class ReorderAgenda(Command):
    TYPE = "reorder_agenda"
    order: tuple[str, ...]

    def check(self) -> None:
        if len(self.order) > MAX_ITEMS:
            raise ValidationError(f"order: at most {MAX_ITEMS} items")


@command
@dataclass(frozen=True, kw_only=True)
class StartItem(Command):
    TYPE = "start_item"
    item_id: str


@command
@dataclass(frozen=True, kw_only=True)
class FinishItem(Command):
    TYPE = "finish_item"
    item_id: str


@command
@dataclass(frozen=True, kw_only=True)
class SkipItem(Command):
    TYPE = "skip_item"
    item_id: str


@command
@dataclass(frozen=True, kw_only=True)
class ReopenItem(Command):
    TYPE = "reopen_item"
    item_id: str


@event
@dataclass(frozen=True, kw_only=True)
class AgendaItemAdded(Event):
    TYPE = "agenda_item_added"
    item_id: str
    title: str
    presenter: str
    planned_minutes: int
    documents: tuple[str, ...]
    position: int
    follow_up: tuple[str, ...] = ()


@event
@dataclass(frozen=True, kw_only=True)
class AgendaItemEdited(Event):
    TYPE = "agenda_item_edited"
    item_id: str
    title: str | None = None
    presenter: str | None = None
    planned_minutes: int | None = None
    documents: tuple[str, ...] | None = None


@event
@dataclass(frozen=True, kw_only=True)
class AgendaItemRemoved(Event):
    TYPE = "agenda_item_removed"
    item_id: str


@event
@dataclass(frozen=True, kw_only=True)
class AgendaReordered(Event):
    TYPE = "agenda_reordered"
    order: tuple[str, ...]


@event
@dataclass(frozen=True, kw_only=True)
class ItemStarted(Event):
    TYPE = "item_started"
    item_id: str


@event
@dataclass(frozen=True, kw_only=True)
class ItemFinished(Event):
    TYPE = "item_finished"
    item_id: str


@event
@dataclass(frozen=True, kw_only=True)
class ItemSkipped(Event):
    TYPE = "item_skipped"
    item_id: str


@event
@dataclass(frozen=True, kw_only=True)
class ItemReopened(Event):
    TYPE = "item_reopened"
    item_id: str


def _edit_rights(ctx: Ctx, what: str) -> None:
    ctx.require(Role.ADMIN, Role.CHAIR, Role.SECRETARY, what=what)
    ctx.require_phase(*OPEN_PHASES, what=what)


def _item(ctx: Ctx, item_id: str, *statuses: ItemStatus, what: str) -> AgendaItem:
    item = ctx.state.item(item_id)
    if item is None:
        raise DomainError(ErrorCode.UNKNOWN_ITEM, f"no agenda item {item_id!r}")
    if statuses and item.status not in statuses:
        allowed = " or ".join(s.value for s in statuses)
        raise DomainError(ErrorCode.WRONG_ITEM_STATUS,
                          f"cannot {what} item {item_id!r}: it is {item.status.value}, not {allowed}")
    return item


@decides(AddAgendaItem)
def _add(ctx: Ctx, cmd: AddAgendaItem) -> list[Event]:
    _edit_rights(ctx, "edit the agenda")
    agenda = ctx.state.agenda
    if ctx.state.item(cmd.item_id) is not None:
        raise DomainError(ErrorCode.ITEM_EXISTS, f"agenda item {cmd.item_id!r} already exists")
    if len(agenda) >= MAX_ITEMS:
        raise DomainError(ErrorCode.INVALID_COMMAND, f"an agenda has at most {MAX_ITEMS} items")
    position = len(agenda) if cmd.position is None else min(cmd.position, len(agenda))
    return [AgendaItemAdded(item_id=cmd.item_id, title=cmd.title, presenter=cmd.presenter,
                            planned_minutes=cmd.planned_minutes, documents=cmd.documents,
                            position=position, follow_up=cmd.follow_up, **ctx.meta())]


@decides(EditAgendaItem)
def _edit(ctx: Ctx, cmd: EditAgendaItem) -> list[Event]:
    _edit_rights(ctx, "edit the agenda")
    item = _item(ctx, cmd.item_id, what="edit")
    changes = {k: getattr(cmd, k) for k in ("title", "presenter", "planned_minutes", "documents")
               if getattr(cmd, k) is not None and getattr(cmd, k) != getattr(item, k)}
    return [AgendaItemEdited(item_id=cmd.item_id, **changes, **ctx.meta())] if changes else []


@decides(RemoveAgendaItem)
def _remove(ctx: Ctx, cmd: RemoveAgendaItem) -> list[Event]:
    _edit_rights(ctx, "edit the agenda")
    item = _item(ctx, cmd.item_id, ItemStatus.PENDING, what="remove")
    if item.runs:
        raise DomainError(ErrorCode.WRONG_ITEM_STATUS, f"item {cmd.item_id!r} has already been discussed")
    s = ctx.state   # what refers to the item would drop out of the minutes
    if any(n.item_id == cmd.item_id for n in s.notes.values()) or \
            any(a.item_id == cmd.item_id for a in s.actions.values()):
        raise DomainError(ErrorCode.WRONG_ITEM_STATUS,
                          f"item {cmd.item_id!r} has notes or action items that the minutes list under it")
    return [AgendaItemRemoved(item_id=cmd.item_id, **ctx.meta())]


@decides(ReorderAgenda)
def _reorder(ctx: Ctx, cmd: ReorderAgenda) -> list[Event]:
    _edit_rights(ctx, "reorder the agenda")
    current = [i.item_id for i in ctx.state.agenda]
    unknown = [i for i in cmd.order if i not in current]
    if unknown:
        raise DomainError(ErrorCode.BAD_ORDER, f"unknown agenda item(s): {', '.join(unknown[:10])}")
    if len(set(cmd.order)) != len(cmd.order):
        raise DomainError(ErrorCode.BAD_ORDER, "an item appears twice in the order")
    missing = [i for i in current if i not in cmd.order]
    if missing:
        raise DomainError(ErrorCode.BAD_ORDER, f"the order leaves out: {', '.join(missing[:10])}")
    if list(cmd.order) == current:
        return []
    return [AgendaReordered(order=cmd.order, **ctx.meta())]


@decides(StartItem)
def _start(ctx: Ctx, cmd: StartItem) -> list[Event]:
    ctx.require(Role.CHAIR, what="run the agenda")
    ctx.require_phase(Phase.LIVE, what="start an agenda item")
    _item(ctx, cmd.item_id, ItemStatus.PENDING, what="start")
    active = ctx.state.active_item()
    out: list[Event] = [ItemFinished(item_id=active.item_id, **ctx.meta())] if active else []
    return [*out, ItemStarted(item_id=cmd.item_id, **ctx.meta())]


@decides(FinishItem)
def _finish(ctx: Ctx, cmd: FinishItem) -> list[Event]:
    ctx.require(Role.CHAIR, what="run the agenda")
    ctx.require_phase(Phase.LIVE, what="finish an agenda item")
    _item(ctx, cmd.item_id, ItemStatus.ACTIVE, what="finish")
    return [ItemFinished(item_id=cmd.item_id, **ctx.meta())]


@decides(SkipItem)
def _skip(ctx: Ctx, cmd: SkipItem) -> list[Event]:
    ctx.require(Role.CHAIR, what="run the agenda")
    ctx.require_phase(Phase.LIVE, what="skip an agenda item")
    _item(ctx, cmd.item_id, ItemStatus.PENDING, what="skip")
    return [ItemSkipped(item_id=cmd.item_id, **ctx.meta())]


@decides(ReopenItem)
def _reopen(ctx: Ctx, cmd: ReopenItem) -> list[Event]:
    ctx.require(Role.CHAIR, what="run the agenda")
    ctx.require_phase(Phase.LIVE, what="re-open an agenda item")
    _item(ctx, cmd.item_id, ItemStatus.DONE, ItemStatus.SKIPPED, what="re-open")
    return [ItemReopened(item_id=cmd.item_id, **ctx.meta())]


def _get(s: ConferenceState, item_id: str) -> AgendaItem:
    item = s.item(item_id)
    assert item is not None, item_id  # events are only recorded after decide checked them
    return item


@evolves(AgendaItemAdded)
def _added(s: ConferenceState, ev: AgendaItemAdded) -> None:
    s.agenda.insert(ev.position, AgendaItem(item_id=ev.item_id, title=ev.title, presenter=ev.presenter,
                                            planned_minutes=ev.planned_minutes, documents=ev.documents,
                                            follow_up=ev.follow_up))


@evolves(AgendaItemEdited)
def _edited(s: ConferenceState, ev: AgendaItemEdited) -> None:
    item = _get(s, ev.item_id)
    for name in ("title", "presenter", "planned_minutes", "documents"):
        value = getattr(ev, name)
        if value is not None:
            setattr(item, name, value)


@evolves(AgendaItemRemoved)
def _removed(s: ConferenceState, ev: AgendaItemRemoved) -> None:
    s.agenda = [i for i in s.agenda if i.item_id != ev.item_id]


@evolves(AgendaReordered)
def _reordered(s: ConferenceState, ev: AgendaReordered) -> None:
    by_id = {i.item_id: i for i in s.agenda}
    s.agenda = [by_id[i] for i in ev.order]


@evolves(ItemStarted)
def _started(s: ConferenceState, ev: ItemStarted) -> None:
    item = _get(s, ev.item_id)
    item.status = ItemStatus.ACTIVE
    item.runs.append(Run(started=ev.at))


@evolves(ItemFinished)
def _finished(s: ConferenceState, ev: ItemFinished) -> None:
    item = _get(s, ev.item_id)
    item.status = ItemStatus.DONE
    if item.runs and item.runs[-1].ended is None:
        item.runs[-1].ended = ev.at


@evolves(ItemSkipped)
def _skipped(s: ConferenceState, ev: ItemSkipped) -> None:
    _get(s, ev.item_id).status = ItemStatus.SKIPPED


@evolves(ItemReopened)
def _reopened(s: ConferenceState, ev: ItemReopened) -> None:
    _get(s, ev.item_id).status = ItemStatus.PENDING
