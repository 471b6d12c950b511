"""The embedded default store: SQLite in WAL mode, one writer thread.

Durability: each append is one transaction committed with ``synchronous=FULL`` before
``append`` returns, so an acknowledged event survives ``kill -9`` of the server (and a
power cut). Subscribers in this process are woken after each append and handed its events
from memory (no read of what this process has just written). Appends by another process on the
same file (the command line while the server runs) are found by one poll every ``poll_s`` of the
last seq of every stream followed here, whatever their number; SQLite is a single-node store
(several server processes need the Redis store).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .base import ConcurrencyError, Recorded, StoreError

T = TypeVar("T")
log = logging.getLogger(__name__)
POLL_BATCH = 500          # streams per poll query (SQLite's limit on parameters is 999 on old builds)

SCHEMA = """
CREATE TABLE IF NOT EXISTS streams (
    stream   TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    stream TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    data   TEXT NOT NULL,
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;
"""


class SqliteEventStore:
    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        self._synchronous = synchronous
        self._db: sqlite3.Connection | None = None
        self._waiters: dict[str, asyncio.Event] = {}
        self._appended: dict[str, tuple[int, tuple[str, ...]]] = {}   # each stream's last append here: after, events
        self._known: dict[str, int] = {}     # followed streams: the seq their subscribers have read up to
        self._poller: asyncio.Task[None] | None = None
        self._closed = False
        self.poll_s = 1.0

    @classmethod
    async def open(cls, path: str | Path, *, synchronous: str = "FULL") -> SqliteEventStore:
        store = cls(path, synchronous=synchronous)
        await store._run(store._connect)
        return store

    def _connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={self._synchronous}")
        db.execute("PRAGMA busy_timeout=5000")
        db.executescript(SCHEMA)
        self._db = db

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise StoreError("store is closed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    # -- writes -----------------------------------------------------------------------------
    def _append(self, stream: str, expected: int, events: Sequence[str]) -> int:
        db = self._db
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT last_seq FROM streams WHERE stream = ?", (stream,)).fetchone()
            actual = row[0] if row else 0
            if actual != expected:
                raise ConcurrencyError(stream, expected, actual)
            db.executemany("INSERT INTO events (stream, seq, data) VALUES (?, ?, ?)",
                           [(stream, expected + i + 1, data) for i, data in enumerate(events)])
            last = expected + len(events)
            db.execute("INSERT INTO streams (stream, last_seq) VALUES (?, ?) "
                       "ON CONFLICT(stream) DO UPDATE SET last_seq = excluded.last_seq", (stream, last))
            db.execute("COMMIT")
            return last
        except BaseException:
            db.execute("ROLLBACK")
            raise

    async def append(self, stream: str, expected_seq: int, events: Sequence[str]) -> int:
        if not events:
            return await self.last_seq(stream)
        last = await self._run(self._append, stream, expected_seq, list(events))
        self._appended[stream] = (expected_seq, tuple(events))
        waiter = self._waiters.pop(stream, None)
        if waiter is not None:
            waiter.set()
        return last

    # -- reads ------------------------------------------------------------------------------
    def _read(self, stream: str, after: int, limit: int | None) -> list[Recorded]:
        assert self._db is not None
        rows = self._db.execute(
            "SELECT seq, data FROM events WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?",
            (stream, after, -1 if limit is None else limit)).fetchall()
        return [Recorded(stream, seq, data) for seq, data in rows]

    async def read(self, stream: str, after_seq: int = 0, limit: int | None = None) -> list[Recorded]:
        return await self._run(self._read, stream, after_seq, limit)

    def _last(self, stream: str) -> int:
        assert self._db is not None
        row = self._db.execute("SELECT last_seq FROM streams WHERE stream = ?", (stream,)).fetchone()
        return int(row[0]) if row else 0

    async def last_seq(self, stream: str) -> int:
        return await self._run(self._last, stream)

    def _streams(self, prefix: str) -> list[str]:
        assert self._db is not None
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._db.execute("SELECT stream FROM streams WHERE stream LIKE ? ESCAPE '\\' ORDER BY stream",
                                (escaped + "%",)).fetchall()
        return [r[0] for r in rows]

    async def streams(self, prefix: str) -> list[str]:
        return await self._run(self._streams, prefix)

    def _lasts(self, streams: list[str]) -> dict[str, int]:
        assert self._db is not None
        out: dict[str, int] = {}
        for i in range(0, len(streams), POLL_BATCH):
            chunk = streams[i:i + POLL_BATCH]
            rows = self._db.execute(f"SELECT stream, last_seq FROM streams WHERE stream IN ({','.join('?' * len(chunk))})",
                                    chunk).fetchall()
            out.update((stream, int(last)) for stream, last in rows)
        return out

    async def _poll_forever(self) -> None:
        """Wake the subscribers of the streams that another process appended to."""
        while not self._closed:
            await asyncio.sleep(self.poll_s)
            if not self._known:
                continue
            try:
                lasts = await self._run(self._lasts, list(self._known))
            except StoreError:
                return
            except sqlite3.Error:
                log.warning("polling the streams failed", exc_info=True)
                continue
            for stream, last in lasts.items():
                if last > self._known.get(stream, last):
                    waiter = self._waiters.pop(stream, None)
                    if waiter is not None:
                        waiter.set()

    async def subscribe(self, stream: str, after_seq: int) -> AsyncIterator[Recorded]:
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll_forever(), name="sqlite-poll")
        seq = after_seq
        caught_up = False       # read up to the last append seen: wait for the next one
        while not self._closed:
            waiter = self._waiters.setdefault(stream, asyncio.Event())
            after, events = self._appended.get(stream, (-1, ()))
            if after == seq:    # this process's last append follows on: its events, from memory
                batch = [Recorded(stream, seq + i + 1, data) for i, data in enumerate(events)]
                caught_up = True
            elif caught_up:
                batch = []
            else:
                batch = await self.read(stream, seq, limit=1000)
            if not batch:
                # woken by an append in this process, or by the poll (an append by another process)
                self._known[stream] = seq
                await waiter.wait()
                caught_up = False
                continue
            for rec in batch:
                seq = rec.seq
                yield rec

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for waiter in self._waiters.values():
            waiter.set()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        if self._db is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._db.close)
        self._executor.shutdown(wait=True)
