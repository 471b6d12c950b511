"""The HTML routes of the web client against a real app (no browser): who gets which page,
in which language, with which headers; join links that do not work say why."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from server.web.pages import _script_json


@pytest.fixture
async def app(server: Any) -> AsyncIterator[Any]:
    srv = await server(seed="small")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        srv.http = http
        yield srv


async def get(srv: Any, path: str, *, role: str | None = None, cookies: dict[str, str] | None = None,
              redirects: bool = False) -> tuple[aiohttp.ClientResponse, str]:
    jar = dict(cookies or {})
    if role is not None:
        jar["bc_session"] = srv.session(role)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {}
    async with srv.http.get(srv.base_url + path, headers=headers, allow_redirects=redirects) as resp:
        return resp, await resp.text()


def next_of(resp: aiohttp.ClientResponse) -> str:
    from urllib.parse import parse_qs, urlsplit
    location = urlsplit(resp.headers["Location"])
    assert location.path == "/login"
    return parse_qs(location.query)["next"][0]


def config(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="bc-config">(.*?)</script>', html, re.S)
    assert found, "no config in the page"
    return json.loads(found.group(1))  # type: ignore[no-any-return]


async def test_sign_in_page_is_vietnamese_by_default_with_strict_headers(app: Any) -> None:
    resp, html = await get(app, "/login")
    assert resp.status == 200
    assert '<html lang="vi"' in html and "Đăng nhập" in html and "Hệ thống hội nghị trực tuyến" in html
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["Cache-Control"] == "no-store"


async def test_english_is_chosen_by_query_and_kept_in_a_cookie(app: Any) -> None:
    resp, html = await get(app, "/login?lang=en")
    assert '<html lang="en"' in html and ">Sign in<" in html and "Đăng nhập" not in html
    assert resp.cookies["bc_lang"].value == "en"
    _, html = await get(app, "/login", cookies={"bc_lang": "en"})
    assert ">Sign in<" in html
    assert json.loads(re.search(r'id="bc-strings">(.*?)</script>', html, re.S).group(1))["conn.online"] == "Online"


async def test_pages_of_accounts_need_a_session_and_a_role(app: Any) -> None:
    resp, _ = await get(app, "/")
    assert resp.status == 302 and next_of(resp) == "/"
    resp, _ = await get(app, f"/c/{app.conference}/chair")
    assert resp.status == 302 and next_of(resp) == f"/c/{app.conference}/chair"
    resp, html = await get(app, f"/c/{app.conference}/chair", role="norole")
    assert resp.status == 403 and "Không có quyền" in html
    resp, html = await get(app, "/admin", role="chair")
    assert resp.status == 403
    # a conference that does not exist looks like one not yours (ids are not probed)...
    resp, html = await get(app, "/c/no-such-conference/chair", role="chair")
    assert resp.status == 403 and "Không có quyền" in html
    resp, html = await get(app, "/c/no-such-conference/chair", role="admin")   # ...but to an admin
    assert resp.status == 404 and "Không có hội nghị này" in html


async def test_chair_secretary_admin_and_home_pages(app: Any) -> None:
    resp, html = await get(app, f"/c/{app.conference}/chair", role="chair")
    assert resp.status == 200 and "Bàn chủ trì" in html
    cfg = config(html)
    assert cfg["conference"] == app.conference and cfg["you"]["id"] == "chutri" and "chair" in cfg["you"]["roles"]
    assert cfg["csrf"] and cfg["tz"] == "Asia/Ho_Chi_Minh" and cfg["lang"] == "vi"
    resp, html = await get(app, f"/c/{app.conference}/secretary", role="secretary")
    assert resp.status == 200 and "Bàn thư ký" in html and config(html)["you"]["roles"] == ["secretary"]
    resp, html = await get(app, "/admin", role="admin")
    assert resp.status == 200 and "Danh bạ điểm cầu" in html and config(html)["csrf"]
    resp, html = await get(app, "/", role="chair")
    assert resp.status == 200 and f"/c/{app.conference}/chair" in html and "Đã lên lịch" in html


async def test_join_links_open_the_site_page_or_say_why_not(app: Any) -> None:
    token = await app.site_token("P-AN")
    resp, html = await get(app, f"/join/{token}")
    assert resp.status == 200 and "Phường An" in html and 'class="page-site"' in html
    cfg = config(html)
    assert cfg["site"] == {"code": "P-AN", "name": "Phường An", "main": False, "expected": 40}
    assert cfg["token"] == token and "csrf" not in cfg

    main = await app.site_token(app.seeded.main_site)
    _, html = await get(app, f"/join/{main}")
    assert 'class="page-main"' in html and "Điểm cầu chính" in html

    resp, html = await get(app, "/join/not-a-token")
    assert resp.status == 401 and "không hợp lệ" in html
    from scheduling import Actor, RevokeLink
    await app.service.run_links(RevokeLink(key="revoke-p-an", conference_id=app.conference, site="P-AN"),
                                Actor.account("admin", admin=True))
    resp, html = await get(app, f"/join/{token}")
    assert resp.status == 401 and "thu hồi" in html


async def test_static_files_are_served_and_revalidated(app: Any) -> None:
    resp, body = await get(app, "/static/js/reducer.js")
    assert resp.status == 200 and "export function evolve" in body
    assert resp.headers["Cache-Control"] == "no-cache"
    assert "javascript" in resp.headers["Content-Type"]
    resp, _ = await get(app, "/static/css/app.css")
    assert resp.status == 200


def test_json_in_a_page_cannot_close_its_script_element() -> None:
    text = str(_script_json({"name": "</script><script>alert(1)</script>", "a": "&"}))
    assert "</script>" not in text and "<" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script>", "a": "&"}
