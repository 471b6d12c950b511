"""The admin keeps the issuing organisation's format of the minutes on a page (Decree
30/2020: masthead lines, number symbol, place, signature titles, Nơi nhận), and sees the
signing certificate (the DEMO one on a demo server), at the three widths people use."""

from __future__ import annotations

import json
from typing import Any

import pytest
from e2e_helpers import Pages, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_admin_sets_the_format_on_the_page(pages: Pages) -> None:
    admin = await pages.open("/admin", account="admin")
    await admin.click("#tab-organisation")
    await eventually(lambda: admin.input_value("#o-symbol"), timeout=10)
    assert await admin.input_value("#o-governing") == "UBND THÀNH PHỐ HÀ NỘI"   # the demo's, on first start
    assert "DEMO" in (await admin.locator("#o-signer").text_content() or "")
    await admin.fill("#o-issuing", "Văn phòng UBND")
    await admin.fill("#o-symbol", "BB-VPUB")
    await admin.fill("#o-recipients", "Thường trực Thành ủy;\nLưu: VT, TH.")
    await admin.click("#org-form button[type=submit]")

    async def saved() -> Any:
        resp = await admin.context.request.get(pages.server.url("/api/v1/organisation"))
        settings = json.loads(await resp.text())["settings"]
        assert settings["symbol"] == "BB-VPUB" and settings["issuing_body"] == "Văn phòng UBND"
        assert settings["recipients"] == ["Thường trực Thành ủy;", "Lưu: VT, TH."]
        return settings

    await eventually(saved, timeout=10)
    await admin.fill("#o-symbol", "bb sai")
    await admin.click("#org-form button[type=submit]")   # the browser's own check refuses it
    assert not await admin.locator("#o-symbol").evaluate("el => el.validity.valid")
    for width, height in ((1920, 1080), (1366, 768), (390, 844)):
        await admin.set_viewport_size({"width": width, "height": height})
        # the pane and every field of it fit the width (the top bar's own overflow at 390 px is not this page's)
        wide = await admin.evaluate("""Array.from(document.querySelectorAll('#pane-organisation, #pane-organisation *'))
            .filter(e => e.offsetParent !== null && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .map(e => e.tagName + '#' + e.id)""")
        assert wide == [], (width, wide)
    assert pages.errors == []
