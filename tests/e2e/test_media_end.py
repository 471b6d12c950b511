"""The media's life in the pages, in Chromium:

1. after the chair's "Bế mạc" a ward page decodes no new frame (getStats ``framesDecoded``
   stops) and gets no more sound while its connection stays up, and the main bridge's page no
   longer says "Đang phát" but that nothing is sent any more (server/media_scope.py; the aiortc
   proof is tests/media/test_media_lifecycle.py);
2. the chair's wall flags a headless ward whose picture and sound stalled (its main bridge
   went away) apart from its signaling state, and clears the flag when media flows again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from e2e_helpers import Pages, wait_online
from test_media_pages import Bridge, Conf, bridges, conf, grows, join_bridge, open_site, stats  # noqa: F401  (fixtures)

from server.tools.bridge import join_bridge as join_headless

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAIN = "HN-TRU-SO"
WARD = "P-HOAN-KIEM"


async def test_after_the_end_a_ward_page_decodes_nothing_more(
    media_pages: Pages, conf: Conf, bridges: list[Bridge],  # noqa: F811  (the imported fixtures)
) -> None:
    main = await open_site(media_pages, conf, MAIN)            # the main bridge's page publishes the program
    ward = await open_site(media_pages, conf, WARD)
    await main.wait_for_selector("#on-air:not([hidden]):not(.off-air)")
    await grows(ward, ("in", "program/video", "frames"), 15)
    await grows(ward, ("in", "program/audio", "packets"), 25)

    chair = await media_pages.open(f"/c/{conf.conf_id}/chair", account="chutri")
    await wait_online(chair)
    chair.on("dialog", lambda d: asyncio.ensure_future(d.accept()))   # "End the conference for every site now?"
    await chair.click("#btn-end")                              # "Bế mạc hội nghị"

    await main.wait_for_selector("#on-air.off-air:not([hidden])", timeout=10_000)
    assert "Đã bế mạc" in (await main.text_content("#on-air") or "")
    assert (await stats(main))["hint"] == {"audio": False, "video": "off"}
    await asyncio.sleep(1.0)                                   # what was on the wire, and the jitter buffer
    before = await stats(ward)
    await asyncio.sleep(2.5)
    after = await stats(ward)

    def figure(s: dict[str, Any], slot: str, name: str) -> int:
        return int((s["in"].get(slot) or {}).get(name, 0))

    assert figure(after, "program/video", "frames") == figure(before, "program/video", "frames"), after
    assert figure(after, "program/audio", "packets") == figure(before, "program/audio", "packets"), after
    assert after["connection"] == "connected", "the ward's connection stays up: the server stopped sending"


async def test_the_chair_wall_flags_a_ward_whose_media_stalled(
    media_pages: Pages, conf: Conf, bridges: list[Bridge],  # noqa: F811  (the imported fixtures)
) -> None:
    main = await join_bridge(conf, MAIN, bridges)                # an aiortc main bridge publishes
    ward = await join_headless(conf.links[WARD], gather="127.0.0.1", publish=False)   # reports its media state
    try:
        chair = await media_pages.open(f"/c/{conf.conf_id}/chair", account="chutri")
        await wait_online(chair)
        tile = f'.tile[data-code="{WARD}"]'
        await chair.wait_for_selector(f'{tile}[data-conn="online"]:not(.media-stalled):not(.media-renegotiating)')
        assert ward.media_states[-1] == "flowing"

        bridges.remove(main)                                     # the program stops: the ward sees nothing
        await main.bridge.stop()
        await main.client.close()
        await chair.wait_for_selector(f"{tile}.media-stalled", timeout=15_000)
        assert "Mất hình, mất tiếng" in (await chair.text_content(f"{tile} .flag-media-stalled") or "")
        assert await chair.get_attribute(tile, "data-conn") == "online", "its signaling is fine"

        await join_bridge(conf, MAIN, bridges)                   # the main bridge is back
        await chair.wait_for_selector(f"{tile}:not(.media-stalled)", timeout=15_000)
        assert ward.media_states[-2:] == ["stalled", "flowing"], ward.media_states
    finally:
        await ward.close()
