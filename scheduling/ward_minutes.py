"""What the minutes record of what the wards brought: the section "Tổng hợp kiến nghị và trả
lời" (every recommendation, its sources, departments, the answers or none yet, the chair's
decision and the wards' feedback) and the results of the votes (and, for an open vote, who
voted what). Part of ``reports.minutes_content``, so inside the approved version's hash; the
keys are present only when the conference has recommendations or votes."""

from __future__ import annotations

from typing import Any

from .state import ConferenceState
from .ward_records import RecStatus


def ward_minutes_content(state: ConferenceState) -> dict[str, Any]:
    out: dict[str, Any] = {}
    recs = [r for r in state.recommendations.values() if r.status is not RecStatus.MERGED]
    if recs:
        out["recommendations"] = [{
            "rec_id": r.rec_id, "title": r.title, "text": r.text, "field": r.field, "item_id": r.item_id,
            "sources": list(r.sources), "merged_from": list(r.merged_from), "departments": list(r.departments),
            "due": r.due.isoformat() if r.due else None, "status": r.status.value, "in_meeting": r.in_meeting,
            "answers": [{"department": a.department, "mode": a.mode.value, "text": a.text, "at": a.at.isoformat(),
                         "turn_started": a.turn_started.isoformat() if a.turn_started else None}
                        for a in r.answers],
            "kept_open": list(r.kept_open), "feedback": dict(sorted(r.feedback.items())),
            "carried_from": r.carried_from,
        } for r in recs]
    if state.votes:
        out["votes"] = [{
            "vote_id": v.vote_id, "question": v.question, "options": list(v.options), "mode": v.mode.value,
            "secret": v.secret, "item_id": v.item_id, "opened_at": v.opened_at.isoformat(),
            "closed_at": v.closed_at.isoformat() if v.closed_at else None, "tally": list(v.tally()),
            "voters": len(v.ballots),
            "ballots": [] if v.secret else [{"site": b.site, "counts": list(b.counts)}
                                            for b in sorted(v.ballots.values(), key=lambda b: b.site)],
        } for v in state.votes.values()]
    return out
