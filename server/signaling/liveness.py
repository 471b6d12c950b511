"""Dead-link detection for every page of this process, with one timer.

Ten times per ``heartbeat_s`` a sweep pings (one prebuilt frame) the pages that have been
silent for most of an interval, and aborts those silent for ``2.5 x heartbeat_s`` — a browser
answers pings by itself, so only a dead link stays silent that long. Cheaper than a timer per
socket, and tolerant of a page that is merely busy for a second. A link that dies is dropped at
most ``2.6 x heartbeat_s`` after the page was last heard (7.8 s with the default 3 s).

The sweeps are frequent so that the pings are spread: each page is pinged on the sweep after
its own interval runs out, so with 10,000 pages a sweep pings about 1,000 of them, not all at
once. (Two sweeps per interval put every page on one of two beats: 5,000 pings and then 5,000
pongs in a burst, which held up the events that came in behind it.)

With ``ack_liveness`` (off by default: docs/operations.md), a page whose socket acknowledged
data (an event) within the interval is not pinged: the ACK stands in for the pong
(``tcp_acks.py``; Linux, and only where the socket ends at the browser). An ACK never answers
for a ping: once a page is pinged only a frame from it (the pong) counts, so a page whose kernel
still acknowledges but which no longer answers is dropped on the same clock. A dead link
acknowledges nothing: it is pinged at most one interval after its last ACK and dropped 2.5
intervals after it. A relay that acknowledges for the page (a proxy, a TCP accelerator) hides a
dead link while events flow: hence off by default.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol

from aiohttp import web

from .tcp_acks import AckAge

SWEEPS_PER_INTERVAL = 10
PING_FRAME = b"\x89\x00"     # FIN + ping, no payload, unmasked (server to client)


class Watched(Protocol):
    last_heard: float
    pinged_at: float
    ack_age: AckAge | None

    def ping(self, frame: bytes) -> None: ...

    def abort(self) -> None: ...

    async def going_away(self) -> None: ...


class Liveness:
    def __init__(self, heartbeat_s: float) -> None:
        self.heartbeat_s = heartbeat_s
        self.dead_after_s = 2.5 * heartbeat_s
        self.pages: set[Watched] = set()
        self.stopping = False          # the server stops: pages are closed, not watched
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._sweep_forever(), name="liveness")

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s / SWEEPS_PER_INTERVAL)
            self.sweep(time.monotonic())

    def sweep(self, now: float) -> None:
        for page in tuple(self.pages):
            silent = now - page.last_heard
            if silent >= self.heartbeat_s and page.ack_age is not None and page.pinged_at <= page.last_heard:
                acked = page.ack_age()    # no ping outstanding: recent ACKs stand in for a pong
                if acked is not None and acked < self.heartbeat_s:
                    page.last_heard = now - acked
                    continue
            if silent > self.dead_after_s:
                self.pages.discard(page)
                page.abort()
            elif silent >= self.heartbeat_s and now - page.pinged_at >= self.heartbeat_s:
                page.pinged_at = now    # a page slow to answer is not pinged on every sweep
                page.ping(PING_FRAME)

    async def going_away(self, timeout_s: float = 3.0) -> None:
        """The server stops: every watched page is closed 1001 (going away: reconnect), at
        once, so that it comes back on another process now (else a sweep dropped it ~2.5
        heartbeats later: 7.6 s measured). A page whose hello ends after this is closed as it
        comes (``stopping``)."""
        self.stopping = True
        pages = list(self.pages)
        self.pages.clear()
        if pages:
            await asyncio.wait([asyncio.ensure_future(page.going_away()) for page in pages], timeout=timeout_s)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


LIVENESS: web.AppKey[Liveness] = web.AppKey("liveness", Liveness)
