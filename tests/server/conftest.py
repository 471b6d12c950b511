"""Fixtures of the server tests (the shared ones are in tests/conftest.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture
def no_server_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail the test if the server logged an error or an unhandled exception (a crashed
    handler, a task that died) while it ran."""
    caplog.set_level(logging.WARNING)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR
           and (r.name.startswith(("aiohttp", "server", "asyncio")))]
    assert not bad, "the server logged errors:\n" + "\n".join(
        f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in bad)
