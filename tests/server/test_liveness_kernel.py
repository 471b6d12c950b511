"""Liveness from the page's kernel (server/signaling/tcp_timeout.py): a page that events are
written to is pinged only to prove itself every PROOF_INTERVALS, an idle page every interval; a
page that stops answering is dropped on the same clock even though its kernel still
acknowledges the ping (a write never answers for a ping); a page whose link dies while events
flow is dropped by its kernel, with no ping, once a write stays unacknowledged. The dead link
behind a relay that acknowledges for the page is test_presence.py's
``test_with_default_settings_the_chair_sees_a_dead_link_within_10_s``."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from wshelp import RawPage, eventually, kill_link, states_of, watch_connections

from server.signaling.liveness import PROOF_INTERVALS
from server.signaling.tcp_timeout import TCP_USER_TIMEOUT, drop_unacked_after

StartServer = Callable[..., Awaitable[Any]]
HEARTBEAT_S = 0.5
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="TCP_USER_TIMEOUT is Linux's")


async def _read_counting_pings(page: RawPage, seconds: float) -> int:
    """Read everything for ``seconds``, answering pings by hand; the number of pings."""
    pings = 0
    until = time.monotonic() + seconds
    while (left := until - time.monotonic()) > 0:
        try:
            msg = await asyncio.wait_for(page.ws.receive(), left)
        except TimeoutError:
            break
        if msg.type is aiohttp.WSMsgType.PING:
            pings += 1
            await page.ws.pong(msg.data)
        elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            raise AssertionError(f"the page was closed: {msg}")
    return pings


async def _check_ins(client: Any, site: str, every_s: float, stop: asyncio.Event) -> None:
    """Events flow to every page: ``site`` checks in every ``every_s`` until ``stop``."""
    n = 0
    while not stop.is_set():
        n += 1
        await client.command("check_in", site=site, headcount=n)
        await asyncio.sleep(every_s)


@linux_only
async def test_a_page_that_acknowledges_its_events_is_pinged_less_than_an_idle_one(server: StartServer) -> None:
    srv = await server(seed="small", heartbeat_s=HEARTBEAT_S, ack_liveness=True)
    await srv.go_live()
    watched, busy = srv.seeded.sites[:2]
    page = await RawPage.join(srv.base_url, srv.conference, await srv.site_token(watched), autoping=False)
    other = await srv.client(await srv.site_token(busy))
    try:
        async def events_for(seconds: float) -> None:
            until = time.monotonic() + seconds
            n = 0
            while time.monotonic() < until:
                n += 1
                await other.command("check_in", site=busy, headcount=n)
                await asyncio.sleep(HEARTBEAT_S / 5)

        busy_s = (PROOF_INTERVALS + 3) * HEARTBEAT_S
        feeder = asyncio.create_task(events_for(busy_s))
        pings_while_busy = await _read_counting_pings(page, busy_s)
        await feeder
        # its kernel vouches for it, but it must answer a ping of its own every PROOF_INTERVALS
        assert pings_while_busy == 1
        # idle, the same page is pinged about once an interval, and answering keeps it
        pings_while_idle = await _read_counting_pings(page, 6 * HEARTBEAT_S)
        assert 3 <= pings_while_idle <= 8
    finally:
        await page.close()


@linux_only
async def test_a_page_that_stops_answering_is_dropped_though_its_kernel_acknowledges(server: StartServer) -> None:
    srv = await server(seed="small", heartbeat_s=HEARTBEAT_S, offline_after_s=1.0, ack_liveness=True)
    site = srv.seeded.sites[2]
    log: list[tuple[float, str, str]] = []
    await srv.client(srv.session("chair"), on_message=watch_connections(log))
    page = await RawPage.join(srv.base_url, srv.conference, await srv.site_token(site), autoping=False)
    try:
        await eventually(lambda: states_of(log, site) == ["online"])
        silent_from = time.monotonic()
        # the page answers nothing from here on (no pong); its kernel still ACKs the pings
        await page.wait_closed(timeout=10)
        assert page.ws.closed
        dropped_after = time.monotonic() - silent_from
        assert dropped_after < 2.6 * HEARTBEAT_S + 1.0
        await eventually(lambda: states_of(log, site)[:2] == ["online", "reconnecting"])
    finally:
        await page.close()


@linux_only
async def test_a_page_that_stops_answering_while_events_flow_is_dropped_after_its_proof(server: StartServer) -> None:
    """Behind a relay that acknowledges for it (here: a page that answers no ping, its kernel
    acknowledging everything), a page that events flow to is vouched for by its kernel until
    its proof is due, then pinged and dropped."""
    srv = await server(seed="small", heartbeat_s=HEARTBEAT_S, offline_after_s=30.0, ack_liveness=True)
    await srv.go_live()
    silent, busy = srv.seeded.sites[:2]
    other = await srv.client(await srv.site_token(busy))
    page = await RawPage.join(srv.base_url, srv.conference, await srv.site_token(silent), autoping=False)
    heard = time.monotonic()                   # its hello: the last frame of its own
    stop = asyncio.Event()
    feeder = asyncio.create_task(_check_ins(other, busy, HEARTBEAT_S / 5, stop))
    try:
        await page.wait_closed(timeout=PROOF_INTERVALS * HEARTBEAT_S + 10)
        dropped_after = time.monotonic() - heard
        assert page.ws.closed
        # not pinged every interval (it would be dropped 2.5 intervals in), and not kept past its proof
        assert (PROOF_INTERVALS - 1) * HEARTBEAT_S < dropped_after < (PROOF_INTERVALS + 2.6) * HEARTBEAT_S + 1.0
    finally:
        stop.set()
        await feeder
        await page.close()


@linux_only
async def test_a_link_that_dies_while_events_flow_is_dropped_by_the_kernel_before_any_ping(server: StartServer) -> None:
    heartbeat_s = 3.0      # the default
    srv = await server(seed="small", heartbeat_s=heartbeat_s, offline_after_s=30.0, ack_liveness=True)
    await srv.go_live()
    dying, busy = srv.seeded.sites[:2]
    log: list[tuple[float, str, str]] = []
    await srv.client(srv.session("chair"), on_message=watch_connections(log))
    other = await srv.client(await srv.site_token(busy))
    page = await RawPage.join(srv.base_url, srv.conference, await srv.site_token(dying))
    stop = asyncio.Event()
    feeder = asyncio.create_task(_check_ins(other, busy, 0.2, stop))
    try:
        await eventually(lambda: states_of(log, dying) == ["online"])
        await page.send({"type": "check_in", "key": "c-1", "site": dying, "headcount": 7})
        await asyncio.sleep(0.3)                 # heard just now: its proof is 10 intervals away
        kill_link(page.ws.get_extra_info("socket"))
        died = time.monotonic()
        await eventually(lambda: states_of(log, dying) == ["online", "reconnecting"], timeout=20)
        seen_after = next(t for t, s, c in log if s == dying and c == "reconnecting") - died
        # the kernel closed it 1.5 intervals (4.5 s) after the first event it did not acknowledge; on
        # pings alone it is pinged an interval after it was heard and dropped 2.5 intervals after (7.5 s)
        assert 4.0 < seen_after < 6.5, seen_after
    finally:
        stop.set()
        await feeder
        await page.close()


@linux_only
async def test_the_user_timeout_is_set_on_the_page_s_own_socket_and_not_behind_a_proxy() -> None:
    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.close()

    srv = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        sock = writer.transport.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, TCP_USER_TIMEOUT) == 0              # the kernel's retries
        assert not drop_unacked_after(writer.transport, {"X-Forwarded-For": "10.0.0.1"}, 4.5)
        assert sock.getsockopt(socket.IPPROTO_TCP, TCP_USER_TIMEOUT) == 0
        assert drop_unacked_after(writer.transport, {}, 4.5)
        assert sock.getsockopt(socket.IPPROTO_TCP, TCP_USER_TIMEOUT) == 4500
        assert not drop_unacked_after(None, {}, 4.5)
        a, b = socket.socketpair()                                      # not TCP
        try:
            class _T:
                def get_extra_info(self, name: str) -> socket.socket:
                    return a
            assert not drop_unacked_after(_T(), {}, 4.5)
        finally:
            a.close()
            b.close()
    finally:
        writer.close()
        srv.close()
