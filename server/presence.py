"""Which sites have a page connected, and the connection events that follow from it.

A site whose last page goes is ``reconnecting`` at once and ``offline`` when it has not
come back within ``offline_after_s``. The count is per server process; the offline step
is skipped when the log shows the site came back (through another process, say).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

from scheduling import (
    SYSTEM,
    Connection,
    DomainError,
    Event,
    LinkIssued,
    LinkRevoked,
    Links,
    SetConnection,
)

from .hub import StreamHub
from .service import Service
from .store import StoreError

log = logging.getLogger(__name__)


class Presence:
    def __init__(self, service: Service, offline_after_s: float) -> None:
        self.service = service
        self.offline_after_s = offline_after_s
        self.pages: dict[tuple[str, str], int] = {}
        self.kickers: dict[tuple[str, str], set[Callable[[], None]]] = {}
        self._timers: dict[tuple[str, str], asyncio.Task[None]] = {}

    async def connected(self, conf_id: str, site: str) -> None:
        key = (conf_id, site)
        self.pages[key] = self.pages.get(key, 0) + 1
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        if self.pages[key] == 1:
            await self._set(conf_id, site, Connection.ONLINE)

    async def disconnected(self, conf_id: str, site: str) -> None:
        key = (conf_id, site)
        self.pages[key] = self.pages.get(key, 1) - 1
        if self.pages[key] > 0:
            return
        del self.pages[key]
        await self._set(conf_id, site, Connection.RECONNECTING)
        self._timers[key] = asyncio.create_task(self._go_offline(conf_id, site))

    def add_kicker(self, conf_id: str, site: str, kick: Callable[[], None]) -> None:
        self.kickers.setdefault((conf_id, site), set()).add(kick)

    def remove_kicker(self, conf_id: str, site: str, kick: Callable[[], None]) -> None:
        self.kickers.get((conf_id, site), set()).discard(kick)

    def watch_links(self, links: StreamHub[Links]) -> None:
        """A revoked or re-issued join link ends the pages that came in with the old one."""
        def on_events(events: tuple[Event, ...]) -> None:
            for ev in events:
                if isinstance(ev, LinkRevoked | LinkIssued):
                    for kick in list(self.kickers.get((ev.conference_id, ev.site), ())):
                        kick()
        links.on_events.append(on_events)

    def lost(self, conf_id: str, site: str) -> None:
        """A site whose page this process no longer has (e.g. found at start-up)."""
        if (conf_id, site) not in self.pages and (conf_id, site) not in self._timers:
            self._timers[(conf_id, site)] = asyncio.create_task(self._go_offline(conf_id, site, first=True))

    async def _go_offline(self, conf_id: str, site: str, *, first: bool = False) -> None:
        try:
            if first:
                await self._set(conf_id, site, Connection.RECONNECTING)
            await asyncio.sleep(self.offline_after_s)
            hub = await self.service.conference_hub(conf_id)
            state = hub.state
            if state is not None and site in state.attendance and \
                    state.attendance[site].connection is Connection.RECONNECTING:
                await self._set(conf_id, site, Connection.OFFLINE)
        finally:
            if self._timers.get((conf_id, site)) is asyncio.current_task():
                del self._timers[(conf_id, site)]

    async def _set(self, conf_id: str, site: str, connection: Connection) -> None:
        try:
            await self.service.run_conference(
                conf_id, SetConnection(key=f"conn-{uuid.uuid4().hex}", site=site, connection=connection), SYSTEM)
        except (DomainError, StoreError) as exc:   # e.g. the site was uninvited meanwhile; the store is down
            log.info("connection of %s/%s not recorded: %s", conf_id, site, exc)

    async def close(self) -> None:
        for timer in list(self._timers.values()):
            timer.cancel()
        await asyncio.gather(*self._timers.values(), return_exceptions=True)
