"""Heartbeats and presence: the chair sees a site whose page went silent or whose link died
go ``reconnecting`` and then ``offline``; a site that comes back in time never goes offline.
What the chair sees is live (``presence`` messages); the log records only the transitions
that mean something (first online, offline past the threshold, back online)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from wshelp import FlakyNetwork, RawPage, eventually, states_of, watch_connections

from server.reactors.presence import ANNOUNCE_S

StartServer = Callable[..., Awaitable[Any]]


async def test_a_silent_page_makes_its_site_reconnecting_then_offline(server: StartServer) -> None:
    srv = await server(seed="small", heartbeat_s=0.3, offline_after_s=1.0)
    site = srv.seeded.sites[0]
    log: list[tuple[float, str, str]] = []
    recorded: list[tuple[float, str, str]] = []
    hooks = watch_connections(log), watch_connections(recorded, live=False)
    await srv.client(srv.session("chair"), on_message=lambda m: [hook(m) for hook in hooks])
    # a page that says hello and then never answers a ping (a frozen tab, a dead link)
    page = await RawPage.join(srv.base_url, srv.conference, await srv.site_token(site), autoping=False)
    try:
        await eventually(lambda: states_of(log, site) == ["online"])
        online_at = log[-1][0]
        await eventually(lambda: states_of(log, site) == ["online", "reconnecting", "offline"], timeout=10)
        times = {c: t for t, s, c in log if s == site}
        assert times["reconnecting"] - online_at < 3 * 0.3 + 1.0 + ANNOUNCE_S   # dropped <= 3 heartbeats after
        # offline_after_s later (reconnecting is told in a batch, up to ANNOUNCE_S after it happened)
        assert 1.0 - ANNOUNCE_S - 0.05 <= times["offline"] - times["reconnecting"] < 3.0
        assert srv.state().attendance[site].connection == "offline"
        assert states_of(recorded, site) == ["online", "offline"]         # reconnecting was live only
    finally:
        await page.close()


async def test_a_site_that_comes_back_in_time_never_goes_offline(server: StartServer) -> None:
    srv = await server(seed="small", heartbeat_s=0.3, offline_after_s=1.5)
    site = srv.seeded.sites[1]
    token = await srv.site_token(site)
    log: list[tuple[float, str, str]] = []
    recorded: list[tuple[float, str, str]] = []
    hooks = watch_connections(log), watch_connections(recorded, live=False)
    await srv.client(srv.session("chair"), on_message=lambda m: [hook(m) for hook in hooks])
    page = await srv.client(token, reconnect=False)
    await eventually(lambda: states_of(log, site) == ["online"])
    await page.close()                                   # a reload: the page goes, a new one comes
    await eventually(lambda: states_of(log, site) == ["online", "reconnecting"])
    await srv.client(token, reconnect=False)
    await eventually(lambda: states_of(log, site) == ["online", "reconnecting", "online"])
    await asyncio.sleep(2.0)                             # longer than offline_after_s
    assert states_of(log, site) == ["online", "reconnecting", "online"]
    assert states_of(recorded, site) == ["online"]       # the reload recorded nothing


async def test_with_default_settings_the_chair_sees_a_dead_link_within_10_s(server: StartServer) -> None:
    """The link dies right after the page was last heard (its hello): the worst case."""
    srv = await server(seed="small")                     # heartbeat_s=3, offline_after_s=10
    assert (srv.config.heartbeat_s, srv.config.offline_after_s) == (3.0, 10.0)
    site = srv.seeded.sites[2]
    log: list[tuple[float, str, str]] = []
    chair = await srv.client(srv.session("chair"), on_message=watch_connections(log))
    net = await FlakyNetwork(srv.config.port).start()
    try:
        page = await srv.client(await srv.site_token(site), base_url=net.base_url)
        await eventually(lambda: states_of(log, site) == ["online"])
        net.down()
        dropped = time.monotonic()
        await eventually(lambda: chair.connection(site) == "reconnecting", timeout=10)
        seen_after = time.monotonic() - dropped
        assert seen_after < 10.0
        net.up()                                         # the link comes back: the page reconnects by itself
        await eventually(lambda: chair.connection(site) == "online", timeout=10)
        assert states_of(log, site) == ["online", "reconnecting", "online"]
        assert page.reconnects >= 1
    finally:
        await net.close()


async def test_sites_coming_online_together_are_recorded_in_one_command(server: StartServer) -> None:
    """When a conference opens (or every page comes back after a restart) sites come online
    within moments of each other: their first coming online is one command (its events reach
    each page in one write), not one command and one fan-out each."""
    srv = await server(seed="small")
    await srv.go_live()
    sites = srv.seeded.sites
    before = srv.hub().seq
    tokens = [await srv.site_token(site) for site in sites]
    pages = await asyncio.gather(*(RawPage.join(srv.base_url, srv.conference, token) for token in tokens))
    try:
        async def online() -> list[dict[str, Any]]:
            return [ev for ev in (json.loads(r.data) for r in await srv.hub().store.read(srv.hub().name, before))
                    if ev["type"] == "connection_changed"]
        await eventually(lambda: len(srv.state().attendance) and all(
            srv.state().attendance[site].connection == "online" for site in sites))
        recorded = await online()
        assert sorted(ev["site"] for ev in recorded) == sorted(sites)
        # at most two commands (a slow machine may split the joins over two batches), not one a site
        assert len({ev["key"] for ev in recorded}) <= 2, recorded
    finally:
        for page in pages:
            await page.close()
