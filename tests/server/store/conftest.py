"""Store fixtures: every contract test runs against each backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.store.sqlite import SqliteEventStore


@pytest.fixture(params=["sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[object]:
    if request.param == "sqlite":
        s = await SqliteEventStore.open(tmp_path / "events.db")
    yield s
    await s.close()
