"""The load side of the reconnect storm (bench/storm.py): thousands of pages in one process
that behave like the browser's page (client_web/static/js/conn.js) when the server goes away:
reconnect with its backoff (300 ms doubling to 5 s, ±25 % jitter, no reset until a welcome),
send ``hello`` with the ``last_seq`` it holds and ``snapshot: true``, and follow the events.

Each page is bench/wsload.py's lean socket (raw mode: the page reads its own socket from a loop
reader, no task per message); what it keeps is a :class:`Track`: the last seq it holds (events
come in order without gaps, else ``gaps`` counts them), when it was last welcomed, when its seq
last moved, the seq it held when its connection was lost. ``storm_main(conn, pages)`` connects
the pages, reports ``{"connected", "failed", "pid"}``, then answers ``"progress"`` (pages
welcomed after a time, pages holding a seq) and ``"report"`` (every track) on the pipe, until
``"stop"``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import time
from typing import Any

from bench.common import raise_nofile
from bench.wsload import SEQ_RE, SEQ_WINDOW, Page, Stats, hello_frame

FATAL = {4401, 4403, 4404, 4410}        # the browser's page stops on these (conn.js)
WELCOME_TIMEOUT_S = 60.0               # the browser gives a hello no deadline of its own (conn.js watches only online links)
CONNECT_CONCURRENCY = 200               # the first connections only; the storm is not held back


def backoff(retry: int) -> float:
    """conn.js: ``Math.min(5000, 300 * 2 ** retry) * (0.75 + Math.random() * 0.5)`` ms."""
    return min(5.0, 0.3 * 2 ** retry) * (0.75 + random.random() * 0.5)


class Track:
    """One page across its connections."""

    __slots__ = ("host", "port", "fields", "last_seq", "gaps", "dups", "welcomes", "welcomed_at", "reached_at",
                 "lost_seq", "lost_at", "attempts", "refusals", "retry", "fatal", "tried_at", "connected_at",
                 "welcome_seq", "caught_up_at")

    def __init__(self, host: str, port: int, fields: dict[str, Any]) -> None:
        self.host, self.port, self.fields = host, port, fields
        self.last_seq = int(fields.get("last_seq", 0))
        self.gaps = self.dups = self.welcomes = self.attempts = self.retry = 0
        self.welcomed_at = self.reached_at = self.lost_at = self.tried_at = self.connected_at = 0.0
        self.welcome_seq = 0
        self.caught_up_at = 0.0       # when it held every event the log had at its last welcome
        self.lost_seq = -1
        self.refusals: dict[str, int] = {}
        self.fatal = 0

    def hello(self) -> bytes:
        return hello_frame({**self.fields, "last_seq": self.last_seq, "snapshot": True})


class StormSocket(Page):
    """One connection of a page: wsload's parser, the seq followed into the page's track."""

    def __init__(self, track: Track, stats: Stats, ready: asyncio.Future[None], closed: asyncio.Future[int]) -> None:
        super().__init__(track.host, track.port, track.hello(), stats, ready)
        self.track = track
        self.closed = closed
        self.live = False

    def _receipt(self, data: bytes, start: int, end: int, t: float, timed: bool) -> None:
        m = SEQ_RE.search(data, start, min(end, start + SEQ_WINDOW))
        if m is None or data[start:start + 16] != b'{"type":"event",':
            return
        seq = int(m.group(1))
        tr = self.track
        if seq <= tr.last_seq:
            tr.dups += 1
            return
        if seq != tr.last_seq + 1:
            tr.gaps += 1
        tr.last_seq = seq
        tr.reached_at = t = max(t, tr.welcomed_at)   # read with the welcome (timed at the read, the welcome after)
        if seq >= tr.welcome_seq and tr.caught_up_at < tr.welcomed_at:
            tr.caught_up_at = t

    def _message(self, payload: bytes) -> None:
        if b'"welcome"' in payload[:40]:
            self.state = 2
            self.live = True
            tr = self.track
            tr.welcomes += 1
            tr.welcomed_at = time.monotonic()
            tr.retry = 0
            m = SEQ_RE.search(payload)
            tr.welcome_seq = int(m.group(1)) if m else 0
            if tr.last_seq >= tr.welcome_seq:
                tr.caught_up_at = tr.welcomed_at
            if not self.ready.done():
                self.ready.set_result(None)
            return
        try:            # an error before the welcome (too_many_reconnects ...): the close follows
            code = str(json.loads(payload).get("code", "?"))
        except ValueError:
            code = "?"
        self.track.refusals[code] = self.track.refusals.get(code, 0) + 1

    def _close(self, code: bytes) -> None:
        super()._close(code)
        self._ended(int.from_bytes(code, "big") if len(code) == 2 else 1005)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._ended(1006)

    def _ended(self, code: int) -> None:
        if self.closed.done():
            return
        self.closed.set_result(code)
        if self.live:                   # a welcomed connection ended: what the page held then
            self.track.lost_seq, self.track.lost_at = self.track.last_seq, time.monotonic()


async def run_page(track: Track, stats: Stats, first: asyncio.Semaphore | None) -> None:
    loop = asyncio.get_running_loop()
    while True:
        ready: asyncio.Future[None] = loop.create_future()
        closed: asyncio.Future[int] = loop.create_future()
        page = StormSocket(track, stats, ready, closed)
        track.attempts += 1
        track.tried_at = time.monotonic()
        welcomed = False
        try:
            if first is not None:
                await first.acquire()
            try:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                page.sock = sock
                await asyncio.wait_for(loop.sock_connect(sock, (track.host, track.port)), WELCOME_TIMEOUT_S)
                track.connected_at = time.monotonic()
                page.attach(sock, loop)
                await asyncio.wait_for(ready, WELCOME_TIMEOUT_S)
                welcomed = True
            finally:
                if first is not None:
                    first.release()
                    first = None
        except (TimeoutError, OSError):
            pass
        if not welcomed:
            page.state = 3
            page.abort()
            if not closed.done():
                closed.set_result(0)
        code = await closed
        if code in FATAL:
            track.fatal = code
            return
        await asyncio.sleep(backoff(track.retry))
        track.retry = min(track.retry + 1, 6)


def _progress(tracks: list[Track], since: float, seq: int) -> dict[str, int]:
    return {"welcomed": sum(1 for t in tracks if t.welcomed_at > since),
            "complete": sum(1 for t in tracks if t.welcomed_at > since and t.last_seq >= seq),
            "fatal": sum(1 for t in tracks if t.fatal)}


def _report(tracks: list[Track]) -> dict[str, list[Any]]:
    refusals: dict[str, int] = {}
    for t in tracks:
        for k, v in t.refusals.items():
            refusals[k] = refusals.get(k, 0) + v
    return {"welcomed_at": [t.welcomed_at for t in tracks], "reached_at": [t.reached_at for t in tracks],
            "last_seq": [t.last_seq for t in tracks], "lost_seq": [t.lost_seq for t in tracks],
            "lost_at": [t.lost_at for t in tracks], "welcomes": [t.welcomes for t in tracks],
            "attempts": [t.attempts for t in tracks], "tried_at": [t.tried_at for t in tracks],
            "connected_at": [t.connected_at for t in tracks], "caught_up_at": [t.caught_up_at for t in tracks], "gaps": [t.gaps for t in tracks],
            "dups": [t.dups for t in tracks], "fatal": [t.fatal for t in tracks], "refusals": [refusals]}


def storm_main(conn: Any, pages: list[tuple[str, int, dict[str, Any]]]) -> None:
    raise_nofile()
    asyncio.run(_storm(conn, pages))


async def _storm(conn: Any, pages: list[tuple[str, int, dict[str, Any]]]) -> None:
    loop = asyncio.get_running_loop()
    stats = Stats()
    tracks = [Track(h, p, f) for h, p, f in pages]
    first = asyncio.Semaphore(CONNECT_CONCURRENCY)
    started = time.monotonic()
    tasks = [asyncio.create_task(run_page(t, stats, first)) for t in tracks]
    deadline = started + 60 + len(tracks) / 50
    while time.monotonic() < deadline and sum(1 for t in tracks if t.welcomes) < len(tracks):
        await asyncio.sleep(0.1)
    ok = sum(1 for t in tracks if t.welcomes)
    conn.send({"connected": ok, "failed": len(tracks) - ok, "connect_s": time.monotonic() - started,
               "pid": os.getpid()})
    asked: asyncio.Queue[Any] = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: asked.put_nowait(conn.recv()))
    while True:
        msg = await asked.get()
        if msg == "stop":
            break
        if msg == "report":
            conn.send(_report(tracks))
        elif isinstance(msg, tuple) and msg[0] == "progress":
            conn.send(_progress(tracks, msg[1], msg[2]))
    loop.remove_reader(conn.fileno())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
