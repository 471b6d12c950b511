"""Redis going away under a live server: commands are refused with ``busy`` (nothing
recorded, the connection stays), the Python client sends them again, and once Redis is back
(its AOF replayed) everything acknowledged is there and the server goes on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from wshelp import RawPage

StartServer = Callable[..., Awaitable[Any]]
pytestmark = pytest.mark.usefixtures("no_server_errors")


async def test_commands_while_redis_is_down_get_busy_and_go_through_when_it_is_back(
        server: StartServer, spawn_redis: Callable[..., Any]) -> None:
    redis = spawn_redis(fsync="always")
    srv = await server(store="redis", redis=redis.url(0), seed="small")
    await srv.go_live()
    page = await RawPage.join(srv.base_url, srv.conference, srv.session("secretary"))
    chair = await srv.client(srv.session("chair"))
    await chair.command("start_item", item_id="muc-1")
    acked = srv.hub().seq
    try:
        redis.kill9()
        reply = await page.reply_to({"type": "add_note", "key": "trong-luc-mat", "note_id": "n1", "text": "Ghi chép"})
        assert reply is not None and (reply["type"], reply["code"], reply["ref"]) == ("error", "busy", "trong-luc-mat")
        assert not page.ws.closed
        status, body = await _post(srv, {"type": "add_note", "key": "rest-1", "note_id": "n2", "text": "x"})
        assert (status, body["error"]["code"]) == (503, "busy")
        # the Python client keeps trying the same command until Redis is back
        pending = asyncio.create_task(chair.command("finish_item", key="ket-thuc-muc-1", item_id="muc-1", timeout=60))
        await asyncio.sleep(1.5)
        assert not pending.done()
        await asyncio.to_thread(redis.restart)
        ack = await pending
        assert ack.seq == acked + 1
        reply = await page.reply_to({"type": "add_note", "key": "trong-luc-mat", "note_id": "n1", "text": "Ghi chép"})
        assert reply is not None and reply["type"] == "ack"
        log = [json.loads(r.data) for r in await srv.service.store.read(srv.hub().name)]
        assert [e["key"] for e in log[acked:]] == ["ket-thuc-muc-1", "trong-luc-mat"]
        assert len(log) == srv.hub().seq
    finally:
        await page.close()


async def _post(srv: Any, body: dict[str, Any]) -> tuple[int, Any]:
    import aiohttp
    async with aiohttp.ClientSession() as http, http.post(
            f"{srv.base_url}/api/v1/conferences/{srv.conference}/commands", json=body,
            headers={"Authorization": f"Bearer {srv.session('secretary')}"}) as resp:
        return resp.status, await resp.json()
