"""In the browser: a page whose session ends while it is open (here: signed out from the same
browser's API) is closed 4410 and says so in Vietnamese, without reconnecting; sign-in sends
the browser only to a path of this site."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_helpers import Pages, wait_js, wait_online

pytestmark = pytest.mark.asyncio(loop_scope="session")
CONF = "so-ket-quy-3"


async def test_a_page_whose_session_ended_says_so(pages: Pages, web_server: Any) -> None:
    ctx = await pages.context("chutri")              # a session of its own: the other tests keep theirs
    chair = await pages.open(f"/c/{CONF}/chair", ctx=ctx)
    await wait_online(chair)
    resp = await ctx.request.delete(web_server.url("/api/v1/session"))
    assert resp.ok and (await resp.json())["ended"] is True
    await chair.wait_for_selector('#bc-conn[data-status="refused"]', timeout=5_000)
    text = await wait_js(chair, "() => { const b = document.querySelector('#bc-fatal');"
                                " return b && !b.hidden && b.textContent; }")
    assert "Phiên đăng nhập đã hết hiệu lực" in text
    assert await chair.evaluate("() => window.bc.conn.fatal.close") == 4410
    assert await chair.evaluate("() => window.bc.conn.ws") is None     # it did not reconnect


async def test_sign_in_goes_only_to_a_path_of_this_site(pages: Pages, web_server: Any) -> None:
    page = await pages.open("/login?next=/%5Cevil.example/")
    await page.fill("#login-account", "chutri")
    await page.fill("#login-password", web_server.password)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_url(web_server.url("/"), timeout=10_000)
    assert page.url.startswith(web_server.url("/"))
