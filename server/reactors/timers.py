"""The server's clock-driven commands: what it does by itself when a time comes — a speaker's
time limit running out (``expire_floor``), a vote reaching its deadline (``close_vote``), so
that the result reaches every page and the minutes without anyone's click. The domain refuses
what is late or done already (released, revoked, closed by the chair or another process)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from scheduling import (
    SYSTEM,
    CloseVote,
    Command,
    ConferenceState,
    DomainError,
    Event,
    ExpireFloor,
    FloorGranted,
    VoteOpened,
)

from ..service.hub import StreamHub
from ..service.service import Service

log = logging.getLogger(__name__)
LATE_S = 0.05   # a little after the time, so that the domain sees it has come


@dataclass(frozen=True)
class Due:
    """A command due at ``at`` about ``subject`` (a site, a vote). ``replaces``: a new time for
    the same subject replaces the pending one (a speaker's time extended); otherwise the first
    one stands."""

    subject: str
    at: datetime
    command: Callable[[], Command]
    replaces: bool


def floor_limits(state: ConferenceState) -> Iterable[Due]:
    for sp in state.floor.speakers.values():
        if sp.until is not None:
            yield Due(sp.site, sp.until, partial(_expire_floor, sp.site), replaces=True)


def vote_deadlines(state: ConferenceState) -> Iterable[Due]:
    for vote in state.votes.values():
        if vote.closed_at is None:
            yield Due(vote.vote_id, vote.deadline, partial(_close_vote, vote.vote_id), replaces=False)


def _expire_floor(site: str) -> Command:
    return ExpireFloor(key=f"expire-{uuid.uuid4().hex}", site=site)


def _close_vote(vote_id: str) -> Command:
    return CloseVote(key=f"close-{vote_id}"[:64], vote_id=vote_id)


class Timers:
    """Runs, as the system, the commands ``due`` finds in a conference's state, each at its
    time; looks again after every event of the types in ``after``."""

    def __init__(self, service: Service, after: tuple[type[Event], ...],
                 due: Callable[[ConferenceState], Iterable[Due]]) -> None:
        self.service = service
        self.after = after
        self.due = due
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}

    def start(self) -> None:
        for hub in self.service.conferences.values():
            self._watch(hub)
        self.service.on_new_conference.append(self._watch)

    def _watch(self, hub: StreamHub[ConferenceState | None]) -> None:
        def on_events(events: tuple[Event, ...]) -> None:
            state = hub.state
            if state is not None and any(isinstance(e, self.after) for e in events):
                self._schedule(state)
        hub.on_events.append(on_events)
        if hub.state is not None:
            self._schedule(hub.state)

    def _schedule(self, state: ConferenceState) -> None:
        for due in self.due(state):
            key = (state.conference_id, due.subject)
            old = self._tasks.get(key)
            if old is not None and not due.replaces:
                continue
            if old is not None:
                old.cancel()
            self._tasks[key] = asyncio.create_task(self._run(key, due))

    async def _run(self, key: tuple[str, str], due: Due) -> None:
        conf_id, subject = key
        try:
            await asyncio.sleep(max(0.0, (due.at - self.service.clock()).total_seconds()) + LATE_S)
            await self.service.run_conference(conf_id, due.command(), SYSTEM)
        except DomainError as exc:   # done meanwhile, or by another process
            log.debug("nothing due for %s/%s: %s", conf_id, subject, exc)
        finally:
            if self._tasks.get(key) is asyncio.current_task():
                del self._tasks[key]

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)


def floor_timers(service: Service) -> Timers:
    """A speaker's time limit running out."""
    return Timers(service, (FloorGranted,), floor_limits)


def vote_timers(service: Service) -> Timers:
    """A vote closed at its deadline."""
    return Timers(service, (VoteOpened,), vote_deadlines)
