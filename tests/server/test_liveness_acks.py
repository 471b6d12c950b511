"""Liveness from TCP ACKs (server/signaling/tcp_acks.py): a page whose socket acknowledges the
events sent to it is pinged only to prove itself every PROOF_INTERVALS; an idle page every interval; a page that stops answering is dropped on
the same clock even though its kernel still acknowledges the ping (an ACK never answers for a
ping). The dead link behind a network that acknowledges nothing is test_presence.py's
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
from wshelp import RawPage, eventually, states_of, watch_connections

from server.signaling.liveness import PROOF_INTERVALS
from server.signaling.tcp_acks import INFO_LEN, ack_age_reader, last_ack_recv_s

StartServer = Callable[..., Awaitable[Any]]
HEARTBEAT_S = 0.5
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="TCP_INFO is Linux's")


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

        feeder = asyncio.create_task(events_for(8 * HEARTBEAT_S))
        pings_while_busy = await _read_counting_pings(page, 8 * HEARTBEAT_S)
        await feeder
        # its ACKs stand in for pongs, but it must answer a ping of its own every PROOF_INTERVALS
        assert 1 <= pings_while_busy <= 8 / PROOF_INTERVALS
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
async def test_the_ack_age_is_read_from_a_real_socket_and_refused_behind_a_proxy() -> None:
    assert last_ack_recv_s(b"\x00" * (INFO_LEN - 1)) is None            # an older, shorter struct
    got: list[bytes] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got.append(await reader.read(100))
        writer.close()

    srv = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"hello")
        await writer.drain()
        await eventually(lambda: got == [b"hello"])
        age = ack_age_reader(writer.transport, {})
        assert age is not None
        seconds = age()
        assert seconds is not None and 0.0 <= seconds < 1.0            # the hello was just acknowledged
        assert ack_age_reader(writer.transport, {"X-Forwarded-For": "10.0.0.1"}) is None
        assert ack_age_reader(None, {}) is None
        a, b = socket.socketpair()                                      # not TCP: no reader
        try:
            class _T:
                def get_extra_info(self, name: str) -> socket.socket:
                    return a
            assert ack_age_reader(_T(), {}) is None
        finally:
            a.close()
            b.close()
    finally:
        writer.close()
        srv.close()
        await srv.wait_closed()
