"""What the contract run (test_api_contract.py) found, kept as plain tests: the log's paging
parameters are bounded (a huge ``after`` answered 500: SQLite cannot hold the integer; a
negative ``limit`` read the whole log)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

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
