"""Screen share end to end in Chromium (issue 12): the main bridge's page clicks "Chia sẻ màn
hình" (headless Chromium answers getDisplayMedia with a fake screen), the server records
``share_started`` and forwards the share; a ward page decodes it (getStats ``framesDecoded``
grows on the share slot's track) and shows it as the big picture captioned "Trình chiếu: …
(màn hình)"; the chair's console shows who shares and stops it; the ward's share stops and the
main bridge's page stops capturing. While shown, the share is the big picture and the program
picture-in-picture; "⇄" swaps them on the ward's page and the chair's console, and the pages
fit 1920, 1366 and 390 px with a share shown. The aiortc proof of the forwarding is
tests/media/test_media_share_plane.py."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from e2e_helpers import Pages, screenshot, wait_online
from test_media_pages import Bridge, Conf, bridges, conf, grows, open_site, stats  # noqa: F401  (fixtures)
from test_pages_everywhere import VIEWPORTS, fits

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAIN = "HN-TRU-SO"
WARD = "P-HOAN-KIEM"


def frames(s: dict[str, object], slot: str = "share/video") -> int:
    return int(((s.get("in") or {}).get(slot) or {}).get("frames", 0))  # type: ignore[union-attr]


async def test_the_main_bridge_shares_a_ward_decodes_it_the_chair_stops_it(
    media_pages: Pages, conf: Conf, bridges: list[Bridge],  # noqa: F811  (the imported fixtures)
) -> None:
    main = await open_site(media_pages, conf, MAIN)
    ward = await open_site(media_pages, conf, WARD)
    chair = await media_pages.open(f"/c/{conf.conf_id}/chair", account="chutri")
    await wait_online(chair)
    await grows(ward, ("in", "program/video", "frames"), 10)
    assert frames(await stats(ward)) == 0, "no share before one starts"

    await main.wait_for_selector("#share-screen:not([disabled])")
    assert (await main.text_content("#share-screen") or "").strip() == "Chia sẻ màn hình"
    await main.click("#share-screen")
    await main.wait_for_selector('#share-screen[aria-pressed="true"]', timeout=10_000)
    sent = await main.evaluate("""() => {
      const t = window.bc.media.pc.getTransceivers()[2].sender.track;
      return t && { hint: t.contentHint, state: t.readyState };
    }""")
    assert sent == {"hint": "detail", "state": "live"}, "the captured screen is sent on the share slot"
    await grows(main, ("out", "share", "frames"), 5)            # encoded and sent, beside the camera

    await grows(ward, ("in", "share/video", "frames"), 10, timeout=15.0)
    await ward.wait_for_selector("#program-box.sharing .share-layer:not([hidden])")
    caption = "Trình chiếu: Điểm cầu chính - Trụ sở Thành ủy Hà Nội (màn hình)"
    assert (await ward.text_content(".share-caption") or "") == caption
    await chair.wait_for_selector("#chair-share:not([hidden])")
    assert caption in (await chair.text_content("#chair-share") or "")

    await chair.click("#chair-share-stop")                     # "Dừng chia sẻ màn hình"
    await ward.wait_for_selector("#program-box:not(.sharing) .share-layer[hidden]", state="attached", timeout=10_000)
    await main.wait_for_selector('#share-screen[aria-pressed="false"]', timeout=10_000)
    assert await main.evaluate("() => window.bc.media.pc.getTransceivers()[2].sender.track") is None
    await chair.wait_for_selector("#chair-share[hidden]", state="attached")
    await asyncio.sleep(1.0)                                   # what was on the wire, and the jitter buffer
    before = frames(await stats(ward))
    await asyncio.sleep(2.0)
    assert frames(await stats(ward)) == before, "the ward still decodes the share after the chair stopped it"
    await grows(ward, ("in", "program/video", "frames"), 5)   # the program goes on


# The stage's pictures: the box, the share layer and the program's <video> (their rectangles).
GEOMETRY = """(box) => {
  const b = document.querySelector(box);
  const r = (el) => { const x = el.getBoundingClientRect(); return { left: x.left, top: x.top, width: x.width, height: x.height }; };
  return { box: r(b), share: r(b.querySelector('.share-video')), program: r(b.querySelector('#program-video')),
           swapped: b.classList.contains('swapped'),
           pressed: [...b.querySelectorAll('.slide-swap')].map((x) => x.getAttribute('aria-pressed')) };
}"""


def big(part: dict[str, float], box: dict[str, float]) -> bool:
    return part["width"] >= 0.95 * box["width"]


def corner(part: dict[str, float], box: dict[str, float]) -> bool:
    inside = (part["left"] >= box["left"] - 1 and part["top"] >= box["top"] - 1
              and part["left"] + part["width"] <= box["left"] + box["width"] + 1)
    return inside and 0 < part["width"] <= 0.4 * box["width"]


async def swaps(page: Any, box: str) -> None:
    """The share big and the program in a corner; "⇄" swaps them, and again back."""
    g = await page.evaluate(GEOMETRY, box)
    assert big(g["share"], g["box"]) and corner(g["program"], g["box"]) and not g["swapped"], g
    button = f"{box} .share-layer .slide-swap"
    assert await page.get_attribute(button, "aria-label") == "Đổi chỗ màn hình chia sẻ và hình ảnh"
    await page.click(button)
    await page.wait_for_selector(f"{box}.swapped")
    g = await page.evaluate(GEOMETRY, box)
    assert corner(g["share"], g["box"]) and big(g["program"], g["box"]), g
    assert set(g["pressed"]) == {"true"}, g
    await page.click(button)                                    # the button sits in the corner's layer now
    await page.wait_for_selector(f"{box}:not(.swapped)", state="attached")
    g = await page.evaluate(GEOMETRY, box)
    assert big(g["share"], g["box"]) and corner(g["program"], g["box"]) and set(g["pressed"]) == {"false"}, g


async def test_a_site_and_the_chair_swap_the_share_and_the_program_and_every_page_fits(
    media_pages: Pages, conf: Conf, bridges: list[Bridge], artifacts: Any,  # noqa: F811  (the imported fixtures)
) -> None:
    main = await open_site(media_pages, conf, MAIN)
    ward = await open_site(media_pages, conf, WARD)
    chair = await media_pages.open(f"/c/{conf.conf_id}/chair", account="chutri")
    await wait_online(chair)
    await grows(ward, ("in", "program/video", "frames"), 5)
    await main.wait_for_selector("#share-screen:not([disabled])")
    await main.click("#share-screen")
    await grows(ward, ("in", "share/video", "frames"), 5, timeout=15.0)
    await ward.wait_for_selector("#program-box.sharing .share-layer:not([hidden])")
    chair_box = await chair.evaluate("() => { const b = document.querySelector('#program-video').closest('.video-box');"
                                     " b.id = b.id || 'chair-stage'; return '#' + b.id; }")
    await chair.wait_for_selector(f"{chair_box}.sharing .share-layer:not([hidden])")

    await swaps(ward, "#program-box")
    await swaps(chair, chair_box)

    for width, height in VIEWPORTS:                             # 1920, 1366 and 390 px, a share shown
        for page, what in ((ward, "the ward's page"), (chair, "the chair console"), (main, "the sharing main bridge")):
            await page.set_viewport_size({"width": width, "height": height})
            await page.wait_for_timeout(150)
            await fits(page, f"{what} with a share shown")
        for page, box in ((ward, "#program-box"), (chair, chair_box)):   # the share big, the program small
            g = await page.evaluate(GEOMETRY, box)
            assert big(g["share"], g["box"]) and corner(g["program"], g["box"]), (width, g)
        await ward.click("#program-box .share-layer .slide-swap")
        await ward.wait_for_selector("#program-box.swapped")
        await fits(ward, "the ward's page, swapped")
        await ward.click("#program-box .share-layer .slide-swap")
        await ward.wait_for_selector("#program-box:not(.swapped)", state="attached")
    await ward.set_viewport_size({"width": 1366, "height": 768})
    await screenshot(ward, artifacts, "share-picture-in-picture")

    # left swapped, the share ends: the next presentation starts big again
    await ward.click("#program-box .share-layer .slide-swap")
    await ward.wait_for_selector("#program-box.swapped")
    await chair.click("#chair-share-stop")
    await ward.wait_for_selector("#program-box:not(.sharing):not(.swapped):not(.presenting)", state="attached",
                                 timeout=10_000)
