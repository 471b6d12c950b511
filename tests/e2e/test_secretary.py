"""Two secretaries write the same minutes at once: nothing typed is lost (not on a reload,
not while offline) and nobody's text is overwritten unseen — a conflicting edit shows both
versions and the merged text is what the server keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from e2e_helpers import Pages, eventually, screenshot, wait_js, wait_online

from server.tools.client import ApiClient

pytestmark = pytest.mark.asyncio(loop_scope="session")
CONF = "ghi-chep-2"


async def live_conference(base: str, password: str) -> None:
    admin = await ApiClient.login(base, "admin", password)
    chair = await ApiClient.login(base, "chutri", password)
    try:
        start = datetime.now(UTC).replace(microsecond=0)
        await admin.call("POST", "/conferences", {
            "key": "ghi-create", "conference_id": CONF, "title": "Họp giao ban tuần", "kind": "periodic_review",
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat(),
            "main_site": "HN-TRU-SO", "chair": "chutri", "secretaries": ["thuky1", "thuky2"]})
        for n, cmd in enumerate(({"type": "invite_sites", "codes": ["P-LANG", "P-DONG-DA"]},
                                 {"type": "add_agenda_item", "item_id": "muc-1", "title": "Tình hình tuần qua",
                                  "planned_minutes": 15},
                                 {"type": "schedule_conference"})):
            await admin.call("POST", f"/conferences/{CONF}/commands", {"key": f"ghi-{n}", **cmd})
        for n, cmd in enumerate(({"type": "open_conference"}, {"type": "start_item", "item_id": "muc-1"})):
            await chair.call("POST", f"/conferences/{CONF}/commands", {"key": f"ghi-chair-{n}", **cmd})
    finally:
        await admin.close()
        await chair.close()


async def server_notes(page: Any, base: str) -> dict[str, Any]:
    resp = await page.context.request.get(f"{base}/api/v1/conferences/{CONF}")
    return (await resp.json())["notes"]  # type: ignore[no-any-return]


async def test_two_secretaries_never_overwrite(pages: Pages, web_server: Any, artifacts: Any) -> None:
    await live_conference(web_server.base, web_server.password)
    lan = await pages.open(f"/c/{CONF}/secretary", account="thuky1")
    minh = await pages.open(f"/c/{CONF}/secretary", account="thuky2")
    await wait_online(lan)
    await wait_online(minh)

    # a note typed and the page reloaded at once: the text is not lost
    await lan.click("#add-note")
    await lan.locator("#notes-note textarea").fill("Phường Láng báo cáo: đã giải quyết 95% hồ sơ đúng hạn.")
    await lan.reload()
    await wait_online(lan)
    await lan.wait_for_selector("#notes-note .save-state.saved")

    async def one_note() -> Any:
        notes = await server_notes(lan, web_server.base)
        return len(notes) == 1 and next(iter(notes.values()))
    note = await eventually(one_note)
    assert note["text"] == "Phường Láng báo cáo: đã giải quyết 95% hồ sơ đúng hạn."
    selector = f'.note[data-note="{note["note_id"]}"] textarea'
    await minh.wait_for_selector(selector)
    assert await minh.input_value(selector) == note["text"]

    # Minh goes offline and keeps writing; Lan changes the same note meanwhile
    await minh.context.set_offline(True)
    await minh.wait_for_selector('#bc-conn[data-status="offline"], #bc-conn[data-status="reconnecting"]')
    await minh.locator(selector).fill(note["text"] + " Phường Đống Đa còn 12 hồ sơ quá hạn.")
    await minh.locator(selector).blur()
    await wait_js(minh, "() => document.querySelector('#save-all').textContent.includes('Đang giữ trên trang')")
    await lan.locator(selector).fill(note["text"] + " Đề nghị biểu dương.")
    await lan.locator(selector).blur()
    await lan.wait_for_selector(f'.note[data-note="{note["note_id"]}"] .save-state.saved')

    # back online: Minh sees both versions, nothing was overwritten
    await minh.context.set_offline(False)
    await wait_online(minh, timeout=15_000)
    box = f'.note[data-note="{note["note_id"]}"] .conflict-box'
    await minh.wait_for_selector(box)
    assert "Đề nghị biểu dương" in await minh.locator(f"{box} pre.theirs").text_content()
    assert "còn 12 hồ sơ quá hạn" in await minh.locator(f"{box} pre.mine").text_content()
    assert (await server_notes(lan, web_server.base))[note["note_id"]]["text"].endswith("Đề nghị biểu dương.")
    await screenshot(minh, artifacts, "secretary-conflict", docs=True)

    # Minh saves the merged text: it is what the server keeps, and what Lan's page shows
    merged = note["text"] + " Phường Đống Đa còn 12 hồ sơ quá hạn. Đề nghị biểu dương."
    await minh.locator(f"{box} textarea.merge-text").fill(merged)
    await minh.click(f"{box} .keep-merged")
    await minh.wait_for_selector(f'.note[data-note="{note["note_id"]}"] .save-state.saved')

    async def merged_on_server() -> bool:
        n = (await server_notes(lan, web_server.base))[note["note_id"]]
        return n["text"] == merged and n["rev"] == 3
    await eventually(merged_on_server)
    await wait_js(lan, "([sel, text]) => document.querySelector(sel).value === text", [selector, merged])
