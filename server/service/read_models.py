"""Read models handed to pages and API clients: the conference state as plain data, shaped
for who asks (a welcome's snapshot, a conference's summary, the action items dashboard)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from scheduling import (
    STAFF_ROLES,
    ActionStatus,
    Actor,
    ActorKind,
    ConferenceState,
    Role,
    roles_in,
    speaking_seconds,
    totals,
)
from scheduling.codec import to_plain
from scheduling.visibility import without_contacts

from ..errors import ApiError
from .hub import CachedView, StreamHub
from .service import Service


def conference_view(state: ConferenceState, roles: frozenset[Role], now: datetime,
                    names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The state at ``state.version`` as plain data (the snapshot of a ``welcome``).
    ``names``: display names of accounts, for the chair, staff and note authors."""
    plain: dict[str, Any] = to_plain(state)
    plain.pop("results", None)
    plain["seq"] = plain.pop("version")
    plain["floor"]["muted"] = sorted(state.floor.muted)
    plain["totals"] = totals(state).to_dict()
    plain["speaking_seconds"] = {k: round(v) for k, v in speaking_seconds(state, now).items()}
    people = {state.chair, *state.secretaries, *state.observers,
              *(n.author.split(":", 1)[1] for n in state.notes.values() if n.author.startswith("account:"))}
    plain["people"] = {a: (names or {}).get(a, a) for a in sorted(people)}
    if not roles & STAFF_ROLES:
        plain["notes"] = {}
        plain["minutes"]["mail"] = {}   # the mailer's reports stay with the staff (visibility.py)
        for version in plain["minutes"]["approved"]:
            version.pop("content", None)
        plain["sites"] = {code: without_contacts(site) for code, site in plain["sites"].items()}
        for vote in plain["votes"].values():   # who voted, not what (visibility.SITE_ZEROED)
            for ballot in vote["ballots"].values():
                ballot["counts"] = [0] * len(ballot["counts"])
    return plain


SNAPSHOT_MAX_AGE_S = 1.0


def snapshot(hub: StreamHub[ConferenceState | None], roles: frozenset[Role], now: datetime,
             names: Callable[[], Mapping[str, str]], monotonic: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """:func:`conference_view` of the hub's state for a ``welcome``, built once per seq, view
    (staff or site) and second, then shared: when 10,000 pages reconnect after a restart the
    view (~5 ms for 126 sites) is built a few times, not 10,000. Within that second only the
    floor holder's ``speaking_seconds`` can lag, and the page's timer counts on from it."""
    state = hub.state
    assert state is not None
    kind = "staff" if roles & STAFF_ROLES else "site"
    t = monotonic()
    cached = hub.snapshots.get(kind)
    if cached is not None and cached.seq == state.version and t - cached.built_at < SNAPSHOT_MAX_AGE_S:
        return cached.view
    view = conference_view(state, roles, now, names())
    hub.snapshots[kind] = CachedView(state.version, t, view)
    return view


def conference_summary(state: ConferenceState) -> dict[str, Any]:
    return {
        "conference_id": state.conference_id, "title": state.title, "kind": state.kind.value,
        "phase": state.phase.value, "starts_at": state.starts_at.isoformat(), "ends_at": state.ends_at.isoformat(),
        "timezone": state.timezone, "main_site": state.main_site, "chair": state.chair,
        "secretaries": list(state.secretaries), "sites": len(state.sites), "series": state.series,
        "seq": state.version, "totals": totals(state).to_dict(),
    }


def select_actions(svc: Service, actor: Actor, query: Any) -> list[dict[str, Any]]:
    """The rows of the dashboard with its filters (conference, site, status, overdue=1), as
    ``GET /api/v1/actions`` lists them; a site sees only its own."""
    try:
        status = ActionStatus(query["status"]) if "status" in query else None
    except ValueError:
        raise ApiError("bad_request", "status: one of open, in_progress, done, cancelled") from None
    site_filter = actor.id if actor.kind is ActorKind.SITE else query.get("site")
    rows = []
    for hub in svc.conferences.values():
        state = hub.state
        if state is None or ("conference" in query and state.conference_id != query["conference"]):
            continue
        if not roles_in(state, actor):   # an account sees the conferences it has a role in; a site, its own
            continue
        today = svc.clock().astimezone(state.tz).date()
        for a in state.actions.values():
            if (site_filter and site_filter not in a.assignees) or (status and a.status is not status):
                continue
            overdue = a.is_overdue(today)
            if query.get("overdue") in ("1", "true") and not overdue:
                continue
            rows.append({**to_plain(a), "conference_id": state.conference_id, "conference": state.title,
                         "overdue": overdue,
                         "assignee_names": [state.sites[c].name for c in a.assignees if c in state.sites]})
    rows.sort(key=lambda r: (r["due"], r["conference_id"], r["action_id"]))
    return rows
