"""The pages as a chair, a secretary and a ward's operator live with them (issue 17):

- the site page (check-in with leaders, floor, inbox, action items), the chair console and the
  secretary desk at 1920x1080, 1366x768 and 390x844: no horizontal scrolling, every control
  inside the viewport (bounding boxes);
- a ward opening its link the day before: date, time, place, agenda with its documents and
  the ward's own .ics invite;
- mute-all said on the muted ward's page and marked on the wall; the chair's elapsed time in
  words; wards that never joined are "not connected yet"; after "Bế mạc" every page says the
  meeting has ended; a closed roll call names who did not answer;
- a handover (one give_floor) never shows the caption between two speakers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from e2e_helpers import Pages, eventually, screenshot, wait_js, wait_online

from server.tools.client import ApiClient

pytestmark = pytest.mark.asyncio(loop_scope="session")

CONF = "bo-cuc-trang"
WARD, WARD_NAME = "P-VAN-MIEU-QUOC-TU-GIAM", "Phường Văn Miếu - Quốc Tử Giám"   # the longest name
OTHERS = ["P-KIM-LIEN", "P-LANG", "P-O-CHO-DUA", "P-DONG-DA", "P-BACH-MAI", "P-VINH-TUY", "P-HAI-BA-TRUNG"]
NEVER = "P-HAI-BA-TRUNG"          # invited, never opens its page
VIEWPORTS = [(1920, 1080), (1366, 768), (390, 844)]
DOCS = ("Báo cáo số 215/BC-SNV về kết quả quý III", "https://example.org/tai-lieu/bao-cao-quy-3.pdf")

# Every control that is shown must lie inside the viewport, and the page must not scroll sideways.
LAYOUT_JS = """() => {
  const vw = document.documentElement.clientWidth;
  const bad = [];
  const sw = document.documentElement.scrollWidth;
  if (sw > vw + 1) {
    const wide = [...document.querySelectorAll('body *')].filter((el) => {
      const r = el.getBoundingClientRect();
      return r.width && r.right > vw + 1 && !el.closest('.offscreen') &&
        ![...el.children].some((c) => c.getBoundingClientRect().right > vw + 1);
    }).slice(0, 6).map((el) => (el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + el.className) + ' ' +
      Math.round(el.getBoundingClientRect().right));
    bad.push(`the page scrolls sideways: ${sw} > ${vw}, past the edge: ${wide.join(', ')}`);
  }
  const controls = document.querySelectorAll(
    'button, input:not([type=hidden]), select, textarea, a[href], [role=tab], summary, h1');
  for (const el of controls) {
    if (el.closest('.skip-link, .offscreen, #bc-toasts')) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;                       // not shown
    if (r.left < -1 || r.right > vw + 1) {
      const name = (el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + el.className) + ' "' +
        (el.textContent || el.value || '').trim().slice(0, 30) + '"';
      bad.push(`${name} at ${Math.round(r.left)}..${Math.round(r.right)} of ${vw}`);
    }
  }
  return bad;
}"""


async def fits(page: Any, what: str) -> None:
    bad = await page.evaluate(LAYOUT_JS)
    size = page.viewport_size
    assert bad == [], f"{what} at {size['width']}x{size['height']}: {bad}"


async def text(page: Any, selector: str) -> str:
    return (await page.locator(selector).first.text_content() or "").strip()


async def api(base: str, account: str, password: str) -> ApiClient:
    return await ApiClient.login(base, account, password)


_made: dict[str, dict[str, str]] = {}


async def conference(base: str, password: str) -> dict[str, str]:
    """The conference of this module, scheduled to open in an hour (made once); its join links."""
    if CONF in _made:
        return _made[CONF]
    admin = await api(base, "admin", password)
    try:
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
        await admin.call("POST", "/conferences", {
            "key": "bc-create", "conference_id": CONF, "title": "Hội nghị giao ban trực tuyến tháng 12 các phường",
            "kind": "periodic_review", "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2, minutes=30)).isoformat(),
            "main_site": "HN-TRU-SO", "chair": "chutri", "secretaries": ["thuky1", "thuky2"]})
        commands = [{"type": "invite_sites", "codes": [WARD, *OTHERS]},
                    {"type": "add_agenda_item", "item_id": "muc-1", "title": "Báo cáo tình hình tháng 12",
                     "presenter": "Sở Nội vụ", "planned_minutes": 20, "documents": list(DOCS)},
                    {"type": "add_agenda_item", "item_id": "muc-2", "title": "Ý kiến của các phường",
                     "planned_minutes": 60},
                    {"type": "schedule_conference"}]
        for n, cmd in enumerate(commands):
            await admin.call("POST", f"/conferences/{CONF}/commands", {"key": f"bc-{n}", **cmd})
        rows = (await admin.call("GET", f"/conferences/{CONF}/links"))["links"]
    finally:
        await admin.close()
    _made[CONF] = {r["site"]: r["url"] for r in rows}
    return _made[CONF]


async def chair_command(base: str, password: str, key: str, account: str = "chutri", **cmd: Any) -> Any:
    chair = await api(base, account, password)
    try:
        return await chair.call("POST", f"/conferences/{CONF}/commands", {"key": key, **cmd})
    finally:
        await chair.close()


async def conference_view(base: str, password: str) -> Any:
    chair = await api(base, "chutri", password)
    try:
        return await chair.call("GET", f"/conferences/{CONF}")
    finally:
        await chair.close()


async def open_at(pages: Pages, url: str, size: tuple[int, int], account: str | None = None,
                  online: bool = True) -> Any:
    ctx = await pages.context(account)
    page = await ctx.new_page()
    await page.set_viewport_size({"width": size[0], "height": size[1]})
    page.on("pageerror", lambda e: pages.errors.append(f"{page.url}: {e}"))
    page.on("console", lambda m: pages._console(page, m))
    await page.goto(url if url.startswith("http") else pages.server.url(url))
    if online:
        await wait_online(page)
    return page


# -- the day before -------------------------------------------------------------------------------

async def test_a_ward_sees_when_where_and_what_before_the_meeting(pages: Pages, web_server: Any, artifacts: Any) -> None:
    links = await conference(web_server.base, web_server.password)
    for size in ((390, 844), (1366, 768)):
        page = await open_at(pages, links[WARD], size)
        await page.wait_for_selector("#agenda .agenda-docs a")
        when = await text(page, "#info-when")
        assert re.fullmatch(r"\d\d:\d\d–\d\d:\d\d, ngày \d\d/\d\d/\d{4}", when), when
        assert "Điểm cầu chính" in await text(page, "#info-place")
        assert "khai mạc lúc" in await text(page, "#info-opens")
        assert await text(page, "#program-placeholder-text") == "Hội nghị chưa bắt đầu"
        docs = await text(page, "#agenda .agenda-docs")
        assert docs.startswith("Tài liệu:") and DOCS[0] in docs and DOCS[1] in docs
        assert await page.get_attribute("#agenda .agenda-docs a", "href") == DOCS[1]
        assert await text(page, "h1") == "Hội nghị giao ban trực tuyến tháng 12 các phường"
        await fits(page, "the site page before the meeting")
        if size[0] == 390:
            await screenshot(page, artifacts, "site-page-before-phone", docs=True, full_page=True)
    # the ward's own invite, with its own join link in it
    href = await page.get_attribute("#info-ics", "href")
    resp = await page.context.request.get(web_server.url(href))
    assert resp.status == 200 and resp.headers["content-type"].startswith("text/calendar")
    ics = (await resp.body()).decode()
    assert "BEGIN:VEVENT" in ics and links[WARD].rsplit("/", 1)[1][:40] in ics.replace("\r\n ", "")


# -- every screen size ------------------------------------------------------------------------------

@pytest.mark.parametrize("size", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
async def test_every_page_fits_every_screen(pages: Pages, web_server: Any, artifacts: Any, size: tuple[int, int]) -> None:
    links = await conference(web_server.base, web_server.password)
    base, pw = web_server.base, web_server.password
    tag = f"{size[0]}"
    view = await conference_view(base, pw)
    if view["phase"] == "scheduled":
        await chair_command(base, pw, "bc-open", type="open_conference")
        await chair_command(base, pw, "bc-start", type="start_item", item_id="muc-1")
        await chair_command(base, pw, "bc-action", account="thuky1", type="create_action_item", action_id="bc-act-1",
                            title="Rà soát hồ sơ tồn đọng của phường", description="Báo cáo trước ngày 20",
                            assignees=[WARD], due=(datetime.now(UTC) + timedelta(days=10)).date().isoformat(),
                            item_id="muc-1")

    # the ward: check-in with leaders (one absent, with a reason)
    site = await open_at(pages, links[WARD], size)
    await fits(site, "the site page")
    await site.click("#tab-checkin")
    await site.fill("#checkin-headcount", "48")
    if await site.locator(".leader-row").count() == 0:
        for name, title in (("Nguyễn Văn An", "Chủ tịch UBND phường"), ("Trần Thị Bình", "Phó Chủ tịch UBND phường")):
            await site.click("#leader-add")
            row = site.locator(".leader-row").last
            await row.locator(".leader-name").fill(name)
            await row.locator(".leader-title").fill(title)
        await site.locator(".leader-row").last.locator(".leader-present").uncheck()
        await site.locator(".leader-row").last.locator(".leader-reason").fill("Đi công tác")
    await fits(site, "the check-in tab")
    await site.click("#checkin-submit")
    await wait_js(site, "() => document.querySelector('#checkin-status').classList.contains('ok-text')")
    # the floor: ask for it, then hold it
    await site.click("#tab-agenda")
    if await site.is_visible("#floor-request"):
        await site.click("#floor-request")
        await site.wait_for_selector("#floor-withdraw:not([hidden])")
    await fits(site, "the floor panel, waiting")
    chair = await open_at(pages, f"/c/{CONF}/chair", size, account="chutri")
    state = await conference_view(base, pw)
    if WARD not in state["floor"]["speakers"]:
        await chair_command(base, pw, f"bc-grant-{tag}", type="grant_floor", site=WARD, limit_seconds=300)
    await site.wait_for_selector("#floor-release:not([hidden])")
    await fits(site, "the floor panel, speaking")
    if size[0] == 390:
        await screenshot(site, artifacts, "site-page-speaking-phone", docs=True)
    for tab in ("#tab-inbox", "#tab-actions"):
        await site.click(tab)
        await fits(site, f"the {tab} tab")
    await site.locator("#actions .progress summary").first.click()
    await fits(site, "an action item's progress form")

    # the chair: the wall, a site selected, the panels
    await chair.wait_for_selector(f'.tile[data-code="{WARD}"]')
    await chair.click(f'.tile[data-code="{WARD}"]')
    await chair.wait_for_selector("#selected:not([hidden])")
    await fits(chair, "the chair console")
    if size[0] == 1366:
        await screenshot(chair, artifacts, "chair-console-1366", docs=True)

    # the secretary: the desk and its tabs
    desk = await open_at(pages, f"/c/{CONF}/secretary", size, account="thuky1")
    await fits(desk, "the secretary desk")
    for tab in await desk.locator('[role="tab"]').all():
        if await tab.is_visible():
            await tab.click()
            await fits(desk, f"the secretary desk, tab {await tab.text_content()}")
    if size[0] == 390:
        await screenshot(desk, artifacts, "secretary-desk-phone", docs=True)

    # the admin: every tab
    admin = await open_at(pages, "/admin", size, account="admin", online=False)
    await admin.wait_for_selector("#tab-conferences")
    await fits(admin, "the admin page")
    for tab in await admin.locator('[role="tab"]').all():
        if await tab.is_visible():
            await tab.click()
            await fits(admin, f"the admin page, tab {await tab.text_content()}")


# -- what the pages say ------------------------------------------------------------------------------

CAPTION_WATCH = """() => {
  window.captions = [];
  const box = document.querySelector('#now-speaking');
  new MutationObserver(() => window.captions.push(box.textContent)).observe(box, { childList: true, subtree: true, characterData: true });
  const frame = () => { window.captions.push(box.textContent); requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
}"""


async def test_the_pages_say_what_is_true(pages: Pages, web_server: Any, artifacts: Any) -> None:
    links = await conference(web_server.base, web_server.password)
    base, pw = web_server.base, web_server.password
    if (await conference_view(base, pw))["phase"] == "scheduled":
        await chair_command(base, pw, "bc-open", type="open_conference")
    chair = await open_at(pages, f"/c/{CONF}/chair", (1366, 768), account="chutri")
    ward = await open_at(pages, links[WARD], (390, 844))
    other = await open_at(pages, links["P-LANG"], (1366, 768))
    watcher = await open_at(pages, links["P-KIM-LIEN"], (1366, 768))

    # the elapsed time in words, against the planned 2 h 30 min
    elapsed = await wait_js(chair, "() => document.querySelector('#conf-elapsed').textContent")
    assert re.fullmatch(r"đã họp (\d+ giờ )?(\d+ phút)?( ?\d+ giây)? / dự kiến 2 giờ 30 phút", elapsed), elapsed
    # a ward that never opened its page is not "lost": it has not come yet
    never = chair.locator(f'.tile[data-code="{NEVER}"] .tile-state')
    assert await never.text_content() == "Chưa kết nối"
    assert await chair.locator(f'.tile[data-code="{WARD}"] .tile-state').text_content() == "Trực tuyến"

    # a handover is drawn as one: the caption never shows the program between two speakers
    await watcher.evaluate(CAPTION_WATCH)
    for n in range(10):
        target, name = (WARD, WARD_NAME) if n % 2 else ("P-LANG", "Phường Láng")
        await chair_command(base, pw, f"bc-give-{n}", type="give_floor", site=target)
        await wait_js(watcher, "(name) => document.querySelector('#now-speaking strong')?.textContent === name", name)
    captions = await watcher.evaluate("() => window.captions")
    shown = [c for c in captions if c]
    assert shown and not any(c.startswith("Tín hiệu từ") for c in shown[shown.index(next(c for c in shown if "Đang phát biểu" in c)):]), \
        sorted(set(captions))

    # mute-all: the ward holding the floor is told, and its tile says so
    await chair.click("#btn-mute-all")
    state = ward.locator("#floor-state")
    await eventually(lambda: _contains(state, "Chủ trì đã tắt micro"))
    assert "Camera và micro đang phát" not in (await state.text_content() or "")
    flag = chair.locator(f'.tile[data-code="{WARD}"] .flag-mic-off')
    await flag.wait_for()
    assert await flag.text_content() == "Đã tắt micro"
    await screenshot(ward, artifacts, "site-page-muted-phone")

    # a roll call closed: the chair's panel names every site that did not answer
    deadline = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    await chair_command(base, pw, "bc-rc-open", type="open_roll_call", round_id="bc-rc-1", deadline=deadline)
    await ward.wait_for_selector("#rollcall-banner:not([hidden])")
    await ward.fill("#rollcall-headcount", "47")
    await ward.click('#rollcall-form button[type="submit"]')
    await ward.wait_for_selector("#rollcall-done:not([hidden])")
    await chair_command(base, pw, "bc-rc-close", type="close_roll_call", round_id="bc-rc-1")
    missing = chair.locator("#rollcall .rollcall-missing")
    await missing.wait_for()
    names = await missing.text_content() or ""
    view = await conference_view(base, pw)
    silent = [s["name"] for c, s in view["sites"].items() if c not in (WARD, "HN-TRU-SO")]
    assert len(silent) == len(OTHERS) and all(n in names for n in silent), names
    assert WARD_NAME not in names

    # "Bế mạc": every page says the meeting has ended
    chair.on("dialog", lambda d: d.accept())
    await chair.click("#btn-end")
    await eventually(lambda: _contains(other.locator("#floor-state"), "Hội nghị đã bế mạc"))
    assert not await other.is_visible("#floor-request")
    await other.click("#tab-checkin")
    assert "đã bế mạc" in (await other.locator("#checkin-note").text_content() or "")
    assert await other.locator("#program-placeholder-text").text_content() == "Hội nghị đã bế mạc."
    await eventually(lambda: _contains(chair.locator("#agenda-now"), "Hội nghị đã bế mạc."))
    await eventually(lambda: _contains(chair.locator("#conf-elapsed"), "đã bế mạc sau"))

    # the secretary's draft preview counts as the official draft minutes do
    desk = await open_at(pages, f"/c/{CONF}/secretary", (1920, 1080), account="thuky1")
    await desk.click("#tab-desk")
    await desk.click("#tab-preview")
    line = desk.locator("#preview .attendance-line")
    await line.wait_for()
    resp = await desk.context.request.get(web_server.url(f"/api/v1/conferences/{CONF}/minutes/draft.html"))
    assert resp.status == 200, await resp.text()
    official = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", (await resp.body()).decode()))
    ours = (await line.text_content() or "").strip()
    assert ours in official, (ours, re.findall(r"[^.;]*người tại[^;]*;[^<]*?vắng", official))
    preview = await desk.locator("#preview").text_content() or ""
    assert "Chủ tịch UBND Thành phố" in preview and "chutri" not in preview and "thuky1" not in preview
    assert "Thư ký Nguyễn Thị Lan" in preview
    absent = await desk.locator("#preview .absent-sites").text_content() or ""
    assert "Phường Hai Bà Trưng" in absent and "…" not in absent


async def _contains(locator: Any, part: str) -> bool:
    return part in (await locator.text_content() or "")
