"""Audio and video in the pages, in Chromium (fake camera and microphone) against a real server
with its media plane, and real aiortc bridges (``media.headless.HeadlessBridge`` joined through
join links with the protocol client) on the other end:

1. an aiortc main bridge publishes; a site page decodes the program's video and plays its audio
   (and stops receiving pictures in audio-only mode, and gets them back);
2. the main bridge's page publishes its camera; an aiortc site receives the program, and once
   that site has the floor the main bridge's page shows and plays it;
3. the chair shows a site's picture on demand, then gives it the floor: its camera and
   microphone go live (not before), an aiortc site receives the speaker slot, the chair's
   console decodes it and shows its audio level; taking the floor back stops its microphone;
4. a site page that loses its network gets media again on a new connection;
5. a site on a weak link (an aiortc bridge that loses a quarter of what it receives) is put on
   audio only by the media plane, and the chair's wall flags it until it leaves.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from e2e_helpers import Pages, eventually, screenshot, wait_js, wait_online

from media import MediaConfig
from media.headless import HeadlessBridge
from server.tools.client import ApiClient, BridgeClient, link_parts

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAIN = "HN-TRU-SO"
A, B = "P-HOAN-KIEM", "P-CUA-NAM"
NAMES = {A: "Phường Hoàn Kiếm", B: "Phường Cửa Nam"}
STATS = "() => window.bc && window.bc.media ? window.bc.media.stats() : null"


@dataclass
class Conf:
    conf_id: str
    links: dict[str, str]        # site code -> join link on the test server
    chair: ApiClient


@dataclass
class Bridge:
    """An aiortc bridge site joined through its join link."""

    client: BridgeClient
    bridge: HeadlessBridge

    def frames(self, slot: str) -> int:
        return int(self.bridge.report()["received"].get(slot, {}).get("frames", 0))

    def packets(self, slot: str) -> int:
        return int(self.bridge.report()["received"].get(slot, {}).get("packets", 0))


@pytest_asyncio.fixture(loop_scope="session")
async def conf(media_server: Any) -> AsyncIterator[Conf]:
    """A live conference of its own: the main bridge and two wards."""
    admin = await ApiClient.login(media_server.base, "admin", media_server.password)
    chair = await ApiClient.login(media_server.base, "chutri", media_server.password)
    conf_id = f"media-{uuid.uuid4().hex[:8]}"
    start = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(microsecond=0)
    try:
        await admin.call("POST", "/conferences", {
            "conference_id": conf_id, "title": "Kiểm thử hình ảnh, âm thanh", "main_site": MAIN, "chair": "chutri",
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()})
        commands = f"/conferences/{conf_id}/commands"
        await admin.call("POST", commands, {"type": "invite_sites", "codes": [A, B]})
        await admin.call("POST", commands, {"type": "schedule_conference"})
        rows = (await admin.call("GET", f"/conferences/{conf_id}/links"))["links"]
        links = {r["site"]: media_server.url("/join/" + link_parts(r["url"])[2]) for r in rows}
        await chair.call("POST", commands, {"type": "open_conference"})
        yield Conf(conf_id, links, chair)
    finally:
        await admin.close()
        await chair.close()


@pytest_asyncio.fixture(loop_scope="session")
async def bridges() -> AsyncIterator[list[Bridge]]:
    started: list[Bridge] = []
    yield started
    for b in started:
        await b.bridge.stop()
        await b.client.close()


async def join_bridge(conf: Conf, site: str, bridges: list[Bridge], *, publish: bool = True,
                      rx_loss: float = 0.0) -> Bridge:
    base, conference, token = link_parts(conf.links[site])
    client = await BridgeClient(base, conference, token).connect()
    bridge = HeadlessBridge(MediaConfig(gather_addresses=("127.0.0.1",)), client.offer, site, publish=publish,
                            rx_loss=rx_loss)
    b = Bridge(client, bridge)
    bridges.append(b)
    await bridge.start()
    return b


async def stats(page: Any) -> dict[str, Any]:
    return await page.evaluate(STATS)  # type: ignore[no-any-return]


async def grows(page: Any, path: tuple[str, str, str], by: int, timeout: float = 10.0) -> int:
    """Wait until the figure at ``path`` (e.g. ("in", "program/video", "frames")) has grown by ``by``."""
    def figure(s: dict[str, Any] | None) -> int:
        return int(((s or {}).get(path[0], {}).get(path[1]) or {}).get(path[2], 0))
    first = figure(await stats(page))

    async def check() -> int:
        now = figure(await stats(page))
        return now if now >= first + by else 0
    try:
        return int(await eventually(check, timeout))
    except AssertionError:
        raise AssertionError(f"{path} did not grow by {by} in {timeout} s: {await stats(page)}") from None


async def open_site(pages: Pages, conf: Conf, site: str) -> Any:
    page = await pages.open(conf.links[site])
    await wait_online(page)
    await page.wait_for_selector('#media-state[data-state="connected"]', timeout=15_000)
    return page


async def test_site_page_receives_the_program(media_pages: Pages, conf: Conf, bridges: list[Bridge]) -> None:
    await join_bridge(conf, MAIN, bridges)                       # the main bridge: an aiortc publisher
    site = await open_site(media_pages, conf, A)

    await grows(site, ("in", "program/video", "frames"), 15)    # decoded in Chromium
    await site.wait_for_selector("#program-video.playing")
    await grows(site, ("in", "program/audio", "packets"), 25)
    if await site.is_visible("#sound-on"):                       # the browser wants a click before sound
        await site.click("#sound-on")
    await wait_js(site, "async () => (await window.bc.media.stats()).in['program/audio'].energy > 0")
    s = await stats(site)
    assert s["sound"] and s["hint"] == {"audio": False, "video": "off"}, s
    assert s["out"].get("audio", {}).get("packets", 0) == 0, "a site without the floor sends no sound"
    assert "Điểm cầu chính" in (await site.text_content("#now-speaking") or "")

    # audio only: the server stops sending pictures (sound goes on); switched back, they return
    await site.check("#audio-only")
    await asyncio.sleep(0.6)
    before = (await stats(site))["in"]["program/video"]["frames"]
    await asyncio.sleep(1.0)
    s = await stats(site)
    assert s["in"]["program/video"]["frames"] - before <= 1, s
    await grows(site, ("in", "program/audio", "packets"), 25)
    await site.uncheck("#audio-only")
    await grows(site, ("in", "program/video", "frames"), 10)


async def test_main_bridge_page_publishes_the_program(media_pages: Pages, conf: Conf, bridges: list[Bridge]) -> None:
    main = await open_site(media_pages, conf, MAIN)
    assert "Điểm cầu chính" in (await main.text_content(".site-badge") or "")
    viewer = await join_bridge(conf, B, bridges)                 # an aiortc site watching

    await eventually(lambda: _true(viewer.frames("program/video") >= 15), timeout=10)
    await eventually(lambda: _true(viewer.packets("program/audio") >= 25), timeout=10)
    s = await stats(main)
    assert s["hint"] == {"audio": True, "video": "full"}, s
    assert s["out"]["video"]["height"] > 180, "full size (the browser may still scale down for bandwidth)"
    await main.wait_for_selector("#on-air:not([hidden])")
    await main.wait_for_selector("#program-video.playing")      # the main bridge sees its own program

    # the aiortc site gets the floor: the main bridge's hall sees and hears it
    await conf.chair.call("POST", f"/conferences/{conf.conf_id}/commands", {"type": "give_floor", "site": B})
    await main.wait_for_selector("#program-box.has-speaker")
    await grows(main, ("in", "speaker-0/video", "frames"), 10)
    await grows(main, ("in", "speaker-0/audio", "packets"), 25)
    await main.wait_for_selector("#speaker-video.playing")
    assert NAMES[B] in (await main.text_content("#now-speaking") or "")


async def test_floor_puts_a_site_page_on_air(media_pages: Pages, conf: Conf, bridges: list[Bridge], artifacts: Any) -> None:
    await join_bridge(conf, MAIN, bridges)
    viewer = await join_bridge(conf, B, bridges, publish=False)
    site = await open_site(media_pages, conf, A)
    chair = await media_pages.open(f"/c/{conf.conf_id}/chair", account="chutri")
    await wait_online(chair)
    await chair.wait_for_selector('#media-state[data-state="connected"]', timeout=15_000)
    await grows(chair, ("in", "program/video", "frames"), 10)    # the console shows the program

    # not on air: the site's camera and microphone send nothing
    s = await stats(site)
    assert s["hint"] == {"audio": False, "video": "off"}, s
    assert s["out"].get("audio", {}).get("packets", 0) == 0 and s["out"].get("video", {}).get("frames", 0) == 0, s

    # a picture on demand: small and slow, only to the chair
    await chair.click(f'.tile[data-code="{A}"]')
    await chair.click("#selected-actions .picture-toggle")
    await grows(chair, ("in", "preview-0/video", "frames"), 5, timeout=15)
    await chair.wait_for_selector(f'.picture[data-code="{A}"] video.playing')
    assert NAMES[A] in (await chair.text_content(".picture:not([hidden]) .picture-name") or "")
    s = await stats(site)
    assert s["hint"] == {"audio": False, "video": "preview"}, s
    assert 0 < s["out"]["video"]["height"] <= 180, s
    assert viewer.frames("speaker-0/video") == 0

    # the chair gives the floor: the site goes on air, every site sees and hears it
    await chair.get_by_role("button", name="Mời phát biểu").click()
    await site.wait_for_selector(".floor-panel.speaking")
    await site.wait_for_selector("#on-air:not([hidden])")
    await grows(site, ("out", "audio", "packets"), 25)
    await eventually(lambda: _true(viewer.frames("speaker-0/video") >= 10), timeout=10)
    await eventually(lambda: _true(viewer.packets("speaker-0/audio") >= 25), timeout=10)
    assert (await stats(site))["out"]["video"]["height"] > 180, "full size now, not the preview's"
    await grows(chair, ("in", "speaker-0/video", "frames"), 10)
    await chair.wait_for_selector("#speaker-video.playing")
    s = await stats(chair)
    assert not s["sound"] and s["in"]["speaker-0/audio"]["energy"] == 0, "the console starts silent (it sits in the main hall)"
    await chair.click("#sound-toggle")
    await wait_js(chair, "async () => (await window.bc.media.stats()).in['speaker-0/audio'].energy > 0")
    assert await chair.get_attribute("#sound-toggle", "aria-pressed") == "true"
    # its audio level on the wall (the fake microphone beeps)
    await wait_js(chair, f"() => parseFloat(document.querySelector('.tile[data-code=\"{A}\"] .level span').style.height) > 0")

    await screenshot(chair, artifacts, "media-chair-console", docs=True)
    await screenshot(site, artifacts, "media-site-page-on-air", docs=True)

    # the floor taken back: its microphone stops
    await chair.click("#speakers .revoke")
    await wait_js(site, "async () => (await window.bc.media.stats()).hint.audio === false")
    await asyncio.sleep(0.5)
    sent = (await stats(site))["out"]["audio"]["packets"]
    await asyncio.sleep(1.0)
    assert (await stats(site))["out"]["audio"]["packets"] - sent <= 2


async def test_site_page_gets_media_again_after_a_drop(media_pages: Pages, conf: Conf, bridges: list[Bridge]) -> None:
    await join_bridge(conf, MAIN, bridges)
    site = await open_site(media_pages, conf, A)
    await grows(site, ("in", "program/video", "frames"), 10)
    first = (await stats(site))["generation"]

    await site.context.set_offline(True)
    await site.wait_for_selector('#bc-conn[data-status="offline"]')
    await asyncio.sleep(1.0)
    await site.context.set_offline(False)
    await wait_online(site, timeout=15_000)
    await site.wait_for_selector('#media-state[data-state="connected"]', timeout=15_000)
    assert (await stats(site))["generation"] > first, "a new RTCPeerConnection"
    await grows(site, ("in", "program/video", "frames"), 15)
    await grows(site, ("in", "program/audio", "packets"), 25)


async def test_chair_wall_flags_a_site_on_a_weak_link(media_pages: Pages, conf: Conf, bridges: list[Bridge]) -> None:
    await join_bridge(conf, MAIN, bridges)
    weak = await join_bridge(conf, B, bridges, publish=False, rx_loss=0.25)
    chair = await media_pages.open(f"/c/{conf.conf_id}/chair", account="chutri")
    await wait_online(chair)
    tile = f'.tile[data-code="{B}"]'
    await chair.wait_for_selector(f"{tile}.poor-link", timeout=20_000)
    assert "Đường truyền yếu" in (await chair.text_content(f"{tile} .flag-poor-link") or "")
    assert "chỉ nhận âm thanh" in (await chair.get_attribute(tile, "title") or "")
    assert await chair.locator(f'.tile[data-code="{A}"].poor-link').count() == 0
    frames = weak.frames("program/video")
    await asyncio.sleep(1.0)
    assert weak.frames("program/video") == frames, "no video to a site on audio only"
    # it leaves: the flag goes
    bridges.remove(weak)
    await weak.bridge.stop()
    await weak.client.close()
    await chair.wait_for_selector(f"{tile}:not(.poor-link)", timeout=10_000)


async def _true(value: bool) -> bool:
    return value
