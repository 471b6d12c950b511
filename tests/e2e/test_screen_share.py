"""Screen share end to end in Chromium (issue 12): the main bridge's page clicks "Chia sẻ màn
hình" (headless Chromium answers getDisplayMedia with a fake screen), the server records
``share_started`` and forwards the share; a ward page decodes it (getStats ``framesDecoded``
grows on the share slot's track) and shows it as the big picture captioned "Trình chiếu: …
(màn hình)"; the chair's console shows who shares and stops it; the ward's share stops and the
main bridge's page stops capturing. The aiortc proof of the forwarding is
tests/media/test_media_share_plane.py."""

from __future__ import annotations

import asyncio

import pytest
from e2e_helpers import Pages, wait_online
from test_media_pages import Bridge, Conf, bridges, conf, grows, open_site, stats  # noqa: F401  (fixtures)

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
