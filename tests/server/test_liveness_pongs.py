"""Pongs counted where aiohttp parses them (server/signaling/heard.py): a pong marks the page
heard and goes no further (no message for the page's reader task to wake for); any other
message marks it heard and is queued as before. And a page that only ever answers pings stays
online: the pongs it answers, never seen by the reader task, are what keeps it."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp.http import WebSocketReader
from wshelp import RawPage, states_of, watch_connections

from server.signaling.heard import Heard, HeardQueue

StartServer = Callable[..., Awaitable[Any]]
HEARTBEAT_S = 0.5


class _Protocol:
    _reading_paused = False


def _masked(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    return bytes((0x80 | opcode, 0x80 | len(payload))) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def test_a_pong_marks_the_page_heard_and_is_not_queued() -> None:
    queue = HeardQueue(_Protocol(), 2**16, loop=asyncio.get_running_loop())
    queue.heard = Heard()
    queue.heard.last_heard = 0.0
    reader = WebSocketReader(queue, 2**16, compress=False, decode_text=True)
    before = time.monotonic()
    reader.feed_data(_masked(0xA, b""))                       # a pong
    assert queue.heard.last_heard >= before
    assert not queue._buffer                                   # nothing for the reader task
    queue.heard.last_heard = 0.0
    reader.feed_data(_masked(0x1, b'{"type":"ping","t":1}') + _masked(0x9, b"x"))   # a text, a ping
    assert queue.heard.last_heard >= before
    kinds = [msg.type for msg, _size in queue._buffer]
    assert kinds == [aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.PING]
    assert (await queue.read()).data == '{"type":"ping","t":1}'


async def test_a_page_that_only_answers_pings_stays_online(server: StartServer) -> None:
    srv = await server(seed="small", heartbeat_s=HEARTBEAT_S, offline_after_s=1.0)
    site = srv.seeded.sites[2]
    log: list[tuple[float, str, str]] = []
    await srv.client(srv.session("chair"), on_message=watch_connections(log))
    page = await RawPage.join(srv.base_url, srv.conference, await srv.site_token(site), autoping=True)
    try:
        async def read_all() -> None:        # aiohttp's client answers the pings while it reads
            while (await page.ws.receive()).type not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                                          aiohttp.WSMsgType.ERROR):
                pass

        reading = asyncio.create_task(read_all())
        await asyncio.sleep(4 * 2.5 * HEARTBEAT_S)                # four times the silence that drops a page
        assert not reading.done() and not page.ws.closed
        assert states_of(log, site) == ["online"]
        reading.cancel()
    finally:
        await page.close()
