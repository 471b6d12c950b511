"""The server's clock-driven commands (server/reactors/timers.py), through a served app: a
speaker's time limit ends its floor by itself; a later grant with a new limit replaces the
pending one."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

StartServer = Callable[..., Awaitable[Any]]


async def test_a_speakers_time_limit_ends_the_floor_by_itself(server: StartServer) -> None:
    srv = await server(seed="small")
    await srv.go_live()
    site = srv.seeded.sites[0]
    started = time.monotonic()
    await srv.run("chair", "give_floor", site=site, limit_seconds=10)
    assert site in srv.state().floor.speakers
    while site in srv.state().floor.speakers:
        assert time.monotonic() - started < 30, "the floor did not end at its time limit"
        await asyncio.sleep(0.1)
    assert time.monotonic() - started >= 9.9
    hub = srv.hub()
    events = [json.loads(r.data) for r in await hub.store.read(hub.name, 0)]
    ended = [e for e in events if e["type"] == "floor_ended" and e["site"] == site]
    assert [(e["reason"], e["actor"]) for e in ended] == [("expired", "system:server")], ended
