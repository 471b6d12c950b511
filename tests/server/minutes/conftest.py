"""Fixtures of the minutes tests: one server with its SMTP server per test module (the
modules' tests build on each other's steps, in order, like the day after a meeting)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.server.minutes.minutes_env import Env, start_env


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    e = await start_env(tmp_path_factory.mktemp("minutes-server"))
    yield e
    await e.close()
