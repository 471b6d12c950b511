"""After the meeting, in the web pages (issue 6's "done when"): the demo conference of `make
run` is opened, an item is run, the secretary writes a conclusion, the chair ends it; the
chair approves the minutes in the secretary desk, the secretary distributes them, a site
finds them in its inbox, opens and acknowledges them, and the desk's receipts tracker shows
it live; the documents behind the desk's links are served in their formats.

Then the follow-up across a series (the open tasks of the previous conference added as an
agenda item from the desk) and the action-item dashboard with its exports.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from e2e_helpers import Pages, screenshot, wait_js, wait_online

from server.tools.client import ApiClient

pytestmark = pytest.mark.asyncio(loop_scope="session")

CONF = "so-ket-quy-3"                                  # the demo conference (server/demo.py)
SITE, SITE_NAME = "P-BA-DINH", "Phường Ba Đình"       # opens and acknowledges in its page
OTHER = "P-BACH-MAI"                                    # only opens the document
SITES_INVITED = 127                                     # 126 wards and communes + the main bridge
CONTENT_TYPES = {"html": "text/html", "pdf": "application/pdf",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def accept_dialogs(page: Any) -> None:
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))


async def text(page: Any, selector: str) -> str:
    return (await page.locator(selector).first.text_content() or "").strip()


async def join_links(base: str, password: str, conf: str) -> dict[str, str]:
    admin = await ApiClient.login(base, "admin", password)
    try:
        rows = (await admin.call("GET", f"/conferences/{conf}/links"))["links"]
    finally:
        await admin.close()
    return {r["site"]: r["url"] for r in rows}


async def check_documents(page: Any, selector: str, base: str) -> None:
    """Every document link under ``selector`` answers 200 in its format."""
    links = await page.eval_on_selector_all(selector, "els => els.map(a => [a.dataset.format, a.getAttribute('href')])")
    assert sorted(fmt for fmt, _ in links) == ["docx", "html", "pdf"], links
    for fmt, href in links:
        resp = await page.context.request.get(base + href)
        assert resp.status == 200, (href, resp.status, (await resp.text())[:300])
        assert resp.headers["content-type"].startswith(CONTENT_TYPES[fmt]), (href, resp.headers["content-type"])
        body = await resp.body()
        if fmt == "html":
            assert "BIÊN BẢN" in body.decode() and "Phường Ba Đình" in body.decode()
        elif fmt == "pdf":
            assert body.startswith(b"%PDF-")
        else:
            assert body.startswith(b"PK")


async def test_minutes_approved_distributed_and_acknowledged_in_the_pages(
        pages: Pages, web_server: Any, artifacts: Any) -> None:
    base = web_server.base
    links = await join_links(base, web_server.password, CONF)

    # -- the chair opens the demo conference and runs its first item ----------------------------
    chair = await pages.open(f"/c/{CONF}/chair", account="chutri")
    accept_dialogs(chair)
    await wait_online(chair)
    await chair.click("#btn-open")
    await chair.wait_for_selector("#phase.phase-live")
    await chair.click("#btn-next-item")
    await chair.wait_for_selector("#agenda li.active")

    # -- the secretary writes a conclusion; the minutes tab says they wait for the end ----------
    sec = await pages.open(f"/c/{CONF}/secretary", account="thuky1")
    accept_dialogs(sec)
    await wait_online(sec)
    await sec.click("#add-conclusion")
    conclusion = "Giao các phường, xã hoàn thành rà soát thủ tục hành chính liên thông trước ngày 15/10."
    await sec.locator("#notes-conclusion textarea").fill(conclusion)
    await sec.wait_for_selector("#notes-conclusion .save-state.saved")
    await sec.click("#tab-minutes")
    assert "sau khi hội nghị kết thúc" in await text(sec, "#minutes-status")
    assert await sec.locator("#btn-approve").is_hidden()          # a secretary does not approve
    assert await text(sec, "#tracker-empty") == "Chưa gửi phiên bản nào."

    # -- the chair ends the conference: the draft's files are there -----------------------------
    await chair.click("#btn-end")
    await chair.wait_for_selector("#phase.phase-ended")
    await wait_js(sec, "() => document.querySelector('#minutes-status').dataset.state === 'waiting'")
    assert "đang chờ chủ trì duyệt" in await text(sec, "#minutes-status")
    assert await text(sec, "#approve-hint") == "Chỉ chủ trì duyệt biên bản."
    await check_documents(sec, "#draft-files a.doc-link", base)

    # -- the chair approves in the desk (it opens on the minutes once the conference has ended) -
    await chair.goto(web_server.url(f"/c/{CONF}/secretary"))
    await wait_online(chair)
    await chair.wait_for_selector("#pane-minutes:not([hidden]) #btn-approve:not([hidden]):not([disabled])")
    await screenshot(chair, artifacts, "secretary-minutes-approve")
    await chair.click("#btn-approve")                             # confirm() accepted
    await chair.wait_for_selector('#minutes-status[data-state="approved"]')
    await chair.wait_for_selector("#btn-approve", state="hidden")
    await chair.close()

    # -- the secretary sees version 1 live, with its hash, and distributes it ------------------
    card = '#versions .version-card[data-version="1"]'
    await sec.wait_for_selector(card)
    assert "Chủ tịch UBND Thành phố" in await text(sec, f"{card} .approved-by")
    sha = await sec.get_attribute(f"{card} .sha", "title")
    assert sha and len(sha) == 64 and await text(sec, f"{card} .sha") == sha[:12] + "…"
    assert await text(sec, f"{card} .sent-to") == "Chưa gửi"
    await check_documents(sec, f"{card} a.doc-link", base)
    assert await text(sec, "#btn-distribute") == f"Gửi phiên bản 1 đến {SITES_INVITED} điểm cầu"
    await sec.click("#btn-distribute")                            # confirm() accepted
    await wait_js(sec, "() => document.querySelectorAll('#tracker-rows tr[data-status=delivered]').length === 127")
    assert await text(sec, "#tracker-counts") == f"{SITES_INVITED} đã nhận, 0 đã mở, 0 đã xác nhận"
    assert await text(sec, f"{card} .sent-to") == f"Đã gửi đến {SITES_INVITED}/{SITES_INVITED} điểm cầu"
    assert "không có địa chỉ" in await text(sec, "#tracker-mail")  # the demo directory has no e-mail
    await sec.wait_for_selector(f'#tracker-rows tr[data-site="{SITE}"] .email:text("Không có địa chỉ")')

    # -- a site finds the minutes in its inbox, opens them and acknowledges them ----------------
    site = await pages.open(links[SITE])
    await wait_online(site)
    await site.wait_for_selector("#badge-inbox:not([hidden])")
    await site.click("#tab-inbox")
    assert await text(site, "#inbox .receipt") == "Đã nhận, chưa mở"
    async with site.context.expect_page() as opened:
        await site.click("#inbox .open-minutes")
    document = await opened.value
    await document.wait_for_load_state()
    assert "BIÊN BẢN" in await document.content()
    await document.close()
    row = f'#tracker-rows tr[data-site="{SITE}"]'
    await sec.wait_for_selector(f'{row}[data-status="opened"]')
    await site.click("#inbox .ack-minutes")
    await site.wait_for_selector("#inbox .card.acknowledged")
    await sec.wait_for_selector(f'{row}[data-status="acknowledged"]')
    assert (await text(sec, f"{row} .acknowledged")).startswith("✓ ")

    # another site only opens the document (by its link's token, as its inbox does)
    token = links[OTHER].rsplit("/join/", 1)[1]
    resp = await site.context.request.get(f"{base}/api/v1/conferences/{CONF}/minutes/1.html?token={token}")
    assert resp.status == 200
    await sec.wait_for_selector(f'#tracker-rows tr[data-site="{OTHER}"][data-status="opened"]')
    assert await text(sec, "#tracker-counts") == f"{SITES_INVITED} đã nhận, 2 đã mở, 1 đã xác nhận"

    # -- the tracker: only those not acknowledged; a reminder to them; the CSV -----------------
    await sec.check("#tracker-pending")
    await sec.wait_for_selector(row, state="detached")
    assert await text(sec, "#tracker-shown") == f"Đang hiện {SITES_INVITED - 1}/{SITES_INVITED} điểm cầu"
    assert await text(sec, "#btn-remind") == f"Nhắc các điểm cầu chưa xác nhận ({SITES_INVITED - 1})"
    await sec.click("#btn-remind")                                # confirm() accepted
    await wait_js(sec, "(code) => document.querySelector(`#tracker-rows tr[data-site='${code}'] .reminders`).textContent.startsWith('1 (')", OTHER)
    await sec.uncheck("#tracker-pending")
    await sec.wait_for_selector(row)
    assert await text(sec, f"{row} .reminders") == ""              # acknowledged: not reminded
    csv = await sec.context.request.get(base + await sec.get_attribute("#tracker-csv", "href"))
    assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
    assert SITE_NAME in (await csv.body()).decode("utf-8-sig")
    await site.close()

    await screenshot(sec, artifacts, "secretary-minutes", docs=True)


# -- follow-up across a series, and the action-item dashboard ------------------------------------

SERIES = "giao-ban-do-thi"
PREV, NEXT = "giao-ban-do-thi-1", "giao-ban-do-thi-2"
TASK = "Rà soát, xử lý dứt điểm các điểm tập kết rác thải tự phát"


async def series_of_two(base: str, password: str) -> str:
    """A conference of a series, opened, with an open action item; the next one scheduled."""
    admin = await ApiClient.login(base, "admin", password)
    chair = await ApiClient.login(base, "chutri", password)
    sec = await ApiClient.login(base, "thuky1", password)
    due = (date.today() + timedelta(days=14)).isoformat()
    try:
        start = datetime.now(UTC).replace(microsecond=0)
        for conf, at, title in ((PREV, start, "Giao ban đô thị tuần 1"), (NEXT, start + timedelta(days=7), "Giao ban đô thị tuần 2")):
            await admin.call("POST", "/conferences", {
                "key": f"{conf}-create", "conference_id": conf, "title": title, "kind": "periodic_review",
                "starts_at": at.isoformat(), "ends_at": (at + timedelta(hours=2)).isoformat(), "series": SERIES,
                "main_site": "HN-TRU-SO", "chair": "chutri", "secretaries": ["thuky1", "thuky2"]})
            for n, cmd in enumerate(({"type": "invite_sites", "codes": ["P-LANG", "P-DONG-DA"]},
                                     {"type": "add_agenda_item", "item_id": "muc-1", "title": "Vệ sinh môi trường",
                                      "planned_minutes": 20},
                                     {"type": "schedule_conference"})):
                await admin.call("POST", f"/conferences/{conf}/commands", {"key": f"{conf}-{n}", **cmd})
        await chair.call("POST", f"/conferences/{PREV}/commands", {"key": "prev-open", "type": "open_conference"})
        await sec.call("POST", f"/conferences/{PREV}/commands", {
            "key": "prev-task", "type": "create_action_item", "action_id": "rac-thai", "item_id": "muc-1",
            "title": TASK, "assignees": ["P-LANG"], "due": due})
    finally:
        for client in (admin, chair, sec):
            await client.close()
    return due


async def test_follow_up_item_and_action_dashboard(pages: Pages, web_server: Any, artifacts: Any) -> None:
    due = await series_of_two(web_server.base, web_server.password)

    # the next conference's desk offers the open task of the previous one, and adds the item
    sec = await pages.open(f"/c/{NEXT}/secretary", account="thuky1")
    await wait_online(sec)
    await sec.wait_for_selector("#follow-up:not([hidden])")
    assert "Giao ban đô thị tuần 1" in await text(sec, "#follow-up-intro")
    assert TASK in await text(sec, f'#follow-up-list li[data-ref="{PREV}/rac-thai"]')
    await screenshot(sec, artifacts, "secretary-follow-up")
    await sec.click("#follow-up-add")
    await sec.wait_for_selector("#follow-up-added:not([hidden])")
    await wait_js(sec, "() => [...document.querySelectorAll('#agenda .agenda-title')].some(e => e.textContent.includes('Kiểm điểm'))")
    assert await sec.locator("#follow-up-add").is_hidden()
    await sec.close()

    # the dashboard is for accounts: without a session it sends to the sign-in page
    anonymous = await pages.context()
    resp = await anonymous.request.get(web_server.url("/actions"), max_redirects=0)
    assert resp.status == 302 and resp.headers["location"].startswith("/login?next=")

    # the dashboard: the task under its conference, filters, and the same rows as files
    dash = await pages.open(f"/actions?conference={PREV}", account="thuky1")
    row = f'#dash-rows tr[data-action="rac-thai"][data-conference="{PREV}"]'
    await dash.wait_for_selector(row)
    assert await text(dash, f"{row} .title") == TASK
    assert await text(dash, f"{row} .who") == "Phường Láng"
    assert await text(dash, f"{row} .due") == "/".join(reversed(due.split("-")))
    assert await text(dash, f"{row} .status") == "Mở"
    assert await dash.locator(f"{row} .overdue-chip").is_hidden()
    assert await dash.input_value("#f-conference") == PREV
    await dash.check("#f-overdue")
    await dash.wait_for_selector(row, state="detached")
    assert "Không có nhiệm vụ nào" in await text(dash, "#dash-rows")
    await dash.uncheck("#f-overdue")
    await dash.select_option("#f-site", "P-LANG")
    await dash.wait_for_selector(row)
    assert "site=P-LANG" in dash.url and f"conference={PREV}" in dash.url
    for link, kind in (("#export-csv", "text/csv"), ("#export-ics", "text/calendar"), ("#export-ics-events", "text/calendar"),
                       ("#export-xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")):
        href = await dash.get_attribute(link, "href")
        assert "site=P-LANG" in href, href
        resp = await dash.context.request.get(web_server.url(href))
        assert resp.status == 200 and resp.headers["content-type"].startswith(kind), (href, resp.status)
        if kind == "text/csv":
            assert TASK in (await resp.body()).decode("utf-8-sig")
    await screenshot(dash, artifacts, "action-dashboard")
