"""The fan-out writes the events of one command to each page in one write (fanout.PageFanout):
nothing goes out before the command's last event, then every frame at once, in order, on a
real loopback socket."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import UTC, datetime

import pytest

from scheduling import Connection, ConnectionChanged, event_to_dict
from server.protocol import event_text
from server.signaling.fanout import Page, PageFanout
from server.signaling.frames import text_frame


def _event(site: str) -> tuple[ConnectionChanged, str]:
    ev = ConnectionChanged(site=site, connection=Connection.ONLINE, at=datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
                           actor="system", key="conn-1")
    return ev, json.dumps(event_to_dict(ev), ensure_ascii=False, separators=(",", ":"))


async def test_the_events_of_one_command_reach_a_page_in_one_write() -> None:
    accepted: asyncio.Future[asyncio.StreamWriter] = asyncio.get_running_loop().create_future()

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set_result(writer)

    srv = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    client = socket.create_connection(srv.sockets[0].getsockname()[:2])
    client.setblocking(False)
    try:
        writer = await accepted
        fanout = PageFanout()
        fanout.pages.add(Page(None, writer.transport, site_view=False, buffer_limit=1 << 20))  # type: ignore[arg-type]
        sites = ["P-HAI-CHAU", "P-THANH-KHE-DONG", "X-HOA-BAC"]
        events = [_event(site) for site in sites]
        for seq, (ev, data) in enumerate(events[:2], start=1):
            fanout.deliver(seq, ev, data, True)
        await asyncio.sleep(0.05)
        with pytest.raises(BlockingIOError):         # nothing before the command's last event
            client.recv(65536)
        fanout.deliver(3, *events[2], False)
        await asyncio.sleep(0.05)
        expected = b"".join(text_frame(event_text(seq, data, seq < 3)) for seq, (_, data) in enumerate(events, start=1))
        assert client.recv(65536) == expected
        # the next command's single event goes out on its own
        fanout.deliver(4, *events[0], False)
        await asyncio.sleep(0.05)
        assert client.recv(65536) == text_frame(event_text(4, events[0][1]))
    finally:
        client.close()
        srv.close()
