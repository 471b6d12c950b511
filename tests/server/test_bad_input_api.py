"""Bad input on the REST API: each request gets a JSON error ``{"error": {code, message}}``
with the status the code maps to, changes no log, and never crashes the server."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from test_bad_input_ws import all_seqs, still_serves

StartServer = Callable[..., Awaitable[Any]]
pytestmark = pytest.mark.usefixtures("no_server_errors")
CONF = "hop-nho"
CMDS = f"/api/v1/conferences/{CONF}/commands"

# (method, path, token role, body: dict | str | None, content type, expected status, expected code)
CASES: list[tuple[str, str, str | None, Any, str, int, str]] = [
    ("POST", CMDS, "chair", "{not json", "application/json", 400, "bad_request"),
    ("POST", CMDS, "chair", '{"type": "start_item"}', "text/plain", 400, "bad_request"),
    ("POST", CMDS, "chair", "[1, 2]", "application/json", 400, "bad_request"),
    ("POST", CMDS, "chair", "\"\\ud800\"", "application/json", 400, "bad_request"),
    ("POST", CMDS, "chair", {"type": "drop_tables", "key": "k"}, "application/json", 400, "unknown_command"),
    ("POST", CMDS, "chair", {"key": "k"}, "application/json", 400, "invalid_command"),
    ("POST", CMDS, "chair", {"type": "start_item", "key": "k"}, "application/json", 400, "invalid_command"),
    ("POST", CMDS, "chair", {"type": "edit_agenda_item", "key": "k", "item_id": 5}, "application/json", 400, "invalid_command"),
    ("POST", CMDS, "chair", {"type": "edit_agenda_item", "key": "k", "item_id": "muc-1", "planned_minutes": "10"},
     "application/json", 400, "invalid_command"),
    ("POST", CMDS, "chair", {"type": "add_note", "key": "k", "note_id": "n", "text": "x" * 20_001},
     "application/json", 400, "invalid_command"),
    ("POST", CMDS, "chair", "x" * (5 * 1024 * 1024), "application/json", 413, "too_large"),
    ("POST", CMDS, "chair", {"type": "open_conference", "key": "k", "conference": "hop-khac"},
     "application/json", 400, "invalid_command"),
    ("POST", CMDS, "site", {"type": "check_in", "key": "k", "site": "P-BINH", "headcount": 3},
     "application/json", 403, "not_own_site"),
    ("POST", CMDS, "site", {"type": "grant_floor", "key": "k", "site": "P-AN"}, "application/json", 403, "forbidden"),
    ("POST", "/api/v1/conferences/hop-khac/commands", "site", {"type": "request_floor", "key": "k", "site": "P-AN"},
     "application/json", 403, "forbidden"),
    ("POST", CMDS, "admin", {"type": "register_site", "key": "k", "site": {"code": "X-MOI", "name": "Mới"}},
     "application/json", 400, "bad_request"),                                      # a directory command
    ("GET", "/api/v1/conferences/khong-co", "admin", None, "", 404, "no_conference"),
    ("GET", f"/api/v1/conferences/{CONF}/events?after=abc", "chair", None, "", 400, "bad_request"),
    ("GET", "/api/v1/actions?status=bogus", "chair", None, "", 400, "bad_request"),
    ("POST", "/api/v1/session", None, {"account": 5, "password": "x"}, "application/json", 400, "bad_request"),
    ("POST", "/api/v1/session", None, {"account": "chutri", "password": "sai-mat-khau"}, "application/json", 401,
     "bad_credentials"),
    ("POST", "/api/v1/session", None, {"account": "chutri", "password": "x" * 10_000}, "application/json", 400,
     "bad_request"),
    ("POST", "/api/v1/accounts", "admin", {"account_id": "moi", "name": "Mới", "password": "ngan"},
     "application/json", 400, "bad_request"),
    ("PATCH", "/api/v1/accounts/admin", "admin", {"disabled": True}, "application/json", 403, "forbidden"),
    ("POST", "/api/v1/sites/import", "admin", "code,name\nkhong hop le,X\n", "text/csv", 400, "bad_csv"),
    ("POST", "/api/v1/sites", "admin", {"code": "x y", "name": ""}, "application/json", 400, "invalid_command"),
    ("GET", "/api/v1/sites", "garbage", None, "", 401, "bad_token"),
    ("GET", "/api/v1/conferences", None, None, "", 401, "unauthorized"),
]


async def call(srv: Any, method: str, path: str, token: str | None, body: Any, content_type: str,
               headers: dict[str, str] | None = None, cookies: dict[str, str] | None = None) -> tuple[int, Any]:
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    data: bytes | None = None
    if body is not None:
        import json
        data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8", "surrogatepass")
        h["Content-Type"] = content_type
    async with aiohttp.ClientSession(cookies=cookies) as http, \
            http.request(method, srv.base_url + path, data=data, headers=h) as resp:
        payload = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, payload


async def token_for(srv: Any, who: str | None) -> str | None:
    if who is None:
        return None
    if who == "site":
        return await srv.site_token("P-AN")
    if who == "garbage":
        return "eyJrIjoic2Vzc2lvbiJ9.bm90LWEtbWFj"
    return str(srv.session(who))


async def test_bad_requests_get_json_errors_and_change_nothing(server: StartServer) -> None:
    srv = await server(seed="small")
    await srv.go_live()
    tokens = {who: await token_for(srv, who) for who in {c[2] for c in CASES}}
    before = all_seqs(srv)
    for method, path, who, body, ctype, status, code in CASES:
        got_status, payload = await call(srv, method, path, tokens[who], body, ctype)
        what = f"{method} {path} as {who}: {str(body)[:60]}"
        assert isinstance(payload, dict) and (got_status, payload["error"]["code"]) == (status, code), what
        assert payload["error"]["message"], what
        assert all_seqs(srv) == before, what


async def test_tokens_on_the_api_expired_revoked_and_cookies_without_csrf(server: StartServer) -> None:
    srv = await server(seed="small")
    svc = srv.service
    site_token = await srv.site_token("P-AN")
    gen = svc.links.state.links[(CONF, "P-AN")].generation
    expired = svc.identity.signer.sign("site", {"c": CONF, "s": "P-AN", "g": gen}, time.time() - 5)
    assert (await call(srv, "GET", f"/api/v1/conferences/{CONF}", expired, None, ""))[0] == 401
    status, payload = await call(srv, "GET", f"/api/v1/conferences/{CONF}", expired, None, "")
    assert payload["error"]["code"] == "token_expired"
    admin = srv.session("admin")
    assert (await call(srv, "POST", f"/api/v1/conferences/{CONF}/links/P-AN/revoke", admin, None, ""))[0] == 200
    status, payload = await call(srv, "GET", f"/api/v1/conferences/{CONF}", site_token, None, "")
    assert (status, payload["error"]["code"]) == (401, "token_revoked")

    # a session in a cookie: reads work; writes need the X-CSRF-Token header
    chair = srv.session("chair")
    cookies = {"bc_session": chair}
    body = {"type": "edit_agenda_item", "key": "csrf-1", "item_id": "muc-1", "title": "Khai mạc"}
    status, payload = await call(srv, "GET", f"/api/v1/conferences/{CONF}", None, None, "", cookies=cookies)
    assert status == 200 and payload["conference_id"] == CONF
    before = all_seqs(srv)
    status, payload = await call(srv, "POST", CMDS, None, body, "application/json", cookies=cookies)
    assert (status, payload["error"]["code"]) == (403, "csrf")
    status, payload = await call(srv, "POST", CMDS, None, body, "application/json", cookies=cookies,
                                 headers={"X-CSRF-Token": "0" * 32})
    assert (status, payload["error"]["code"]) == (403, "csrf")
    assert all_seqs(srv) == before
    csrf = svc.identity.signer.csrf_for(chair)
    status, payload = await call(srv, "POST", CMDS, None, body, "application/json", cookies=cookies,
                                 headers={"X-CSRF-Token": csrf})
    assert status == 200 and payload["seq"] == srv.hub().seq
    # a bearer token is not sent by browsers on their own: no CSRF header needed
    body["key"] = "csrf-2"
    body["title"] = "Khai mạc hội nghị"
    status, _ = await call(srv, "POST", CMDS, chair, body, "application/json")
    assert status == 200


async def test_the_server_still_serves_after_a_burst_of_bad_requests(server: StartServer) -> None:
    srv = await server(seed="small")
    chair = srv.session("chair")
    before = all_seqs(srv)
    for i in range(200):
        status, _ = await call(srv, "POST", CMDS, chair, "{" * (i % 7) + "x" * i, "application/json")
        assert status == 400
    assert all_seqs(srv) == before
    await still_serves(srv)
