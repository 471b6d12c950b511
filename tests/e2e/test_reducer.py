"""The pages' reducer (static/js/reducer.js) folds a conference's events to exactly what the
domain's ``evolve`` folds them to, as ``conference_view`` shows it: a whole realistic
conference (126 sites, 8 items, 30 speaking turns, notes, 20 action items, approval,
distribution, receipts, reminders, the mailer's report, progress) for the staff's pages, and its redacted stream for a
site's page."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from e2e_helpers import Pages, comparable

from scheduling import Actor, ConferenceCreated, Role, event_to_dict, totals
from scheduling.rules import EVOLVERS
from scheduling.visibility import redact_for_site
from server.service.read_models import conference_view
from tests.fixtures.conference import CHAIR, SECRETARIES, approve, build_quarterly_review

pytestmark = pytest.mark.asyncio(loop_scope="session")
CONFERENCE_EVENTS = {c.TYPE for c in EVOLVERS} | {ConferenceCreated.TYPE}
"""The events of a conference's stream (the other streams' events are not the page's)."""

FOLD = """async (events) => {
  const { evolve, KNOWN } = await import('/static/js/reducer.js');
  const { totals } = await import('/static/js/derive.js');
  let s = null;
  for (const e of events) s = evolve(s, e);
  return { state: s, totals: totals(s), known: KNOWN };
}"""


def conference_after_the_meeting() -> Any:
    built = build_quarterly_review()
    run = built.runner
    site = next(c for c in built.state.sites if c != built.state.main_site)
    action = next(a for a in built.state.actions.values() if a.status.value == "open")
    run.do(Actor.site(action.assignees[0]), {"type": "post_progress", "action_id": action.action_id,
                                             "site": action.assignees[0], "text": "Đã hoàn thành 50%",
                                             "percent": 50}, after=timedelta(minutes=5))
    run.do(SECRETARIES[0], {"type": "add_note", "note_id": "ghi-them", "text": "Bổ sung sau hội nghị"},
           after=timedelta(minutes=1))
    run.do(SECRETARIES[0], {"type": "edit_note", "note_id": "ghi-them", "text": "Bổ sung sau hội nghị (sửa)",
                            "rev": 1}, after=timedelta(minutes=1))
    approve(built)
    run.do(SECRETARIES[0], {"type": "distribute_minutes", "version": 1}, after=timedelta(minutes=5))
    run.do(Actor.site(site), {"type": "open_minutes", "version": 1, "site": site}, after=timedelta(minutes=5))
    run.do(Actor.site(site), {"type": "acknowledge_minutes", "version": 1, "site": site}, after=timedelta(minutes=1))
    run.do(SECRETARIES[0], {"type": "remind_minutes", "version": 1}, after=timedelta(minutes=5))
    waiting = next(c for c in built.runner.conference.minutes.receipts[1] if c != site)
    run.do(Actor.system(), {"type": "record_minutes_mail", "version": 1, "results": [
        {"recipient": f"site:{site}"}, {"recipient": f"site:{waiting}", "error": "550 5.1.1 User unknown"}]})
    run.do(CHAIR, {"type": "confirm_action_done", "action_id": action.action_id}, after=timedelta(minutes=1))
    return built, site


async def test_reducer_folds_like_evolve(pages: Pages) -> None:
    built, site = conference_after_the_meeting()
    state = built.runner.conference
    events = [json.loads(json.dumps(event_to_dict(e))) for e in built.runner.events]
    page = await pages.open("/login")

    staff = await page.evaluate(FOLD, events)
    assert set(staff["known"]) >= CONFERENCE_EVENTS, "the reducer lacks event types of the domain"
    expected = comparable(conference_view(state, frozenset({Role.CHAIR}), built.runner.now))
    assert staff["state"] == expected
    assert staff["totals"] == totals(state).to_dict()

    seen_by_site = await page.evaluate(FOLD, [redact_for_site(e) for e in events])
    assert seen_by_site["state"] == comparable(conference_view(state, frozenset({Role.SITE}), built.runner.now))
    assert seen_by_site["state"]["minutes"]["receipts"]["1"][site]["acknowledged_at"] is not None
