"""The whole conference of issue 5 in real browsers against a real server:

the admin schedules a conference and invites sites; the chair opens it; three site pages
join by their links and check in; the chair's wall shows them online with their
headcounts; a site asks for the floor, the chair grants it, every page shows the new
speaker; the secretary records a conclusion and an action item for that site; the site
sees its action item and reports progress; a site page loses its connection and comes back
to exactly the server's state.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from e2e_helpers import Pages, comparable, eventually, page_state, screenshot, wait_js, wait_online

pytestmark = pytest.mark.asyncio(loop_scope="session")

GROUP = "Khu vực Hoàn Kiếm - Ba Đình"          # 5 wards of the demo directory
SITES = {"A": "P-HOAN-KIEM", "B": "P-CUA-NAM", "C": "P-BA-DINH"}
NAMES = {"A": "Phường Hoàn Kiếm", "B": "Phường Cửa Nam", "C": "Phường Ba Đình"}
HEADCOUNTS = {"A": 45, "B": 60, "C": 75}
TITLE = "Hội nghị giao ban trực tuyến tháng 11 với các phường khu vực trung tâm"


async def text(page: Any, selector: str) -> str:
    return (await page.locator(selector).first.text_content() or "").strip()


async def schedule_conference(pages: Pages) -> tuple[str, dict[str, str], Any]:
    """The admin page: schedule, invite a group, build the agenda, read the join links."""
    admin = await pages.open("/admin", account="admin")
    await admin.click("#new-conference")
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    await admin.fill("#c-date", today)
    await admin.fill("#c-title", TITLE)
    await admin.fill("#c-start", "07:30")
    await admin.fill("#c-end", "11:30")
    conf_id = await admin.input_value("#c-id")
    assert conf_id.startswith("hoi-nghi-giao-ban-"), conf_id
    await admin.select_option("#c-chair", "chutri")
    await admin.check('#c-secretaries input[value="thuky1"]')
    await admin.check('#c-secretaries input[value="thuky2"]')
    await admin.select_option("#c-group", GROUP)
    await admin.click('#create-form button[type="submit"]')
    await admin.wait_for_selector("#detail:not([hidden])")
    assert await text(admin, "#detail-title") == TITLE
    assert await text(admin, "#detail-phase") == "Đã lên lịch"

    for title, minutes in (("Khai mạc, giới thiệu đại biểu", 5), ("Ý kiến của các phường", 40),
                           ("Báo cáo tình hình tháng 11", 20)):
        await admin.fill("#i-title", title)
        await admin.fill("#i-minutes", str(minutes))
        n = await admin.locator("#agenda-edit li[data-item]").count()
        await admin.click('#item-form button[type="submit"]')
        await wait_js(admin, f"() => document.querySelectorAll('#agenda-edit li[data-item]').length === {n + 1}")
    # the report belongs before the sites' opinions: move it up one place
    await admin.get_by_role("button", name="Chuyển mục 3 lên").click()
    await wait_js(admin, "() => document.querySelector('#agenda-edit li:nth-child(2) input').value === 'Báo cáo tình hình tháng 11'")

    links = {}
    for key, code in SITES.items():
        links[key] = await text(admin, f'#links-table tr[data-site="{code}"] .link-url')
        assert "/join/" in links[key]
    return conf_id, links, admin


async def test_whole_conference(pages: Pages, web_server: Any, artifacts: Any) -> None:
    conf_id, links, admin = await schedule_conference(pages)
    await screenshot(admin, artifacts, "admin-conference", docs=True)
    await admin.context.close()
    pages.contexts.remove(admin.context)

    # -- the chair opens the conference and starts the first item ------------------------------
    chair = await pages.open(f"/c/{conf_id}/chair", account="chutri")
    chair.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await wait_online(chair)
    await chair.click("#btn-open")
    await chair.wait_for_selector("#phase.phase-live")
    await chair.click("#btn-next-item")
    await chair.wait_for_selector("#agenda li.active")
    assert "Khai mạc" in await text(chair, "#agenda-now")

    # -- three sites join by their links and check in -----------------------------------------
    site: dict[str, Any] = {}
    for key in SITES:
        site[key] = await pages.open(links[key])
        await wait_online(site[key])
        assert await text(site[key], ".site-badge strong") == NAMES[key]
    for key, page in site.items():
        await page.click("#tab-checkin")
        await page.fill("#checkin-headcount", str(HEADCOUNTS[key]))
        if key == "A":
            await page.click("#leader-add")
            await page.fill(".leader-row .leader-name", "Nguyễn Văn An")
            await page.fill(".leader-row .leader-title", "Chủ tịch UBND phường")
            await page.uncheck(".leader-row .leader-present")
            await page.fill(".leader-row .leader-reason", "Đi công tác theo Quyết định số 1125/QĐ-UBND")
        await page.click("#checkin-submit")
        await page.wait_for_selector("#checkin-status.ok-text")
        assert f"{HEADCOUNTS[key]} người" in await text(page, "#checkin-status")

    # -- the chair's wall shows them online with their headcounts ------------------------------
    for key, code in SITES.items():
        await chair.wait_for_selector(f'.tile[data-code="{code}"][data-conn="online"]')
        await wait_js(chair, "([code, n]) => document.querySelector(`.tile[data-code='${code}'] .tile-count`).textContent === n",
                      [code, str(HEADCOUNTS[key])])
    assert await text(chair, ".t-online .big") == "3/5"
    assert await text(chair, ".t-people .big") == "180"
    await chair.click(f'.tile[data-code="{SITES["A"]}"]')
    await chair.wait_for_selector("#selected:not([hidden]) #selected-facts dd")
    facts = await text(chair, "#selected-facts")
    assert "45 / dự kiến" in facts and "vắng: Đi công tác" in facts

    # -- a roll call: the chair asks, a site answers, the tally moves --------------------------
    await chair.click('#rollcall-form button[type="submit"]')
    await site["C"].wait_for_selector("#rollcall-banner:not([hidden])")
    await site["C"].fill("#rollcall-headcount", "74")
    await site["C"].click('#rollcall-form button[type="submit"]')
    await site["C"].wait_for_selector("#rollcall-done:not([hidden])")
    await wait_js(chair, "() => document.querySelector('#rollcall .tally').textContent.startsWith('1/5')")
    assert "74 người" in await text(chair, "#rollcall .tally")
    await chair.click("#rollcall button.btn-small")   # close it
    await chair.wait_for_selector('#rollcall-form:not([hidden])')

    # -- a site asks for the floor; the chair grants it; every page shows the speaker ---------
    await site["A"].fill("#floor-topic", "Kiến nghị về quản lý trật tự đô thị")
    await site["A"].click("#floor-request")
    await site["A"].wait_for_selector(".floor-panel.waiting")
    assert "thứ tự số 1" in await text(site["A"], "#floor-state")
    await chair.wait_for_selector(f'#queue li[data-site="{SITES["A"]}"]')
    await chair.wait_for_selector(f'.tile[data-code="{SITES["A"]}"].hand')
    await chair.select_option("#grant-limit", "120")
    await chair.click(f'#queue li[data-site="{SITES["A"]}"] .grant')
    await chair.wait_for_selector(f'#speakers .speaker-box[data-site="{SITES["A"]}"]')
    for page in site.values():
        await wait_js(page, "(name) => document.querySelector('#now-speaking').textContent.includes(name)", NAMES["A"])
    await site["A"].wait_for_selector(".floor-panel.speaking")
    state_text = await text(site["A"], "#floor-state")
    assert re.match(r"Điểm cầu đang được phát biểu: còn [12]:\d\d\.", state_text), state_text

    # -- the secretary records a conclusion and an action item for that site -------------------
    secretary = await pages.open(f"/c/{conf_id}/secretary", account="thuky1")
    await wait_online(secretary)
    assert await text(secretary, "#item-title") == "Khai mạc, giới thiệu đại biểu"
    await wait_js(secretary, "(name) => document.querySelector('#item-speakers').textContent.includes(name)", NAMES["A"])
    await secretary.click("#add-conclusion")
    conclusion = ("Giao UBND phường Hoàn Kiếm rà soát, báo cáo phương án sắp xếp điểm trông giữ xe "
                  "trên các tuyến phố cổ trước ngày 30/11.")
    await secretary.locator("#notes-conclusion textarea").fill(conclusion)
    await secretary.wait_for_selector("#notes-conclusion .save-state.saved", timeout=10_000)
    await secretary.fill("#action-title", "Báo cáo phương án sắp xếp điểm trông giữ xe")
    await secretary.fill("#assignee-search", "hoan kiem")
    await secretary.check(f'#assignees input[value="{SITES["A"]}"]')
    await secretary.click('#action-form button[type="submit"]')
    await secretary.wait_for_selector("#action-list .action-card")
    assert NAMES["A"] in await text(secretary, "#action-list .action-who")

    # -- the site sees its action item and reports progress ------------------------------------
    await site["A"].wait_for_selector("#badge-actions:not([hidden])")
    await site["A"].click("#tab-actions")
    assert await text(site["A"], "#actions .action-title") == "Báo cáo phương án sắp xếp điểm trông giữ xe"
    await site["A"].click("#actions details.progress summary")
    await site["A"].fill("#actions .progress-form textarea", "Đã khảo sát 12 tuyến phố, đang lấy ý kiến các hộ kinh doanh.")
    await site["A"].fill('#actions .progress-form input[type="number"]', "30")
    await site["A"].click('#actions .progress-form button[type="submit"]')
    await site["A"].wait_for_selector("#actions .action-status.status-in_progress")
    await wait_js(secretary, "() => document.querySelector('#action-list .updates').textContent.includes('Đã khảo sát 12 tuyến phố')")

    await screenshot(chair, artifacts, "chair-console", docs=True)
    await screenshot(site["A"], artifacts, "site-page-speaking", docs=True)
    await site["A"].click("#tab-agenda")
    await screenshot(secretary, artifacts, "secretary-desk", docs=True)

    # -- a site loses its connection and comes back to the same state --------------------------
    b = site["B"]
    await b.context.set_offline(True)
    await b.wait_for_selector('#bc-conn[data-status="offline"], #bc-conn[data-status="reconnecting"]')
    await chair.wait_for_selector(f'.tile[data-code="{SITES["B"]}"][data-conn="reconnecting"]', timeout=15_000)
    await screenshot(b, artifacts, "site-page-offline")
    # the conference goes on meanwhile: the floor is taken back, the next item starts,
    # the secretary writes (a note the site receives only as a redacted seq)
    await chair.click(f'#speakers .speaker-box[data-site="{SITES["A"]}"] .revoke')
    await chair.click("#btn-next-item")
    await wait_js(chair, "() => document.querySelector('#agenda-now').textContent.includes('Báo cáo tình hình')")
    await wait_js(secretary, "() => document.querySelector('#item-title').textContent.includes('Báo cáo tình hình')")
    await secretary.click("#add-note")
    await secretary.locator("#notes-note textarea").fill("Sở Nội vụ báo cáo kết quả tháng 11.")
    await secretary.wait_for_selector("#notes-note .save-state.saved")
    await b.context.set_offline(False)
    await wait_online(b, timeout=15_000)
    await chair.wait_for_selector(f'.tile[data-code="{SITES["B"]}"][data-conn="online"]')
    await wait_js(b, "() => document.querySelector('#active-item').textContent.includes('Báo cáo tình hình')")
    assert "Chưa có điểm cầu nào phát biểu" not in await text(b, "#now-speaking")  # the program is shown again
    token_b = links["B"].rsplit("/join/", 1)[1]

    async def same_as_server() -> bool:
        resp = await b.context.request.get(web_server.url(f"/api/v1/conferences/{conf_id}"),
                                           headers={"Authorization": f"Bearer {token_b}"})
        assert comparable(await resp.json()) == comparable(await page_state(b))
        return True
    await eventually(same_as_server)

    # -- and the chair's page holds exactly the server's state ---------------------------------
    async def chair_same() -> bool:
        resp = await chair.context.request.get(web_server.url(f"/api/v1/conferences/{conf_id}"))
        assert comparable(await resp.json()) == comparable(await page_state(chair))
        return True
    await eventually(chair_same)

    # -- after the meeting: the minutes are approved, sent, opened and acknowledged ------------
    await chair.click("#btn-end")   # confirm() is answered by the dialog handler below
    await chair.wait_for_selector("#phase.phase-ended")
    for account, command in (("chutri", {"type": "approve_minutes"}),
                             ("thuky1", {"type": "distribute_minutes", "version": 1})):
        api = await chair.context.browser.new_context()
        pages.contexts.append(api)
        login = await api.request.post(web_server.url("/api/v1/session"),
                                       data={"account": account, "password": web_server.password})
        token = (await login.json())["token"]
        resp = await api.request.post(web_server.url(f"/api/v1/conferences/{conf_id}/commands"),
                                      data={"key": f"after-{command['type']}", **command},
                                      headers={"Authorization": f"Bearer {token}"})
        assert resp.ok, await resp.text()
    a = site["A"]
    await a.wait_for_selector("#badge-inbox:not([hidden])")
    await a.click("#tab-inbox")
    assert await text(a, "#inbox .receipt") == "Đã nhận, chưa mở"
    await a.click("#inbox .ack-minutes")
    await a.wait_for_selector("#inbox .card.acknowledged")
    assert (await text(a, "#inbox .receipt")).startswith("Đã xác nhận nhận lúc")
