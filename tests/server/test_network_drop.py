"""A site whose network drops for 30 s in a live conference reconnects by itself with its
``last_seq`` and ends with exactly the state of a site that never dropped; the command it
sent into the dead link is recorded once; the chair saw it go reconnecting, offline, online.

Runs with the default heartbeat and offline settings, so it takes ~35 s."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from wshelp import FlakyNetwork, eventually, states_of, watch_connections

StartServer = Callable[..., Awaitable[Any]]
OUTAGE_S = 30.0


async def test_a_site_back_from_a_30_s_outage_ends_like_a_site_that_never_dropped(server: StartServer) -> None:
    srv = await server(seed="demo")
    await srv.go_live()
    dropped_site, steady_site, third_site = srv.seeded.sites[:3]
    log: list[tuple[float, str, str]] = []
    chair = await srv.client(srv.session("chair"), on_message=watch_connections(log))
    secretary = await srv.client(srv.session("secretary"))
    net = await FlakyNetwork(srv.config.port).start()
    try:
        dropped = await srv.client(await srv.site_token(dropped_site), base_url=net.base_url)
        steady = await srv.client(await srv.site_token(steady_site))
        third = await srv.client(await srv.site_token(third_site))
        await chair.command("start_item", item_id="muc-1")
        await dropped.command("check_in", site=dropped_site, headcount=45)
        await steady.command("check_in", site=steady_site, headcount=60)
        await eventually(lambda: states_of(log, dropped_site) == ["online"])

        net.down()
        # the site, unaware, asks for the floor into the dead link
        pending = asyncio.create_task(dropped.command("request_floor", key="hoi-y-kien", site=dropped_site,
                                                      topic="Đất đai", timeout=OUTAGE_S + 30))
        # the meeting goes on for 30 s without it
        loop = asyncio.get_running_loop()
        until = loop.time() + OUTAGE_S
        n = 0
        while loop.time() < until:
            n += 1
            await steady.command("request_floor", site=steady_site, topic=f"Ý kiến {n}")
            await chair.command("grant_floor", site=steady_site, limit_seconds=120)
            await secretary.command("add_note", note_id=f"ghi-{n}", item_id="muc-1", text=f"Phát biểu {n} của {steady_site}")
            await chair.command("revoke_floor", site=steady_site)
            await third.command("check_in", site=third_site, headcount=20 + n)
            await asyncio.sleep(min(3.0, max(0.0, until - loop.time())))
        assert states_of(log, dropped_site) == ["online", "reconnecting", "offline"]
        assert not pending.done()
        net.up()

        ack = await pending                                     # resent after the reconnect, acknowledged once
        await chair.command("grant_floor", site=dropped_site)
        await chair.command("finish_item", item_id="muc-1")
        seq = srv.hub().seq
        for c in (dropped, steady, third, chair):
            await c.wait_seq(seq, timeout=15)
        assert dropped.reconnects >= 1 and steady.reconnects == 0
        assert dropped.state == steady.state == third.state
        assert dropped.last_seq == steady.last_seq == seq
        # and like a page that loads the whole log now
        fresh = await srv.client(await srv.site_token(srv.seeded.sites[3]))
        await eventually(lambda: srv.state().attendance[srv.seeded.sites[3]].connection == "online")
        for c in (dropped, fresh):
            await c.wait_seq(srv.hub().seq)
        assert dropped.state == fresh.state

        log_events = [json.loads(r.data) for r in await srv.service.store.read(srv.hub().name)]
        requests = [seq for seq, e in enumerate(log_events, 1) if e["type"] == "floor_requested" and e["key"] == "hoi-y-kien"]
        assert requests == [ack.seq]
        assert srv.state().floor.speakers.keys() == {dropped_site}
        await eventually(lambda: states_of(log, dropped_site) == ["online", "reconnecting", "offline", "online"])
    finally:
        await net.close()
