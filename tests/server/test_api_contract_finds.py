"""What the contract run (test_api_contract.py) found, kept as plain tests: the log's paging
parameters are bounded (a huge ``after`` answered 500: SQLite cannot hold the integer; a
negative ``limit`` read the whole log); and the router's own refusals under /api/ are JSON
errors as the document says."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from server.tools.client import CommandRefused

StartServer = Callable[..., Awaitable[Any]]


@pytest.mark.parametrize("query", ["after=" + "9" * 30, "after=-1", "limit=-1", "limit=0", "limit=5001", "after=x"])
async def test_the_logs_paging_is_bounded(server: StartServer, query: str, no_server_errors: None) -> None:
    srv = await server(seed="small")
    api = srv.api(srv.session("chair"))
    with pytest.raises(CommandRefused) as err:
        await api.call("GET", f"/conferences/{srv.conference}/events?{query}")
    assert err.value.code == "bad_request"
    page = await api.call("GET", f"/conferences/{srv.conference}/events?after=2&limit=3")
    assert [e["seq"] for e in page["events"]] == [3, 4, 5]


async def test_the_routers_refusals_under_the_api_are_json(server: StartServer) -> None:
    srv = await server(seed="small")
    async with aiohttp.ClientSession() as http:
        async with http.get(srv.base_url + "/api/v1/khong-co") as resp:
            assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"
        async with http.put(srv.base_url + "/api/v1/conferences") as resp:
            assert resp.status == 405 and (await resp.json())["error"]["code"] == "method_not_allowed"
            assert "POST" in resp.headers["Allow"]
        async with http.get(srv.base_url + "/khong-co") as resp:     # pages keep aiohttp's own
            assert resp.status == 404 and resp.content_type != "application/json"
