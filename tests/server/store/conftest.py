"""Store fixtures: every contract test runs against each backend (SQLite, and Redis on the
real redis-server that tests/conftest.py starts).

``store`` is an open store; ``open_store()`` opens another instance on the same data (the
same SQLite file, the same Redis database), as a second server process would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from server.store import EventStore
from server.store.redis import RedisEventStore
from server.store.sqlite import SqliteEventStore


@pytest.fixture(params=["sqlite", "redis"])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[[], Awaitable[EventStore]]]:
    opened: list[EventStore] = []
    url = request.getfixturevalue("redis_url") if request.param == "redis" else ""

    async def open_one() -> EventStore:
        s: EventStore
        if request.param == "sqlite":
            s = await SqliteEventStore.open(tmp_path / "events.db")
            s.poll_s = 0.05   # appends by another instance are polled for
        else:
            s = await RedisEventStore.open(url)
        opened.append(s)
        return s

    yield open_one
    for s in opened:
        await s.close()


@pytest.fixture
async def store(open_store: Callable[[], Awaitable[EventStore]]) -> EventStore:
    return await open_store()
