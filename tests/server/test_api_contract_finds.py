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


async def test_the_recommendation_writes_refuse_unknown_fields(server: StartServer, no_server_errors: None) -> None:
    """Their documented bodies take no other field (found writing their contracts: a misspelt
    ``key`` was dropped, and the write went through with a key of the server's)."""
    srv = await server(seed="small")
    admin = srv.api(srv.session("admin"))
    before = (await admin.call("GET", "/recommendation-fields"))["fields"]
    with pytest.raises(CommandRefused) as err:
        await admin.call("PUT", "/recommendation-fields", {"fields": ["Đất đai"], "kee": "k-1"})
    assert err.value.code == "bad_request"
    assert (await admin.call("GET", "/recommendation-fields"))["fields"] == before
    assert (await admin.call("PUT", "/recommendation-fields", {"fields": ["Đất đai"], "key": "k-1"}))["fields"] == \
        ["Đất đai"]
    chair = srv.api(srv.session("chair"))
    with pytest.raises(CommandRefused) as err:
        await chair.call("POST", f"/conferences/{srv.conference}/recommendations/carry", {"kee": "k-2"})
    assert err.value.code == "bad_request"
    assert (await chair.call("POST", f"/conferences/{srv.conference}/recommendations/carry", {}))["carried"] == 0


async def test_the_organisations_key_is_a_string(server: StartServer, no_server_errors: None) -> None:
    """A key of another type was dropped silently (and the write made under a key of the
    server's); the document says a string."""
    srv = await server(seed="small")
    admin = srv.api(srv.session("admin"))
    before = (await admin.call("GET", "/organisation"))["settings"]
    with pytest.raises(CommandRefused) as err:
        await admin.call("PUT", "/organisation", {"place": "Hà Nội", "key": 7})
    assert err.value.code == "bad_request"
    assert (await admin.call("GET", "/organisation"))["settings"] == before
    assert (await admin.call("PUT", "/organisation", {"place": "Hà Nội", "key": "org-1"}))["settings"]["place"] == \
        "Hà Nội"
