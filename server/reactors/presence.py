"""Which sites have a page connected, and the connection events that follow from it.

A site whose last page goes is ``reconnecting`` at once and ``offline`` when it has not
come back within ``offline_after_s``. The count is per server process; the offline step
is skipped when the log shows the site came back (through another process, say).

With several processes (Redis), each one also keeps on a shared :class:`Board` the sites it
has pages of, renewed every ``every_s`` and forgotten ``3 * every_s`` after it stops (a
process killed with its pages). Every ``every_s`` each process looks: a site the log shows
connected that no live process holds is lost (reconnecting, then offline), and a site it
holds itself that the log shows otherwise is online again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Collection
from typing import Protocol

from scheduling import (
    SYSTEM,
    Connection,
    DomainError,
    Phase,
    SetConnection,
)

from ..service.service import Service
from ..store import StoreError

log = logging.getLogger(__name__)


class Board(Protocol):
    """Where processes say which sites they have pages of (``conference|site``): the Redis store."""

    async def hold(self, owner: str, members: Collection[str], ttl_s: float) -> None: ...
    async def hold_one(self, owner: str, member: str, held: bool, ttl_s: float) -> None: ...
    async def held(self) -> set[str]: ...


def _member(conf_id: str, site: str) -> str:
    return f"{conf_id}|{site}"


class Presence:
    def __init__(self, service: Service, offline_after_s: float, board: Board | None = None,
                 every_s: float = 3.0) -> None:
        self.service = service
        self.offline_after_s = offline_after_s
        self.board = board
        self.every_s = every_s
        self.owner = uuid.uuid4().hex
        self.pages: dict[tuple[str, str], int] = {}
        self._timers: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._watcher: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.board is not None:
            self._watcher = asyncio.create_task(self._watch(self.board), name="presence-board")

    async def connected(self, conf_id: str, site: str) -> None:
        key = (conf_id, site)
        self.pages[key] = self.pages.get(key, 0) + 1
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        if self.pages[key] == 1:
            await self._hold(conf_id, site, True)   # on the board before the log says online
            await self._set(conf_id, site, Connection.ONLINE)

    async def disconnected(self, conf_id: str, site: str) -> None:
        key = (conf_id, site)
        self.pages[key] = self.pages.get(key, 1) - 1
        if self.pages[key] > 0:
            return
        del self.pages[key]
        await self._hold(conf_id, site, False)
        await self._set(conf_id, site, Connection.RECONNECTING)
        self._timers[key] = asyncio.create_task(self._go_offline(conf_id, site))

    async def _hold(self, conf_id: str, site: str, held: bool) -> None:
        if self.board is None:
            return
        try:
            await self.board.hold_one(self.owner, _member(conf_id, site), held, 3 * self.every_s)
        except StoreError as exc:   # the next renewal says it again
            log.info("presence of %s/%s not shared: %s", conf_id, site, exc)

    async def _watch(self, board: Board) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await self.sweep(board)
            except StoreError as exc:
                log.info("presence sweep skipped: %s", exc)
            except Exception:
                log.exception("presence sweep failed")

    async def sweep(self, board: Board) -> None:
        """Renew what this process holds; find the sites nobody holds; set right what it holds."""
        await board.hold(self.owner, [_member(c, s) for c, s in self.pages], 3 * self.every_s)
        shown: list[tuple[str, str, Connection]] = []   # read the log before the board (see connected)
        for conf_id, hub in self.service.conferences.items():
            state = hub.state
            if state is None or state.phase in (Phase.ENDED, Phase.CANCELLED):
                continue
            shown += [(conf_id, code, att.connection) for code, att in state.attendance.items()]
        held = await board.held()
        for conf_id, code, connection in shown:
            if (conf_id, code) in self.pages:
                if connection is not Connection.ONLINE:
                    await self._set(conf_id, code, Connection.ONLINE)
            elif connection is not Connection.OFFLINE and _member(conf_id, code) not in held:
                self.lost(conf_id, code)

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
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        for timer in list(self._timers.values()):
            timer.cancel()
        await asyncio.gather(*self._timers.values(), return_exceptions=True)
