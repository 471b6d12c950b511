"""An idempotency key sent again with another command (another type, other fields) is refused
with ``key_reused`` and changes nothing, over the WebSocket and the REST API, for commands that
recorded events and for those that recorded nothing; the exact retry still gets the first ack."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from test_bad_input_ws import all_seqs

from server.service.service import utcnow
from server.tools.client import CommandRefused

StartServer = Callable[..., Awaitable[Any]]
pytestmark = pytest.mark.usefixtures("no_server_errors")


async def log_of(srv: Any) -> list[str]:
    return [r.data for r in await srv.service.store.read(srv.hub().name)]


async def test_a_key_reused_over_the_websocket_is_refused_and_the_retry_still_acked(server: StartServer) -> None:
    srv = await server(seed="small")
    await srv.go_live()
    chair = await srv.client(srv.session("chair"))
    first = await chair.command("check_in", key="k-1", site="P-AN", headcount=30)
    assert not first.replayed
    before, log = all_seqs(srv), await log_of(srv)

    for type_, fields in (("check_in", {"site": "P-AN", "headcount": 31}),          # other fields
                          ("check_in", {"site": "P-BINH", "headcount": 30}),
                          ("edit_agenda_item", {"item_id": "muc-2", "title": "Khác"})):   # another type
        with pytest.raises(CommandRefused) as refused:
            await chair.command(type_, key="k-1", **fields)
        assert refused.value.code == "key_reused" and refused.value.ref == "k-1"
        assert "'k-1'" in refused.value.message and "another command" in refused.value.message
    assert all_seqs(srv) == before and await log_of(srv) == log      # nothing applied
    assert srv.state().attendance["P-AN"].headcount == 30
    assert srv.state().attendance["P-BINH"].checked_in_at is None

    retry = await chair.command("check_in", key="k-1", site="P-AN", headcount=30)
    assert (retry.seq, retry.replayed) == (first.seq, True)
    assert all_seqs(srv) == before
    # the same key is another actor's own: the secretary may use it for anything
    secretary = await srv.client(srv.session("secretary"))
    assert not (await secretary.command("check_in", key="k-1", site="P-BINH", headcount=12)).replayed


async def test_a_key_of_a_command_that_recorded_nothing_is_not_reusable_either(server: StartServer) -> None:
    srv = await server(seed="small")
    await srv.go_live()
    chair = await srv.client(srv.session("chair"))
    noop = await chair.command("unmute_site", key="u-1", site="P-AN")     # not muted: nothing to record
    before = all_seqs(srv)
    assert not noop.replayed and noop.seq == srv.hub().seq
    with pytest.raises(CommandRefused) as refused:
        await chair.command("mute_site", key="u-1", site="P-AN")           # would have been acked, unmuted
    assert refused.value.code == "key_reused"
    assert all_seqs(srv) == before and "P-AN" not in srv.state().floor.muted
    again = await chair.command("unmute_site", key="u-1", site="P-AN")
    assert (again.seq, again.replayed) == (noop.seq, True)


async def test_a_refused_command_does_not_take_its_key(server: StartServer) -> None:
    srv = await server(seed="small")
    chair = await srv.client(srv.session("chair"))
    with pytest.raises(CommandRefused) as refused:                        # not live yet: refused
        await chair.command("check_in", key="r-1", site="P-AN", headcount=5)
    assert refused.value.code == "wrong_phase"
    assert not (await chair.command("open_conference", key="r-1")).replayed


async def _post(srv: Any, path: str, token: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, \
            http.post(srv.base_url + path, data=json.dumps(body),
                      headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}) as resp:
        return resp.status, await resp.json()


async def test_a_key_reused_on_the_rest_api_is_refused_with_422(server: StartServer) -> None:
    srv = await server(seed="small")
    chair, admin = srv.session("chair"), srv.session("admin")
    cmds = f"/api/v1/conferences/{srv.conference}/commands"
    status, first = await _post(srv, cmds, chair, {"type": "edit_agenda_item", "key": "r-1", "item_id": "muc-1",
                                                   "title": "Khai mạc"})
    assert status == 200 and not first["replayed"]
    before = all_seqs(srv)
    status, body = await _post(srv, cmds, chair, {"type": "edit_agenda_item", "key": "r-1", "item_id": "muc-1",
                                                  "title": "Khai mạc (sửa)"})
    assert (status, body["error"]["code"]) == (422, "key_reused") and "'r-1'" in body["error"]["message"]
    assert all_seqs(srv) == before and srv.state().agenda[0].title == "Khai mạc"
    status, retry = await _post(srv, cmds, chair, {"type": "edit_agenda_item", "key": "r-1", "item_id": "muc-1",
                                                   "title": "Khai mạc"})
    assert status == 200 and retry == {**first, "replayed": True}

    # the directory's commands too
    status, _ = await _post(srv, "/api/v1/sites", admin, {"key": "s-1", "code": "X-MOI", "name": "Xã Mới"})
    assert status == 201
    status, body = await _post(srv, "/api/v1/sites", admin, {"key": "s-1", "code": "X-KHAC", "name": "Xã Khác"})
    assert (status, body["error"]["code"]) == (422, "key_reused")
    assert "X-KHAC" not in srv.service.directory.state.sites


async def test_a_retried_account_creation_is_a_retry_though_its_password_is_hashed_anew(
        server: StartServer) -> None:
    srv = await server(seed="small")
    admin = srv.session("admin")
    body = {"key": "a-1", "account_id": "thuky2", "name": "Thư ký 2", "password": "mat-khau-moi-1"}
    status, first = await _post(srv, "/api/v1/accounts", admin, body)
    assert status == 201 and not first["replayed"]
    status, again = await _post(srv, "/api/v1/accounts", admin, body)      # a new salt, the same request
    assert status == 201 and again["replayed"] and again["seq"] == first["seq"]
    status, other = await _post(srv, "/api/v1/accounts", admin, {**body, "name": "Thư ký hai"})
    assert (status, other["error"]["code"]) == (422, "key_reused")


async def test_join_links_issued_by_two_calls_at_once_after_the_conference(server: StartServer) -> None:
    """ensure_links names the link it issues by its site; two calls racing after the end of
    the conference compute two expiries a moment apart: the second finds the first's link."""
    srv = await server(seed="small")
    after_end = [utcnow() + timedelta(days=2)]

    def clock() -> Any:
        after_end[0] += timedelta(milliseconds=1)
        return after_end[0]
    srv.service.clock = clock
    one, two = await asyncio.gather(srv.service.ensure_links(srv.conference, ["P-AN"]),
                                    srv.service.ensure_links(srv.conference, ["P-AN"]))
    assert one == two and list(one) == ["P-AN"]
    assert srv.service.links.state.links[(srv.conference, "P-AN")].generation == 1
