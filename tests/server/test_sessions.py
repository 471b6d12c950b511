"""Sessions that end: signing out ends the session on the server (its token is refused from
then on, after a kill -9 and restart too); changing one's own password needs the current one
and ends the other sessions; signing in to an account that does not exist costs what a wrong
password costs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from server.service.keys import COOKIE
from server.tools.client import ApiClient, CommandRefused

StartServer = Callable[..., Awaitable[Any]]


async def _status(base: str, token: str, path: str = "/api/v1/session") -> int:
    async with aiohttp.ClientSession() as http, http.get(base + path, headers={"Authorization": f"Bearer {token}"}) as r:
        return r.status


async def test_signing_out_ends_the_session_on_the_server(server: StartServer) -> None:
    srv = await server(seed="small")
    first = await ApiClient.login(srv.base_url, "chutri", srv.seeded.password)
    second = await ApiClient.login(srv.base_url, "chutri", srv.seeded.password)   # another browser
    try:
        assert first.token and second.token and first.token != second.token
        assert (await first.call("DELETE", "/session"))["ended"] is True
        assert await _status(srv.base_url, first.token) == 401                      # refused from now on
        assert await _status(srv.base_url, second.token) == 200                     # the other session goes on
        assert (await first.call("DELETE", "/session"))["ended"] is False           # nothing left to end
    finally:
        await first.close()
        await second.close()


async def test_signing_out_with_the_cookie_ends_that_session(server: StartServer) -> None:
    srv = await server(seed="small")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(srv.base_url + "/api/v1/session",
                             json={"account": "thuky", "password": srv.seeded.password}) as resp:
            assert resp.status == 200
            token = (await resp.json())["token"]
        async with http.delete(srv.base_url + "/api/v1/session") as resp:
            assert resp.status == 200 and (await resp.json())["ended"] is True
            assert resp.cookies[COOKIE].value == ""                                  # the cookie is dropped
    assert await _status(srv.base_url, token) == 401


async def test_a_signed_out_session_stays_ended_after_kill_9(bridgeconf_proc: Callable[..., Any]) -> None:
    proc = bridgeconf_proc(demo=True)
    assert proc.password
    api = await ApiClient.login(proc.base_url, "chutri", proc.password)
    kept = await ApiClient.login(proc.base_url, "chutri", proc.password)
    try:
        assert api.token and kept.token
        await api.call("DELETE", "/session")
        proc.kill9()
        proc.start()
        assert await _status(proc.base_url, api.token) == 401
        assert await _status(proc.base_url, kept.token) == 200
    finally:
        await api.close()
        await kept.close()


async def test_changing_ones_own_password_needs_the_current_one_and_ends_the_other_sessions(
        server: StartServer) -> None:
    srv = await server(seed="small")
    mine = await ApiClient.login(srv.base_url, "quansat", srv.seeded.password)
    other = await ApiClient.login(srv.base_url, "quansat", srv.seeded.password)
    try:
        for body, code in (({"password": "mat-khau-moi-1"}, "bad_request"),
                           ({"password": "mat-khau-moi-1", "current_password": "sai-mat-khau"}, "bad_credentials")):
            with pytest.raises(CommandRefused) as info:
                await mine.call("POST", "/accounts/quansat/password", body)
            assert info.value.code == code
        assert await _status(srv.base_url, other.token or "") == 200                  # nothing changed
        out = await mine.call("POST", "/accounts/quansat/password",
                              {"password": "mat-khau-moi-1", "current_password": srv.seeded.password})
        assert await _status(srv.base_url, other.token or "") == 401                  # the other session ended
        assert await _status(srv.base_url, mine.token or "") == 401                   # the old token too...
        assert await _status(srv.base_url, out["token"]) == 200                       # ...this page has a new one
        fresh = await ApiClient.login(srv.base_url, "quansat", "mat-khau-moi-1")
        await fresh.close()
        # an admin resets another account's password without knowing it
        admin = await ApiClient.login(srv.base_url, "admin", srv.seeded.password)
        await admin.call("POST", "/accounts/quansat/password", {"password": "mat-khau-moi-2"})
        await admin.close()
        assert await _status(srv.base_url, out["token"]) == 401
    finally:
        await mine.close()
        await other.close()


async def test_sign_in_costs_the_same_for_an_unknown_account_as_for_a_wrong_password(server: StartServer) -> None:
    """Before: ~1 ms for an unknown account against ~100+ ms (argon2) for a wrong password,
    which told anyone which accounts exist. Now both verify an argon2 hash. A generous bound
    (the machine may be shared): the unknown account takes at least 40 % of the wrong password's
    median time."""
    srv = await server(seed="small")

    async def timed(account: str) -> float:
        async with aiohttp.ClientSession() as http:
            started = time.perf_counter()
            async with http.post(srv.base_url + "/api/v1/session",
                                 json={"account": account, "password": "khong-dung-mat-khau"}) as resp:
                assert resp.status == 401 and (await resp.json())["error"]["code"] == "bad_credentials"
            return time.perf_counter() - started

    await timed("khong-ton-tai-0")       # the dummy hash is made on first use
    wrong, unknown = [], []
    for i in range(4):                   # within the sign-in limits (5 per account and address)
        wrong.append(await timed("chutri"))
        unknown.append(await timed(f"khong-ton-tai-{i}"))
    assert statistics.median(unknown) >= 0.4 * statistics.median(wrong), (unknown, wrong)
