"""Dead-link detection for every page of this process, with one timer.

A page is *heard* when a frame of its own arrives (any message, or the pong a browser answers a
ping with: ``heard.py`` notes the time where aiohttp parses the frame, and a pong wakes no
task). A page silent for ``heartbeat_s`` is pinged; one silent for ``2.5 x heartbeat_s`` is
aborted — a browser answers pings by itself, so only a dead link stays silent that long. A link
that dies is dropped at most ``2.6 x heartbeat_s`` after the page was last heard (7.8 s with the
default 3 s).

One sweep ten times per ``heartbeat_s`` looks only at the pages whose time has come: each page
sits in the slot of the sweep when it next needs a look (a timing wheel), so a page is looked at
about once per interval, not on every sweep, and the pings of many pages are spread over the
interval (with 10,000 pages a sweep pings about 1,000 of them, not all at once).

A ping waits for an event to carry it — the page's next event frame and the ping go out in one
write (``fanout.Page.deliver``) — half an interval when events flow to the page (it was vouched
for, below, since it was last heard), else one sweep; when no event comes, the sweep writes it
alone.

With ``ack_liveness`` (a page whose kernel drops its dead link: Linux, its socket ending at
the browser, ``tcp_timeout.py``), a page that an event was written to within the interval is
not pinged: were its link dead, that write would stay unacknowledged and the kernel would close
the socket ``dead_after_s - heartbeat_s`` later, so the page is vouched for from the time of
the write (no syscall, no ping, no pong) — but only while the page itself was heard within
``proof_s`` (ten intervals): past that it is pinged all the same, and only its own frame
answers. A write never answers for a ping: once a page is pinged only a frame from it counts,
so a page whose kernel still acknowledges but which no longer answers is dropped on the same
clock. When events stop, a page is pinged one interval after the last one written to it and
dropped 2.5 intervals after it. A relay that acknowledges for the page (a proxy that sends no
``Forwarded`` header, a TCP accelerator) cannot hide a dead link for longer than ``proof_s``
more: while events flow, such a page is dropped at most ``proof_s + 2.6 x heartbeat_s``
(37.8 s) after it was last heard. That is a safety net, not the rule: a proxy says so
(``Forwarded``...) and its pages are pinged every interval; an operator behind a TCP relay that
says nothing turns ``ack_liveness`` off (docs/operations.md). Each proof costs a pong read, and
pongs trickle in one wake-up each: every two intervals, they were a fifth of the fan-out's CPU
at 1,000 pages (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol

from aiohttp import web

from .frames import PING_FRAME

SWEEPS_PER_INTERVAL = 10
PROOF_INTERVALS = 10.0    # with the kernel's word: the page itself must have been heard within this many intervals


class Watched(Protocol):
    last_heard: float
    pinged_at: float
    ping_due: bool
    written_at: float
    kernel_drops: bool
    watched: bool

    def ping(self, frame: bytes) -> None: ...

    def abort(self) -> None: ...

    async def going_away(self) -> None: ...


class Liveness:
    def __init__(self, heartbeat_s: float) -> None:
        self.heartbeat_s = heartbeat_s
        self.dead_after_s = 2.5 * heartbeat_s
        self.unacked_s = self.dead_after_s - heartbeat_s   # a write unacknowledged this long: the kernel drops it
        self.proof_s = PROOF_INTERVALS * heartbeat_s
        self.period = heartbeat_s / SWEEPS_PER_INTERVAL
        self._wheel: dict[int, list[Watched]] = {}
        self._vouched_at: dict[Watched, float] = {}   # a page alive as far as its kernel says: when last written to
        self._swept = int(time.monotonic() / self.period)   # the last slot looked at
        self.stopping = False          # the server stops: pages are closed, not watched
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._sweep_forever(), name="liveness")

    # -- the pages -------------------------------------------------------------------------
    def watch(self, page: Watched) -> None:
        """Watch ``page`` for silence from now: the time the server took over its hello
        (seconds when a dead process's pages all come back at once, or Redis is slow) is not
        the page's silence — counted from the page's making, the first sweep aborted such a
        page, welcomed or not, without a word (the failover tail)."""
        if not page.watched:
            page.watched = True
            page.last_heard = max(page.last_heard, time.monotonic())
            self._at(page, page.last_heard + self.heartbeat_s)

    def forget(self, page: Watched) -> None:
        """No more looks at it (it stays in its slot until then: skipped)."""
        if page.watched:
            page.watched = False
            self._vouched_at.pop(page, None)

    def _at(self, page: Watched, when: float) -> None:
        slot = max(int(when / self.period) + 1, self._swept + 1)
        self._wheel.setdefault(slot, []).append(page)

    # -- the sweep -------------------------------------------------------------------------
    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            self.sweep(time.monotonic())

    def sweep(self, now: float) -> None:
        slot = int(now / self.period)
        while self._swept < slot:
            self._swept += 1
            for page in self._wheel.pop(self._swept, ()):
                if page.watched:
                    self._look(page, now)

    def _look(self, page: Watched, now: float) -> None:
        heard = page.last_heard
        alive = max(heard, self._vouched_at.get(page, heard))
        if now - alive > self.dead_after_s:
            self.forget(page)
            page.abort()
            return
        if page.pinged_at > heard:            # a ping not answered yet: only a frame of its own answers
            if now - page.pinged_at < self.heartbeat_s:
                self._at(page, min(page.pinged_at + self.heartbeat_s, alive + self.dead_after_s))
                return
        elif now - alive < self.heartbeat_s:  # heard (or vouched for) within the interval
            page.ping_due = False
            self._at(page, alive + self.heartbeat_s)
            return
        elif page.kernel_drops and now - page.written_at < self.heartbeat_s and now - heard < self.proof_s:
            self._vouched_at[page] = page.written_at      # unacknowledged, its kernel would close it
            self._at(page, page.written_at + self.heartbeat_s)
            return
        # a ping is due (or a ping went unanswered for an interval: once more)
        if not page.ping_due:
            page.ping_due = True              # the next event written to it carries it, if one comes
            # within half an interval when events flow to it (it was vouched for since it was last
            # heard: it is dropped 2.5 intervals after that write, so it keeps an interval to answer),
            # else within a sweep; if none comes, a later look writes it alone
            self._at(page, now + self.heartbeat_s / 2 if alive > heard else now)
            return
        page.ping_due = False
        page.pinged_at = now
        page.ping(PING_FRAME)
        self._at(page, min(now + self.heartbeat_s, alive + self.dead_after_s))

    async def going_away(self, timeout_s: float = 3.0) -> None:
        """The server stops: every watched page is closed 1001 (going away: reconnect), at
        once, so that it comes back on another process now (else a sweep dropped it ~2.5
        heartbeats later: 7.6 s measured). A page whose hello ends after this is closed as it
        comes (``stopping``)."""
        self.stopping = True
        pages = {page for slot in self._wheel.values() for page in slot if page.watched}
        for page in pages:
            self.forget(page)
        if pages:
            await asyncio.wait([asyncio.ensure_future(page.going_away()) for page in pages], timeout=timeout_s)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


LIVENESS: web.AppKey[Liveness] = web.AppKey("liveness", Liveness)
