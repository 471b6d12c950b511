"""Read models handed to pages: the conference state as plain data, shaped for who asks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from scheduling import ConferenceState, Role, speaking_seconds, totals
from scheduling.codec import to_plain


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
    if not roles & {Role.ADMIN, Role.CHAIR, Role.SECRETARY, Role.OBSERVER}:
        plain["notes"] = {}
        plain["minutes"]["mail"] = {}   # the mailer's reports stay with the staff (visibility.py)
        for version in plain["minutes"]["approved"]:
            version.pop("content", None)
    return plain


def conference_summary(state: ConferenceState) -> dict[str, Any]:
    return {
        "conference_id": state.conference_id, "title": state.title, "kind": state.kind.value,
        "phase": state.phase.value, "starts_at": state.starts_at.isoformat(), "ends_at": state.ends_at.isoformat(),
        "timezone": state.timezone, "main_site": state.main_site, "chair": state.chair,
        "secretaries": list(state.secretaries), "sites": len(state.sites), "series": state.series,
        "seq": state.version, "totals": totals(state).to_dict(),
    }
