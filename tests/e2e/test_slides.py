"""Slides in Chromium against a real server: the main bridge's page attaches a PDF and
presents it; a ward's page shows page 1, then page 2 after a turn (the image really loaded:
``naturalWidth > 0``), with the caption "Trình chiếu: … — trang 2/3"; a ward on audio only
still sees the slides; a ward that does not present cannot turn pages; the chair stops the
presentation and every page goes back to the program; the pages' reducer folds the
presentation events to what the server's view shows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from e2e_helpers import Pages, comparable, page_state, screenshot, wait_js, wait_online

from server.tools.client import ApiClient, link_parts
from tests.fixtures.decks import deck_pdf

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAIN = "HN-TRU-SO"
MAIN_NAME = "Điểm cầu chính - Trụ sở Thành ủy Hà Nội"
A, B = "P-HOAN-KIEM", "P-CUA-NAM"
SHOWN = """(page) => { const img = document.querySelector('.slide-img');
  return !!img && img.dataset.page === String(page) && img.complete && img.naturalWidth > 0
    && !document.querySelector('.slide-layer').hidden; }"""


@dataclass
class Conf:
    conf_id: str
    links: dict[str, str]
    chair: ApiClient


@pytest_asyncio.fixture(loop_scope="session")
async def conf(web_server: Any) -> AsyncIterator[Conf]:
    admin = await ApiClient.login(web_server.base, "admin", web_server.password)
    chair = await ApiClient.login(web_server.base, "chutri", web_server.password)
    conf_id = f"slides-{uuid.uuid4().hex[:8]}"
    start = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(microsecond=0)
    try:
        await admin.call("POST", "/conferences", {
            "conference_id": conf_id, "title": "Kiểm thử trình chiếu", "main_site": MAIN, "chair": "chutri",
            "secretaries": ["thuky1"], "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat()})
        commands = f"/conferences/{conf_id}/commands"
        await admin.call("POST", commands, {"type": "invite_sites", "codes": [A, B]})
        await admin.call("POST", commands, {"type": "schedule_conference"})
        rows = (await admin.call("GET", f"/conferences/{conf_id}/links"))["links"]
        links = {r["site"]: web_server.url("/join/" + link_parts(r["url"])[2]) for r in rows}
        await chair.call("POST", commands, {"type": "open_conference"})
        yield Conf(conf_id, links, chair)
    finally:
        await admin.close()
        await chair.close()


async def test_the_main_bridge_presents_and_every_ward_follows(pages: Pages, conf: Conf, tmp_path: Path,
                                                               artifacts: Any) -> None:
    main = await pages.open(conf.links[MAIN])
    ward = await pages.open(conf.links[A])
    quiet = await pages.open(conf.links[B])
    for page in (main, ward, quiet):
        await wait_online(page)
    await quiet.check("#audio-only")                 # a commune on a weak link: no pictures, slides still

    # the main bridge attaches a PDF from its page, then presents it
    pdf = tmp_path / "Báo cáo quý III.pdf"
    pdf.write_bytes(deck_pdf(3))
    await main.wait_for_selector("#slides-panel:not([hidden])")
    await main.set_input_files("#slides-file", str(pdf))
    await main.click("#slides-panel .slides-upload button[type=submit]")
    await wait_js(main, "() => document.querySelectorAll('#slides-deck option[value^=\"d-\"]').length === 1", timeout=60)
    await main.click("#slides-start")

    await wait_js(ward, SHOWN, 1)
    caption = await ward.text_content(".slide-caption") or ""
    assert caption == f"Trình chiếu: {MAIN_NAME} — trang 1/3", caption
    await main.click("#slides-next")
    for page in (ward, quiet, main):
        await wait_js(page, SHOWN, 2)
    assert "trang 2/3" in (await ward.text_content(".slide-caption") or "")
    assert await quiet.is_visible(".slide-img") and await quiet.is_checked("#audio-only")
    width = await ward.evaluate("() => document.querySelector('.slide-img').naturalWidth")
    assert width in (640, 1280, 1920), width
    await screenshot(ward, artifacts, "ward-slides", docs=True)
    await screenshot(main, artifacts, "main-bridge-presenting", full_page=True)

    # the chair's console shows it too, with its controls; a phone-wide ward page keeps it whole
    chair = await pages.open(f"/c/{conf.conf_id}/chair", account="chutri")
    await wait_online(chair)
    await wait_js(chair, SHOWN, 2)
    assert await chair.is_visible("#chair-slides-stop")
    await screenshot(chair, artifacts, "chair-slides")
    await ward.set_viewport_size({"width": 390, "height": 844})
    await wait_js(ward, SHOWN, 2)
    box = await ward.evaluate("() => { const r = document.querySelector('.slide-img').getBoundingClientRect();"
                              " return [r.left, r.right, document.documentElement.clientWidth]; }")
    assert box[0] >= 0 and box[1] <= box[2], box
    await screenshot(ward, artifacts, "ward-slides-390")
    await ward.set_viewport_size({"width": 1440, "height": 900})

    # a ward that does not present cannot turn the pages
    code = await ward.evaluate(f"() => window.bc.run('show_slide', {{site: '{A}', page: 3}}, {{quiet: true}})"
                               ".then(() => 'ok', (e) => e.code)")
    assert code == "not_presenter"

    # the pages fold the presentation events as the server does
    view = await (await ward.context.request.get(
        conf.links[A].split("/join/")[0] + f"/api/v1/conferences/{conf.conf_id}",
        headers={"Authorization": "Bearer " + link_parts(conf.links[A])[2]})).json()
    assert comparable(view) == comparable(await page_state(ward))

    # the chair stops it: the program is the big picture again
    await conf.chair.call("POST", f"/conferences/{conf.conf_id}/commands", {"type": "stop_presentation"})
    await wait_js(ward, "() => document.querySelector('.slide-layer').hidden")
    assert not await ward.evaluate("() => document.querySelector('#program-box').classList.contains('presenting')")


async def test_the_secretary_attaches_and_the_chair_lets_a_ward_present(pages: Pages, conf: Conf, tmp_path: Path) -> None:
    commands = f"/conferences/{conf.conf_id}/commands"
    await conf.chair.call("POST", commands, {"type": "add_agenda_item", "item_id": "bao-cao",
                                             "title": "Báo cáo của phường"})
    secretary = await pages.open(f"/c/{conf.conf_id}/secretary", account="thuky1")
    await wait_online(secretary)
    pdf = tmp_path / "Phường Hoàn Kiếm.pdf"
    pdf.write_bytes(deck_pdf(4, title="Phường Hoàn Kiếm"))
    await secretary.set_input_files("#decks-file", str(pdf))
    await secretary.select_option(".decks-panel select", "bao-cao")
    await secretary.click(".decks-panel button[type=submit]")
    await wait_js(secretary, "() => [...document.querySelectorAll('#decks-list li')].some((li) => "
                  "li.textContent.includes('Phường Hoàn Kiếm.pdf') && li.textContent.includes('Báo cáo của phường'))",
                  timeout=60)

    ward = await pages.open(conf.links[A])
    chair = await pages.open(f"/c/{conf.conf_id}/chair", account="chutri")
    for page in (ward, chair):
        await wait_online(page)
    assert await ward.is_hidden("#slides-panel")            # no floor, no allowance: no controls
    await conf.chair.call("POST", commands, {"type": "give_floor", "site": A})
    await chair.click(f'#chair-slides button[data-site="{A}"]')   # "Cho Phường Hoàn Kiếm trình chiếu"
    await ward.wait_for_selector("#slides-panel:not([hidden])")
    deck_id = await ward.evaluate("() => Object.values(window.bc.store.state.presentation.decks)"
                                  ".find((d) => d.name === 'Phường Hoàn Kiếm.pdf').deck_id")
    await ward.select_option("#slides-deck", deck_id)
    await ward.click("#slides-start")
    await wait_js(chair, SHOWN, 1)
    await ward.keyboard.press("ArrowRight")                   # the keys turn the pages too
    await wait_js(chair, SHOWN, 2)
    assert "Phường Hoàn Kiếm — trang 2/4" in (await chair.text_content(".slides-chair-line") or "")
    # the chair takes the floor back: the presentation ends with it
    await conf.chair.call("POST", commands, {"type": "revoke_floor", "site": A})
    await wait_js(chair, "() => document.querySelector('.slide-layer').hidden")
    await ward.wait_for_selector("#slides-panel", state="hidden")
