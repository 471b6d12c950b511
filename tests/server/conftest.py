"""Fixtures of the server tests (the shared ones are in tests/conftest.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web


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


# -- a webhook receiver ------------------------------------------------------------------------

@dataclass
class Received:
    at: float                      # monotonic
    headers: dict[str, str]
    body: str
    answered: int


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 that records every POST and answers the statuses of
    ``answers`` in turn (then 200)."""

    url: str = ""
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        status = self.answers.pop(0) if self.answers else 200
        self.received.append(Received(time.monotonic(), dict(request.headers), await request.text(), status))
        return web.Response(status=status, text="ok" if status < 300 else "try again")

    async def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while not predicate(self.received):
            if time.monotonic() > deadline:
                raise AssertionError(f"the receiver never saw it; it got {[(r.answered, r.headers.get('Bridgeconf-Event')) for r in self.received]}")
            await asyncio.sleep(0.05)
        return self.received


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    rec.runner = web.AppRunner(app, access_log=None)
    await rec.runner.setup()
    site = web.TCPSite(rec.runner, "127.0.0.1", 0)
    await site.start()
    port = rec.runner.addresses[0][1]
    rec.url = f"http://127.0.0.1:{port}/hook"
    yield rec
    await rec.runner.cleanup()
