"""In the browser: an account that loses one of its two roles in a conference while its page
is open (an observer who was also a secretary stops being secretary) keeps its page: the page
says so in Vietnamese, renders again from the fresh welcome's snapshot and becomes read-only,
and stays connected (it is not closed 4410 as a page that lost every role is)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from e2e_helpers import Pages, wait_js, wait_online

from server.tools.client import ApiClient

pytestmark = pytest.mark.asyncio(loop_scope="session")
CONF = "vai-tro-e2e"


async def test_a_secretary_page_that_loses_the_secretary_role_becomes_read_only(pages: Pages, web_server: Any) -> None:
    admin = await ApiClient.login(web_server.url(""), "admin", web_server.password)
    try:
        start = datetime.now(UTC).replace(microsecond=0)
        await admin.call("POST", "/conferences", {
            "key": "vai-tro-create", "conference_id": CONF, "title": "Họp thử đổi vai trò", "kind": "thematic",
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat(),
            "main_site": "HN-TRU-SO", "chair": "chutri", "secretaries": ["thuky1", "thuky2"],
            "observers": ["thuky2"]})
        page = await pages.open(f"/c/{CONF}/secretary", account="thuky2")
        await wait_online(page)
        assert await page.evaluate("() => window.bc.store.you.roles") == ["observer", "secretary"]
        assert not await page.is_disabled("#add-note")
        await admin.call("POST", f"/conferences/{CONF}/commands",
                         {"key": "vai-tro-edit", "type": "edit_conference", "secretaries": ["thuky1"]})
        told = await wait_js(page, "() => { const t = document.querySelector('#bc-toasts');"
                                   " return t && t.textContent.includes('Vai trò') && t.textContent; }")
        assert "Vai trò của bạn trong hội nghị này đã thay đổi" in told
        await wait_js(page, "() => document.querySelector('#add-note').disabled")
        assert await page.is_visible("#readonly-note")
        assert await page.evaluate("() => window.bc.store.you.roles") == ["observer"]
        assert await page.evaluate("() => window.bc.conn.fatal") is None
        assert await page.get_attribute("#bc-conn", "data-status") == "online"
    finally:
        await admin.close()
