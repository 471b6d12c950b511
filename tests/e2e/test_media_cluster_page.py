"""A Chromium site page on a process that does not hold the main bridge decodes the program
pulled over a relay from the process that does (two ``bridgeconf serve --redis`` processes,
the main bridge an aiortc bridge on the other one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from e2e_helpers import Pages, wait_online
from test_media_pages import grows

from tests.media.cluster_helpers import MAIN, metric, open_cluster

pytestmark = pytest.mark.asyncio(loop_scope="session")


@dataclass
class Process:
    base: str
    password: str

    def url(self, path: str) -> str:
        return self.base + path


async def test_a_site_page_decodes_the_program_relayed_from_another_process(
        browser: Any, bridgeconf_proc: Callable[..., Any], redis_url: str) -> None:
    a, b = (bridgeconf_proc(redis=redis_url, media=True) for _ in range(2))
    c = await open_cluster([a.base_url, b.base_url], a.password)
    pages = Pages(browser, Process(b.base_url, a.password))
    try:
        await c.bridge(MAIN, a.base_url)                              # the main bridge publishes on A
        ward = c.wards(1)[0]
        site = await pages.open(c.link(ward, b.base_url))              # the ward's page is on B
        await wait_online(site)
        await site.wait_for_selector('#media-state[data-state="connected"]', timeout=15_000)
        await grows(site, ("in", "program/video", "frames"), 15, timeout=15)   # decoded in Chromium
        await site.wait_for_selector("#program-video.playing")
        assert metric(b.base_url, "bridgeconf_media_relays", conference="so-ket-quy-3", direction="in") == 1
    finally:
        await pages.close()
        await c.close()
    assert not pages.errors, "errors in the page:\n" + "\n".join(pages.errors)
