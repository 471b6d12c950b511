"""Folds over a conference's state that people read: totals of attendance, speaking time
per site, time spent per agenda item and its overrun, and the canonical content of the
minutes (what documents render, and what an approval hashes)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .codec import to_plain
from .organisation import OrgSettings, number_text
from .state import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    ConferenceState,
    Connection,
    NoteKind,
    Progress,
)
from .ward_minutes import ward_minutes_content


@dataclass(frozen=True)
class Totals:
    invited: int
    online: int
    checked_in: int
    people: int
    expected: int

    def to_dict(self) -> dict[str, int]:
        return to_plain(self)  # type: ignore[no-any-return]


def totals(state: ConferenceState) -> Totals:
    """E.g. "15,234 people at 193 bridges": sites online, checked in, people present."""
    att = state.attendance
    return Totals(
        invited=len(state.sites),
        online=sum(1 for a in att.values() if a.connection is Connection.ONLINE),
        checked_in=sum(1 for a in att.values() if a.checked_in),
        people=sum(a.headcount for a in att.values() if a.checked_in),
        expected=sum(s.expected_headcount for s in state.sites.values()),
    )


def speaking_seconds(state: ConferenceState, now: datetime) -> dict[str, float]:
    """Total speaking time per site, the turns in progress counted up to ``now``."""
    out: dict[str, float] = {}
    for turn in state.floor.turns:
        out[turn.site] = out.get(turn.site, 0.0) + (turn.ended - turn.started).total_seconds()
    for sp in state.floor.speakers.values():
        out[sp.site] = out.get(sp.site, 0.0) + max(0.0, (now - sp.since).total_seconds())
    return out


def item_seconds(item: AgendaItem, now: datetime) -> float:
    return sum(((r.ended or now) - r.started).total_seconds() for r in item.runs)


def overrun_seconds(item: AgendaItem, now: datetime) -> float:
    """How far past its planned duration an item ran (0 when within it or unplanned)."""
    if not item.planned_minutes:
        return 0.0
    return max(0.0, item_seconds(item, now) - item.planned_minutes * 60)


def overdue_actions(state: ConferenceState, today: date) -> list[ActionItem]:
    return [a for a in state.actions.values() if a.is_overdue(today)]


@dataclass(frozen=True, kw_only=True)
class ActionSnapshot:
    """An action item of an earlier conference as the minutes that review it record it
    (follow-up): what it asked, of whom, by when, and how far it got."""

    ref: str                        # "<conference_id>/<action_id>", as agenda items refer to it
    conference_id: str
    conference_title: str
    action_id: str
    title: str
    assignees: tuple[str, ...]
    assignee_names: tuple[str, ...]
    due: date
    status: ActionStatus
    confirmed: bool
    overdue: bool
    last_progress: Progress | None = None


def action_snapshot(state: ConferenceState, action_id: str, today: date) -> ActionSnapshot | None:
    """The snapshot of one action item of ``state`` on ``today`` (None when there is none)."""
    a = state.actions.get(action_id)
    if a is None:
        return None
    return ActionSnapshot(
        ref=f"{state.conference_id}/{a.action_id}", conference_id=state.conference_id,
        conference_title=state.title, action_id=a.action_id, title=a.title, assignees=a.assignees,
        assignee_names=tuple(state.sites[c].name if c in state.sites else c for c in a.assignees),
        due=a.due, status=a.status, confirmed=a.confirmed, overdue=a.is_overdue(today),
        last_progress=a.updates[-1] if a.updates else None)


@dataclass(frozen=True)
class MinutesInputs:
    """What the minutes quote from outside their conference's stream, handed in as plain
    data by whoever computes them (the server): display names of accounts, and the
    snapshots of the earlier action items that agenda items review (by reference)."""

    names: Mapping[str, str] = field(default_factory=dict)
    follow_up: Mapping[str, ActionSnapshot] = field(default_factory=dict)
    organisation: OrgSettings | None = None    # the issuer's settings as of now (Decree 30 format)
    number: tuple[int, int] | None = None      # (year, number) reserved for the approval being decided


def minutes_content(state: ConferenceState, inputs: MinutesInputs | None = None) -> dict[str, Any]:
    """The canonical content of the minutes, as plain data, from the log alone; with
    ``inputs``, also the display names of the chair and secretaries (``header.names``) and
    the status of the earlier action items each agenda item reviews (``follow_up_status``)."""
    end = state.ended_at or state.ends_at
    header = {
        "conference_id": state.conference_id, "title": state.title, "kind": state.kind.value,
        "timezone": state.timezone, "planned_start": state.starts_at.isoformat(),
        "planned_end": state.ends_at.isoformat(),
        "opened_at": state.opened_at.isoformat() if state.opened_at else None,
        "ended_at": state.ended_at.isoformat() if state.ended_at else None,
        "main_site": to_plain(state.sites[state.main_site]), "chair": state.chair,
        "secretaries": list(state.secretaries), "version": state.minutes.draft_version,
    }
    if inputs is not None:
        header["names"] = {a: inputs.names[a] for a in (state.chair, *state.secretaries) if a in inputs.names}
    attendance = []
    for code, site in state.sites.items():
        a = state.attendance[code]
        attendance.append({
            "code": code, "name": site.name, "parent": site.parent, "kind": site.kind.value,
            "present": a.first_joined is not None or a.checked_in,
            "joined": a.first_joined.isoformat() if a.first_joined else None,
            "left": a.last_left.isoformat() if a.last_left else None,
            "headcount": a.headcount, "expected": site.expected_headcount,
            "leaders": to_plain(a.leaders),
        })
    agenda: list[dict[str, Any]] = []
    for item in state.agenda:
        agenda.append({
            "item_id": item.item_id, "title": item.title, "presenter": item.presenter,
            "status": item.status.value, "planned_minutes": item.planned_minutes,
            "runs": [{"started": r.started.isoformat(), "ended": (r.ended or end).isoformat()} for r in item.runs],
            "actual_seconds": round(item_seconds(item, end)),
            "follow_up": list(item.follow_up),
            "speakers": [{"site": t.site, "name": state.sites[t.site].name if t.site in state.sites else t.site,
                          "topic": t.topic, "started": t.started.isoformat(),
                          "seconds": round((t.ended - t.started).total_seconds())}
                         for t in state.floor.turns if t.item_id == item.item_id],
            "notes": [n.text for n in state.notes.values() if n.item_id == item.item_id and n.kind is NoteKind.NOTE],
            "conclusions": [n.text for n in state.notes.values()
                            if n.item_id == item.item_id and n.kind is NoteKind.CONCLUSION],
        })
        slides = slides_shown(state, item.item_id, end)
        if slides:   # only where a deck was shown: minutes without slides keep their content
            agenda[-1]["slides"] = slides
        if inputs is not None and item.follow_up:
            agenda[-1]["follow_up_status"] = [to_plain(inputs.follow_up[ref]) for ref in item.follow_up
                                              if ref in inputs.follow_up]
    general = [{"kind": n.kind.value, "text": n.text} for n in state.notes.values() if n.item_id is None]
    actions = [{
        "action_id": a.action_id, "item_id": a.item_id, "title": a.title, "description": a.description,
        "assignees": list(a.assignees), "due": a.due.isoformat(), "status": a.status.value,
    } for a in state.actions.values()]
    content = {"header": header, "attendance": attendance, "totals": totals(state).to_dict(),
               "agenda": agenda, "general_notes": general, "actions": actions,
               **ward_minutes_content(state)}   # recommendations and votes, when there are any
    if inputs is not None and inputs.organisation is not None:
        content["record"] = record_block(inputs.organisation, inputs.number)
    return content


def record_block(settings: OrgSettings, number: tuple[int, int] | None) -> dict[str, Any]:
    """The issuer and the document number as the record prints them: the organisation's
    settings as of the approval (so they are inside its hash), and the number given to it
    (none for a draft)."""
    out: dict[str, Any] = to_plain(settings)
    if number is not None:
        year, n = number
        out |= {"year": year, "number": n, "number_text": number_text(n, settings.symbol)}
    return out


def approval_block(*, version: int, approved_by: str, approver_name: str, role: str, approved_at: datetime,
                   prev_sha256: str) -> dict[str, Any]:
    """Who approved which version when, after which hash: printed on the record, so inside
    its hash (``content["approval"]``)."""
    return {"version": version, "approved_by": approved_by, "approver_name": approver_name, "role": role,
            "approved_at": approved_at.isoformat(), "prev_sha256": prev_sha256}


def slides_shown(state: ConferenceState, item_id: str | None, end: datetime) -> list[dict[str, Any]]:
    """The pages shown during an agenda item, in order: which deck and page, who presented,
    during whose speaking turn (None: nobody held the floor), from when and for how long."""
    turns: list[tuple[str, datetime, datetime | None]] = [(t.site, t.started, t.ended) for t in state.floor.turns]
    turns += [(sp.site, sp.since, None) for sp in state.floor.speakers.values()]

    def turn_at(presenter: str, at: datetime) -> str | None:
        holders = [site for site, started, ended in turns if started <= at and (ended is None or at < ended)]
        if presenter in holders:
            return presenter
        return holders[0] if holders and presenter == state.main_site else None

    out = []
    for x in state.presentation.shown:
        if x.item_id != item_id:
            continue
        deck = state.presentation.decks.get(x.deck_id)
        out.append({"deck_id": x.deck_id, "deck": deck.name if deck else x.deck_id, "page": x.page,
                    "pages": deck.pages if deck else None, "presenter": x.presenter,
                    "turn": turn_at(x.presenter, x.at), "at": x.at.isoformat(),
                    "seconds": round(((x.ended or end) - x.at).total_seconds())})
    return out


def canonical_json(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(prev_sha256: str, content: dict[str, Any]) -> str:
    """SHA-256 over the previous version's hash and this version's canonical content."""
    return hashlib.sha256(f"{prev_sha256}\n{canonical_json(content)}".encode()).hexdigest()
