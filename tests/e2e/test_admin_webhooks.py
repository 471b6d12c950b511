"""The administration page's webhooks tab in a real browser: add a webhook (in Vietnamese),
see it listed with its events, pause it, delete it; the tab fits a phone's width."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_helpers import Pages, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_admin_adds_pauses_and_deletes_a_webhook(pages: Pages) -> None:
    admin = await pages.open("/admin", account="admin")
    await admin.click("#tab-webhooks")
    await admin.wait_for_selector("#w-events input[value='minutes.approved']")
    assert await admin.locator("#tab-webhooks").text_content() == "Webhook"
    await admin.fill("#w-id", "he-thong-van-ban")
    await admin.fill("#w-url", "https://vanban.hanoi.example/bridgeconf")
    await admin.fill("#w-secret", "khoa-bi-mat-rat-dai-2025")
    await admin.check("#w-events input[value='minutes.approved']")
    await admin.click("#webhook-form button[type=submit]")
    row = admin.locator("#webhook-table tr[data-hook='he-thong-van-ban']")
    await row.wait_for()
    text = await row.text_content() or ""
    assert "Hội nghị khai mạc" in text and "Biên bản được phê duyệt" in text and "Đang gửi" in text
    assert "khoa-bi-mat" not in await admin.content()          # the secret is never shown again
    assert await admin.locator("#webhook-log").text_content() is not None

    await row.get_by_role("button", name="Tạm dừng").click()
    await eventually(lambda: _has(row, "Tạm dừng"))
    await admin.set_viewport_size({"width": 390, "height": 800})
    # the tab fits: its wide tables scroll inside their own box (the top bar is the page's own matter)
    right = await admin.evaluate("""() => Math.max(...Array.from(document.querySelectorAll(
        '#pane-webhooks > *, #pane-webhooks .form-grid > *, #pane-webhooks .table-scroll, .tabs'))
        .map(e => e.getBoundingClientRect().right))""")
    assert right <= 390, f"the webhooks tab reaches {right} px at 390"
    admin.once("dialog", lambda d: d.accept())
    await row.get_by_role("button", name="Xóa").click()
    await admin.locator("#webhook-table tr[data-hook='he-thong-van-ban']").wait_for(state="detached")


async def _has(row: Any, text: str) -> bool:
    return text in (await row.locator("td").nth(3).text_content() or "")
