"""Which sites have a page connected: live state, shared between processes, and the few
transitions worth a permanent event.

Live (in memory, and on the Redis board between processes), told to the pages in
``presence`` messages (changes batched every ``ANNOUNCE_S``: a page that reloads in between
is not even announced):

    online        a page of the site is connected to some process
    reconnecting  its last page went less than ``offline_after_s`` ago
    offline       it has been away longer (or never came)

Recorded in the conference's log (``connection_changed``) only when it means something:

    online    the site came online for the first time, or came back after being offline
    offline   it stayed away past ``offline_after_s``

so a reload, a link that drops and comes back within the threshold, or a storm of reconnects
from one join link records nothing more: at most one ``online`` and one ``offline`` per
``offline_after_s`` for a site, whatever the number of connections. Sites coming online within
``ONLINE_BATCH_S`` of each other are recorded in one command (``set_connections``). (Logs written before this
also hold ``reconnecting``: it reads as away, not yet offline.)

With several processes (Redis), each keeps on a shared :class:`Board` the sites it has pages
of, renewed every ``every_s`` and forgotten ``3 * every_s`` after it stops (a process killed
with its pages). A site taken or let go by a process is told to the others at once (the
board's ``changes``: Redis pub/sub), so a chair on another process sees it within a batch of
live changes. Every ``every_s`` each process also looks (what a lost message or a dead
process leaves behind): a site another process holds is online
here too; a site nobody holds that was online is reconnecting, then offline; a site it holds
itself that the log shows offline is recorded online again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Collection
from typing import Protocol

from scheduling import (
    MAX_AT_ONCE,
    SYSTEM,
    ConferenceState,
    Connection,
    DomainError,
    Phase,
    SetConnections,
)

from ..service.service import Service
from ..store import StoreError

log = logging.getLogger(__name__)
ANNOUNCE_S = 0.2     # live changes are told to the pages in batches this far apart
ONLINE_BATCH_S = 0.2     # sites coming online are recorded together, in one command, this long after the first
Key = tuple[str, str]   # (conference, site)


class Board(Protocol):
    """Where processes say which sites they have pages of (``conference|site``): the Redis store."""

    async def hold(self, owner: str, members: Collection[str], ttl_s: float) -> None: ...
    async def hold_one(self, owner: str, member: str, held: bool, ttl_s: float) -> None: ...
    async def held(self) -> set[str]: ...
    def changes(self) -> AsyncIterator[tuple[str, str, bool]]: ...


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
        self.pages: dict[Key, int] = {}
        self.elsewhere: set[str] = set()          # members other processes held at the last look
        self.live: dict[Key, Connection] = {}      # what this process knows beyond the log
        self.listeners: list[Callable[[str, dict[str, str]], None]] = []
        """Told each batch of live changes: (conference, {site: connection})."""
        self._announced: dict[Key, Connection] = {}
        self._pending: dict[str, dict[str, Connection]] = {}
        self._flush: asyncio.TimerHandle | None = None
        self._timers: dict[Key, asyncio.Task[None]] = {}
        self._coming: dict[str, tuple[set[str], asyncio.Future[None]]] = {}
        """By conference: the sites to record online in the next batch, done when they are."""
        self._recorders: dict[str, asyncio.Task[None]] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.board is not None:
            self._watcher = asyncio.create_task(self._watch(self.board), name="presence-board")
            self._listener = asyncio.create_task(self._listen(self.board), name="presence-changes")

    # -- the live view -------------------------------------------------------------------------
    def view(self, conf_id: str) -> dict[str, str]:
        """The live connection of each site of a conference (what a page's welcome carries)."""
        hub = self.service.conferences.get(conf_id)
        state = hub.state if hub is not None else None
        if state is None:
            return {}
        return {code: self.live.get((conf_id, code), att.connection).value for code, att in state.attendance.items()}

    def _set_live(self, key: Key, connection: Connection) -> None:
        if self.live.get(key) is connection:
            return
        self.live[key] = connection
        self._pending.setdefault(key[0], {})[key[1]] = connection
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(ANNOUNCE_S, self._announce)

    def _announce(self) -> None:
        self._flush = None
        pending, self._pending = self._pending, {}
        for conf_id, changes in pending.items():
            told = {site: c.value for site, c in changes.items() if self._announced.get((conf_id, site)) is not c}
            if not told:
                continue
            for site in told:
                self._announced[(conf_id, site)] = changes[site]
            for listener in tuple(self.listeners):
                try:
                    listener(conf_id, told)
                except Exception:
                    log.exception("a presence listener failed")

    # -- pages come and go ---------------------------------------------------------------------
    async def connected(self, conf_id: str, site: str) -> None:
        key = (conf_id, site)
        self.pages[key] = self.pages.get(key, 0) + 1
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        self._set_live(key, Connection.ONLINE)
        if self.pages[key] == 1:
            await self._hold(conf_id, site, True)   # on the board before the log says online
            if self._recorded(conf_id, site) not in (Connection.ONLINE, None):
                # first time, or back: recorded before the page's first command is read
                await asyncio.shield(self._online(conf_id, site))

    async def disconnected(self, conf_id: str, site: str) -> None:
        key = (conf_id, site)
        self.pages[key] = self.pages.get(key, 1) - 1
        if self.pages[key] > 0:
            return
        del self.pages[key]
        await self._hold(conf_id, site, False)
        if _member(conf_id, site) not in self.elsewhere:
            self.lost(conf_id, site)

    def lost(self, conf_id: str, site: str) -> None:
        """A site with no page here (its last page went, or found so at start-up): reconnecting
        now, offline if it does not come back within ``offline_after_s``."""
        key = (conf_id, site)
        if key in self.pages or key in self._timers:
            return
        self._set_live(key, Connection.RECONNECTING)
        self._timers[key] = asyncio.create_task(self._go_offline(conf_id, site))

    async def _go_offline(self, conf_id: str, site: str) -> None:
        key = (conf_id, site)
        try:
            await asyncio.sleep(self.offline_after_s)
            if key in self.pages:
                return
            if self.board is not None:
                with contextlib.suppress(StoreError):   # the store is down: the last look stands
                    self.elsewhere = await self.board.held() - {_member(*k) for k in self.pages}
                if _member(conf_id, site) in self.elsewhere:
                    self._set_live(key, Connection.ONLINE)
                    return
            self._set_live(key, Connection.OFFLINE)
            if self._recorded(conf_id, site) not in (Connection.OFFLINE, None):
                await self._record(conf_id, (site,), Connection.OFFLINE)
        finally:
            if self._timers.get(key) is asyncio.current_task():
                del self._timers[key]

    # -- between processes ---------------------------------------------------------------------
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

    async def _listen(self, board: Board) -> None:
        """Another process took or let go of a site: shown here at once (the next batch of
        live changes), not at the next look at the board."""
        while True:
            try:
                async for owner, member, held in board.changes():
                    if owner != self.owner:
                        await self._heard(board, member, held)
            except Exception:
                log.exception("presence changes failed")
            await asyncio.sleep(1.0)

    async def _heard(self, board: Board, member: str, held: bool) -> None:
        conf_id, _, site = member.partition("|")
        key = (conf_id, site)
        hub = self.service.conferences.get(conf_id)
        state = hub.state if hub is not None else None
        if state is None or site not in state.attendance or state.phase in (Phase.ENDED, Phase.CANCELLED):
            return
        if held:
            self.elsewhere.add(member)
            timer = self._timers.pop(key, None)
            if timer is not None:
                timer.cancel()
            self._set_live(key, Connection.ONLINE)
            return
        with contextlib.suppress(StoreError):     # a third process may still hold it
            self.elsewhere = await board.held() - {_member(*k) for k in self.pages}
        if member not in self.elsewhere and key not in self.pages:
            self.lost(conf_id, site)

    async def sweep(self, board: Board) -> None:
        """Renew what this process holds; see what the others hold; set the live view right."""
        mine = {_member(c, s) for c, s in self.pages}
        await board.hold(self.owner, mine, 3 * self.every_s)
        held = await board.held()
        self.elsewhere = held - mine
        for conf_id, state in self._running():
            for code, att in state.attendance.items():
                key = (conf_id, code)
                if key in self.pages:
                    if att.connection is not Connection.ONLINE:   # recorded offline by another process
                        self._online(conf_id, code)
                elif _member(conf_id, code) in held:
                    timer = self._timers.pop(key, None)
                    if timer is not None:
                        timer.cancel()
                    self._set_live(key, Connection.ONLINE)
                elif self.live.get(key, att.connection) is not Connection.OFFLINE:
                    self.lost(conf_id, code)

    def _running(self) -> list[tuple[str, ConferenceState]]:
        return [(conf_id, hub.state) for conf_id, hub in self.service.conferences.items()
                if hub.state is not None and hub.state.phase not in (Phase.ENDED, Phase.CANCELLED)]

    # -- the log -------------------------------------------------------------------------------
    def _recorded(self, conf_id: str, site: str) -> Connection | None:
        hub = self.service.conferences.get(conf_id)
        state = hub.state if hub is not None else None
        att = state.attendance.get(site) if state is not None else None
        return att.connection if att is not None else None

    def _online(self, conf_id: str, site: str) -> asyncio.Future[None]:
        """Record ``site`` online with the others coming online in the next ``ONLINE_BATCH_S``
        (done when they are): when a conference opens, or every page comes back after a
        restart, a hundred sites come online within seconds, and each event went to every page
        connected by then (10,000 pages: two thirds of the server's CPU while they connected).
        Together they are one command, written to each page at once (``fanout.PageFanout``)."""
        if conf_id not in self._coming:
            self._coming[conf_id] = (set(), asyncio.get_running_loop().create_future())
        sites, recorded = self._coming[conf_id]
        sites.add(site)
        if conf_id not in self._recorders:
            self._recorders[conf_id] = asyncio.create_task(self._record_coming(conf_id))
        return recorded

    async def _record_coming(self, conf_id: str) -> None:
        try:
            while conf_id in self._coming:
                await asyncio.sleep(ONLINE_BATCH_S)
                coming, recorded = self._coming.pop(conf_id)
                sites = sorted(coming)
                try:
                    for i in range(0, len(sites), MAX_AT_ONCE):
                        await self._record(conf_id, tuple(sites[i:i + MAX_AT_ONCE]), Connection.ONLINE)
                finally:
                    recorded.set_result(None)
        finally:                                   # done, or the server stops: nobody waits for ever
            del self._recorders[conf_id]
            if conf_id in self._coming:
                self._coming.pop(conf_id)[1].set_result(None)

    async def _record(self, conf_id: str, sites: tuple[str, ...], connection: Connection) -> None:
        try:
            await self.service.run_conference(
                conf_id, SetConnections(key=f"conn-{uuid.uuid4().hex}", sites=sites, connection=connection), SYSTEM)
        except (DomainError, StoreError) as exc:   # e.g. the conference was cancelled meanwhile; the store is down
            log.info("connection of %s in %s not recorded: %s", ", ".join(sites), conf_id, exc)

    async def close(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
        for task in (self._watcher, self._listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for task in [*self._timers.values(), *self._recorders.values()]:
            task.cancel()
        await asyncio.gather(*self._timers.values(), *self._recorders.values(), return_exceptions=True)
