"""Small holes, closed for good: where sign-in may send the browser, what an account without
roles may list, token payloads nested too deeply, lone surrogates in JSON bodies,
identifiers that end in a newline, and probing which conference ids exist."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from wshelp import RawPage

from server.service.keys import COOKIE

StartServer = Callable[..., Awaitable[Any]]


async def _call(srv: Any, method: str, path: str, token: str | None = None, *, data: bytes | None = None,
                content_type: str = "application/json", cookies: dict[str, str] | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if data is not None:
        headers["Content-Type"] = content_type
    async with aiohttp.ClientSession(cookies=cookies) as http, \
            http.request(method, srv.base_url + path, data=data, headers=headers) as resp:
        body = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, body


# -- where sign-in sends the browser ------------------------------------------------------------

@pytest.mark.parametrize("nxt", ["/\\evil.example/", "//evil.example/", "/\\/evil.example", "https://evil.example/",
                                 "/\t/evil.example", "/%0a", "javascript:alert(1)", "/\n/evil.example", "evil"])
async def test_only_a_path_of_this_site_follows_sign_in(server: StartServer, nxt: str) -> None:
    srv = await server(seed="small")
    async with aiohttp.ClientSession() as http, http.get(srv.base_url + "/login", params={"next": nxt}) as resp:
        html = await resp.text()
    config = json.loads(re.search(r'<script[^>]*id="bc-config"[^>]*>(.*?)</script>', html, re.S).group(1))
    expected = "/%0a" if nxt == "/%0a" else "/"        # an encoded newline stays encoded: a path of this site
    assert config["next"] == expected


async def test_a_path_of_this_site_does_follow_sign_in(server: StartServer) -> None:
    srv = await server(seed="small")
    async with aiohttp.ClientSession() as http, \
            http.get(srv.base_url + "/login", params={"next": "/c/hop-nho/chair?lang=en"}) as resp:
        assert '"next":"/c/hop-nho/chair?lang=en"' in (await resp.text()).replace("\\u0026", "&")


# -- what each account may list -----------------------------------------------------------------

async def test_an_account_sees_only_the_conferences_and_sites_its_roles_allow(server: StartServer) -> None:
    srv = await server(seed="small")
    directory = {s.code for s in srv.service.directory.state.active()}
    seen: dict[str, tuple[set[str], set[str], str]] = {}
    site_token = await srv.site_token(srv.seeded.sites[0])
    for who, token in (("admin", srv.session("admin")), ("chair", srv.session("chair")),
                       ("norole", srv.session("norole"))):
        _, confs = await _call(srv, "GET", "/api/v1/conferences", token)
        status, sites = await _call(srv, "GET", "/api/v1/sites", token)
        assert status == 200
        _, csv_text = await _call(srv, "GET", "/api/v1/sites.csv", token)
        seen[who] = ({c["id"] if "id" in c else c["conference_id"] for c in confs["conferences"]},
                     {s["code"] for s in sites["sites"]}, csv_text)
    assert seen["admin"][0] == {srv.seeded.conference, srv.seeded.other_conference}
    assert seen["admin"][1] == directory
    assert seen["chair"][0] == {srv.seeded.conference, srv.seeded.other_conference}   # chair of both
    assert seen["norole"][0] == set() and seen["norole"][1] == set()
    assert seen["norole"][2].strip().count("\n") == 0                                  # the header only
    for path in ("/api/v1/sites", "/api/v1/sites.csv"):      # a join link is not an account: no directory
        assert (await _call(srv, "GET", path, site_token))[0] == 403
    # an account that chairs one conference sees that conference's sites, not the directory
    await srv.run("admin", "edit_conference", conf=srv.seeded.other_conference, chair="khach")
    _, sites = await _call(srv, "GET", "/api/v1/sites", srv.session("norole"))
    assert {s["code"] for s in sites["sites"]} == {srv.seeded.main_site, srv.seeded.other_site}


# -- token payloads nested too deeply -----------------------------------------------------------

def _nested_token(depth: int = 1400) -> str:
    payload = base64.urlsafe_b64encode(("[" * depth).encode()).decode().rstrip("=")
    return payload + ".c2lnbmF0dXJl"


async def test_a_deeply_nested_token_payload_is_refused_not_a_500(server: StartServer) -> None:
    srv = await server(seed="small")
    token = _nested_token()
    assert len(token) < 2048
    status, body = await _call(srv, "GET", "/api/v1/session", token)                   # bearer
    assert (status, body["error"]["code"]) == (401, "bad_token")
    status, body = await _call(srv, "GET", "/api/v1/conferences", cookies={COOKIE: token})   # cookie
    assert (status, body["error"]["code"]) == (401, "bad_token")
    async with aiohttp.ClientSession(cookies={COOKIE: token}) as http, http.get(srv.base_url + "/") as resp:
        assert resp.status == 200 and "/login" in str(resp.url)                        # a page: to sign-in
    page = await RawPage.join(srv.base_url, srv.conference, token)                     # hello
    try:
        assert page.welcome is not None and page.welcome["code"] == "bad_token"
        assert await page.wait_closed() == 4401
    finally:
        await page.close()


# -- lone surrogates ----------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ['{"type": "add_note", "note_id": "n1", "text": "\\ud800"}',
                                 '{"type": "add_note", "note_id": "n1", "text": "a\\udc00b"}'])
async def test_a_lone_surrogate_in_a_json_body_is_a_clear_400(server: StartServer, raw: str) -> None:
    srv = await server(seed="small")
    await srv.go_live()
    before = srv.hub().seq
    status, body = await _call(srv, "POST", f"/api/v1/conferences/{srv.conference}/commands",
                               srv.session("secretary"), data=raw.encode())
    assert (status, body["error"]["code"]) == (400, "bad_request")
    assert srv.hub().seq == before


async def test_a_text_body_that_is_not_utf8_is_a_clear_400(server: StartServer) -> None:
    srv = await server(seed="small")
    status, body = await _call(srv, "POST", "/api/v1/sites/import", srv.session("admin"),
                               data=b"code,name\nX-A,\xed\xa0\x80\n", content_type="text/csv")
    assert (status, body["error"]["code"]) == (400, "bad_request")


# -- identifiers end where they end -------------------------------------------------------------

@pytest.mark.parametrize("field, value", [("conference_id", "hop-moi\n"), ("chair", "chutri\n"),
                                          ("main_site", "TRU-SO\n"), ("key", "k-1\n")])
async def test_an_identifier_ending_in_a_newline_is_refused(server: StartServer, field: str, value: str) -> None:
    srv = await server(seed="small")
    body: dict[str, Any] = {"conference_id": "hop-moi", "title": "Hội nghị mới", "main_site": "TRU-SO",
                            "chair": "chutri", "starts_at": "2031-01-05T08:00:00+07:00",
                            "ends_at": "2031-01-05T10:00:00+07:00", "key": "k-1", field: value}
    status, out = await _call(srv, "POST", "/api/v1/conferences", srv.session("admin"),
                              data=json.dumps(body).encode())
    assert status == (404 if field == "main_site" else 400), out    # no site has that code
    assert "hop-moi" not in srv.service.conferences and "hop-moi\n" not in srv.service.conferences


async def test_an_account_id_ending_in_a_newline_is_refused(server: StartServer) -> None:
    srv = await server(seed="small")
    status, out = await _call(srv, "POST", "/api/v1/accounts", srv.session("admin"), data=json.dumps(
        {"account_id": "moi\n", "name": "Mới", "password": "mat-khau-du-dai"}).encode())
    assert status == 400, out


# -- which conference ids exist -----------------------------------------------------------------

@pytest.mark.parametrize("who", ["site", "norole", "othersite"])
@pytest.mark.parametrize("path", ["", "/events", "/minutes", "/invite.ics", "/recordings", "/links"])
async def test_nobody_learns_whether_a_conference_id_exists(server: StartServer, who: str, path: str) -> None:
    srv = await server(seed="small")
    token = {"site": await srv.site_token(srv.seeded.sites[0]), "norole": srv.session("norole"),
             "othersite": await srv.site_token(srv.seeded.other_site, srv.seeded.other_conference)}[who]
    existing = srv.seeded.other_conference if who != "othersite" else srv.seeded.conference
    answers = []
    for conf in (existing, "khong-co-hoi-nghi-nay"):
        status, body = await _call(srv, "GET", f"/api/v1/conferences/{conf}{path}", token)
        text = json.dumps(body).replace(conf, "<id>")
        answers.append((status, text))
    assert answers[0] == answers[1]
    assert answers[0][0] in (401, 403)
