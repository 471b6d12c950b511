"""The server closes a vote at its deadline (as the system), so that the tally reaches every
page and the minutes without the chair's click; casting after the deadline is refused by
the domain either way."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from scheduling import SYSTEM, CloseVote, ConferenceState, DomainError, Event, VoteOpened

from ..service.hub import StreamHub
from ..service.service import Service

log = logging.getLogger(__name__)


class VoteDeadlines:
    def __init__(self, service: Service) -> None:
        self.service = service
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}

    def start(self) -> None:
        for hub in self.service.conferences.values():
            self._watch(hub)
        self.service.on_new_conference.append(self._watch)

    def _watch(self, hub: StreamHub[ConferenceState | None]) -> None:
        def on_events(events: tuple[Event, ...]) -> None:
            state = hub.state
            if state is not None and any(isinstance(e, VoteOpened) for e in events):
                self._schedule(state)
        hub.on_events.append(on_events)
        if hub.state is not None:
            self._schedule(hub.state)

    def _schedule(self, state: ConferenceState) -> None:
        for vote in state.votes.values():
            key = (state.conference_id, vote.vote_id)
            if vote.closed_at is None and key not in self._tasks:
                self._tasks[key] = asyncio.create_task(self._close(state.conference_id, vote.vote_id, vote.deadline))

    async def _close(self, conf_id: str, vote_id: str, deadline: datetime) -> None:
        try:
            await asyncio.sleep(max(0.0, (deadline - self.service.clock()).total_seconds()) + 0.05)
            await self.service.run_conference(conf_id, CloseVote(key=f"close-{vote_id}"[:64], vote_id=vote_id), SYSTEM)
        except DomainError as exc:   # closed meanwhile by the chair or another process
            log.debug("vote %s/%s not closed at its deadline: %s", conf_id, vote_id, exc)
        finally:
            self._tasks.pop((conf_id, vote_id), None)

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
