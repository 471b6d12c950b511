"""The admin's calendar, conference form and audit log, and the recordings page, in Chromium
against `bridgeconf serve --demo`:

1. a conference scheduled over the API shows on its day in the month view; opened from there,
   its title and series are edited in the form, a ward is uninvited, and the server has it so;
2. the audit log shows who did that (the admin, by name), filtered by who and what, and its
   CSV export has the BOM and the filtered rows;
3. the recordings page lists a recording's parts and chapters and a chapter seeks the player;
   a part during which a screen was shared plays the share's own file, from where the part is;
4. these views keep inside the viewport at 1920, 1366 and 390 px.
"""

from __future__ import annotations

import csv
import io
import shutil
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import av
import pytest
from e2e_helpers import Pages, screenshot, wait_js

from server.tools.client import ApiClient

pytestmark = pytest.mark.asyncio(loop_scope="session")
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MAIN, A, B = "HN-TRU-SO", "P-HOAN-KIEM", "P-CUA-NAM"
DEMO = "so-ket-quy-3"
VIEWPORTS = ((1920, 1080), (1366, 768), (390, 844))
NO_SIDEWAYS = "(sel) => { const el = document.querySelector(sel); const r = el.getBoundingClientRect(); " \
              "return r.left >= 0 && r.right <= window.innerWidth + 1 && el.scrollWidth <= el.clientWidth + 1; }"


async def schedule(server: Any) -> tuple[str, datetime]:
    admin = await ApiClient.login(server.base, "admin", server.password)
    conf_id = f"lich-{uuid.uuid4().hex[:6]}"
    start = datetime.now(TZ).replace(hour=14, minute=0, second=0, microsecond=0) + timedelta(days=2)
    try:
        await admin.call("POST", "/conferences", {
            "conference_id": conf_id, "title": "Giao ban công tác chuyển đổi số", "main_site": MAIN, "chair": "chutri",
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()})
        await admin.call("POST", f"/conferences/{conf_id}/commands", {"type": "invite_sites", "codes": [A, B]})
        await admin.call("POST", f"/conferences/{conf_id}/commands", {"type": "schedule_conference"})
    finally:
        await admin.close()
    return conf_id, start


async def test_calendar_edit_uninvite_and_audit(pages: Pages, web_server: Any, artifacts: Path) -> None:
    conf_id, start = await schedule(web_server)
    page = await pages.open("/admin", account="admin")
    page.on("dialog", lambda d: d.accept())
    await page.click("#tab-calendar")
    if start.month != datetime.now(TZ).month:
        await page.click("#calendar-next")
    button = f'#calendar .cal-conf[data-conf="{conf_id}"]'
    await page.wait_for_selector(button)
    day = await page.get_attribute(f'#calendar .cal-day:has(.cal-conf[data-conf="{conf_id}"])', "data-day")
    assert day == start.date().isoformat()
    assert "14:00" in (await page.text_content(button) or "")
    await screenshot(page, artifacts, "admin-calendar", docs=True)

    await page.click(button)
    await page.wait_for_selector("#detail:not([hidden])")
    assert await page.input_value("#e-title") == "Giao ban công tác chuyển đổi số"
    assert await page.input_value("#e-start") == "14:00"
    await page.fill("#e-title", "Giao ban chuyển đổi số tháng")
    await page.fill("#e-series", "giao-ban-chuyen-doi-so")
    await page.fill("#e-end", "16:30")
    await page.click("#edit-save")
    await wait_js(page, "() => document.querySelector('#detail-title').textContent.includes('tháng')")

    await page.click(f'#links-table tr[data-site="{B}"] .uninvite')
    await page.wait_for_selector(f'#links-table tr[data-site="{B}"]', state="detached")
    assert await page.locator(f'#links-table tr[data-site="{MAIN}"] .uninvite').count() == 0

    admin = await ApiClient.login(web_server.base, "admin", web_server.password)
    try:
        view = await admin.call("GET", f"/conferences/{conf_id}")
    finally:
        await admin.close()
    assert (view["title"], view["series"]) == ("Giao ban chuyển đổi số tháng", "giao-ban-chuyen-doi-so")
    assert datetime.fromisoformat(view["ends_at"]) == start + timedelta(hours=2, minutes=30)
    assert set(view["sites"]) == {MAIN, A}

    # the audit log: who did it, from the conference's own log
    await page.click("#tab-audit")
    await page.wait_for_selector(f'#audit-stream option[value="conf-{conf_id}"]', state="attached")
    await page.select_option("#audit-stream", f"conf-{conf_id}")
    await page.wait_for_selector("#audit-table tbody tr[data-type]")
    await page.fill("#audit-actor", "quan tri")
    await page.select_option("#audit-type", "sites_uninvited")
    await page.click("#audit-form button[type=submit]")
    await wait_js(page, "() => document.querySelectorAll('#audit-table tbody tr[data-type]').length === 1")
    row = await page.text_content("#audit-table tbody tr[data-type]")
    assert "Quản trị hệ thống" in (row or "") and "Thôi mời điểm cầu" in (row or "") and B in (row or "")
    assert "1 mục" in (await page.text_content("#audit-summary") or "")
    await screenshot(page, artifacts, "admin-audit", docs=True)

    href = await page.get_attribute("#audit-csv", "href")
    assert href is not None and "type=sites_uninvited" in href
    resp = await page.context.request.get(web_server.url(href))
    assert resp.ok
    text = (await resp.body()).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert len(rows) == 2 and rows[1][5] == "sites_uninvited"

    for width, height in VIEWPORTS:
        await page.set_viewport_size({"width": width, "height": height})
        for tab, pane in (("#tab-audit", "#pane-audit"), ("#tab-calendar", "#pane-calendar")):
            await page.click(tab)
            assert await page.evaluate(NO_SIDEWAYS, pane), f"{pane} at {width}px"
            assert await page.evaluate(NO_SIDEWAYS, ".tabs"), f"the tabs at {width}px"


def write_recording(folder: Path) -> None:
    """A six-second VP8 WebM and its chapters, as the recorder leaves them."""
    folder.mkdir(parents=True, exist_ok=True)
    with av.open(str(folder / "program-20251003T080000.webm"), "w", format="webm") as c:
        s = c.add_stream("libvpx", rate=10)
        s.width, s.height, s.pix_fmt = 160, 120, "yuv420p"
        for i in range(60):
            frame = av.VideoFrame(160, 120, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([(i * 4) % 255]) * plane.buffer_size)
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    (folder / "program-20251003T080000.chapters.vtt").write_text(
        "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nKhai mạc\n\n00:00:02.000 --> 00:00:04.000\n"
        "Mục: Báo cáo kết quả quý III\n\n00:00:04.000 --> 00:00:06.000\nPhát biểu: Phường Hoàn Kiếm\n",
        encoding="utf-8")


async def test_recordings_are_listed_and_played(pages: Pages, web_server: Any, artifacts: Path) -> None:
    write_recording(web_server.data_dir / "recordings" / DEMO)
    page = await pages.open(f"/c/{DEMO}/recordings", account="thuky1")
    await page.wait_for_selector("#recordings .recording")
    chapters = page.locator("#recordings .chapter")
    assert await chapters.count() == 3
    assert "Phát biểu: Phường Hoàn Kiếm" in (await chapters.nth(2).text_content() or "")
    await chapters.nth(2).click()
    t = await wait_js(page, "() => { const v = document.querySelector('#player'); "
                            "return v.readyState >= 1 && Math.abs(v.currentTime - 4) < 0.6 ? v.currentTime + 0.001 : 0; }")
    assert 3.4 <= t <= 4.7
    assert await chapters.nth(2).get_attribute("aria-current") == "true"
    assert "Phát biểu" in (await page.text_content("#player-now") or "")
    await screenshot(page, artifacts, "recordings", docs=True)
    for width, height in VIEWPORTS:
        await page.set_viewport_size({"width": width, "height": height})
        # the page's own content (the shared header at 390 px is the viewport work of issue 17's other half)
        for sel in (".recordings-layout", "#player", "#recordings"):
            assert await page.evaluate(NO_SIDEWAYS, sel), f"{sel} at {width}px"


async def test_a_part_with_a_screen_share_plays_the_share_from_where_the_part_is(pages: Pages, web_server: Any) -> None:
    folder = web_server.data_dir / "recordings" / DEMO
    write_recording(folder)
    shutil.copy(folder / "program-20251003T080000.webm", folder / "program-20251003T080000.share.webm")
    page = await pages.open(f"/c/{DEMO}/recordings", account="thuky1")
    await page.wait_for_selector("#recordings .recording .play-share")
    await page.locator("#recordings .chapter").nth(1).click()      # the part, at 2 s
    await wait_js(page, "() => { const v = document.querySelector('#player'); "
                        "return v.readyState >= 1 && Math.abs(v.currentTime - 2) < 0.6; }")
    await page.locator("#recordings .play-share").click()
    # the share's file loads at 0 s, then the page seeks it to the program's moment (a wait that
    # took the first loaded moment saw 0 s now and then)
    t = await wait_js(page, "() => { const v = document.querySelector('#player'); "
                            "return v.src.endsWith('.share.webm') && v.readyState >= 1 && v.currentTime > 0.5 "
                            "? v.currentTime : 0; }")
    assert 1.4 <= t <= 3.5, t                                         # the same moment in the share's file
    assert "Màn hình chia sẻ" in (await page.text_content("#player-now") or "")
    link = page.locator("#recordings a[download$='.share.webm']")
    assert await link.count() == 1 and "Tải màn hình chia sẻ" in (await link.text_content() or "")


async def test_a_site_link_or_a_stranger_does_not_open_the_recordings(pages: Pages) -> None:
    page = await pages.open(f"/c/{DEMO}/recordings")
    assert "/login" in page.url
