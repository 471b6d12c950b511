"""The server's clock-driven commands: a speaker's time limit running out."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime

from scheduling import SYSTEM, ConferenceState, DomainError, Event, ExpireFloor, FloorGranted

from ..service.hub import StreamHub
from ..service.service import Service

log = logging.getLogger(__name__)


class FloorTimers:
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
            if state is not None and any(isinstance(e, FloorGranted) for e in events):
                self._schedule(state)
        hub.on_events.append(on_events)
        if hub.state is not None:
            self._schedule(hub.state)

    def _schedule(self, state: ConferenceState) -> None:
        for sp in state.floor.speakers.values():
            key = (state.conference_id, sp.site)
            if sp.until is not None:
                old = self._tasks.pop(key, None)
                if old is not None:
                    old.cancel()
                self._tasks[key] = asyncio.create_task(self._expire(state.conference_id, sp.site, sp.until))

    async def _expire(self, conf_id: str, site: str, until: datetime) -> None:
        try:
            delay = (until - self.service.clock()).total_seconds()
            await asyncio.sleep(max(0.0, delay) + 0.05)
            cmd = ExpireFloor(key=f"expire-{uuid.uuid4().hex}", site=site)
            await self.service.run_conference(conf_id, cmd, SYSTEM)
        except DomainError as exc:   # released or revoked meanwhile, or another process did it
            log.debug("no expiry for %s/%s: %s", conf_id, site, exc)
        finally:
            if self._tasks.get((conf_id, site)) is asyncio.current_task():
                del self._tasks[(conf_id, site)]

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
