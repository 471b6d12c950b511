"""Failover across processes in Chromium: a ward's page on process A, behind the test load
balancer, decodes the program (the main bridge publishes on B, relayed to A); A is killed
-9; the page reconnects through the balancer to B, offers again and decodes the program again,
without a reload."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from e2e_helpers import Pages, wait_online
from test_media_cluster_page import Process
from test_media_pages import grows, stats

from tests.fixtures.balancer import Balancer
from tests.media.cluster_helpers import MAIN, open_cluster

pytestmark = pytest.mark.asyncio(loop_scope="session")


def program_frames(s: dict[str, Any] | None) -> int:
    return int(((s or {}).get("in", {}).get("program/video") or {}).get("frames", 0))


async def test_a_site_page_whose_process_is_killed_decodes_the_program_again_through_another(
        browser: Any, bridgeconf_proc: Callable[..., Any], redis_url: str) -> None:
    a, b = (bridgeconf_proc(redis=redis_url, media=True) for _ in range(2))
    lb = await Balancer([a.port, b.port]).start()                      # A first while it lives
    c = await open_cluster([a.base_url, b.base_url], a.password)
    pages = Pages(browser, Process(lb.base_url, a.password))
    try:
        await c.bridge(MAIN, b.base_url)                               # the main bridge publishes on B
        site = await pages.open(c.link(c.wards(1)[0], lb.base_url))    # the ward's page: on A
        await wait_online(site)
        await site.wait_for_selector('#media-state[data-state="connected"]', timeout=15_000)
        await grows(site, ("in", "program/video", "frames"), 15, timeout=15)   # relayed B -> A
        assert set(lb.chosen) == {a.port}, lb.chosen
        await site.evaluate("() => { window.__notReloaded = true }")
        before = len(lb.chosen)
        a.kill9()
        loop = asyncio.get_running_loop()
        deadline, low, now = loop.time() + 20, program_frames(await stats(site)), 0
        while True:        # a new peer counts from 0: decoding again is 15 frames above the lowest count since
            now = program_frames(await stats(site))
            low = min(low, now)
            if now >= low + 15 and lb.chosen[before:]:
                break
            assert loop.time() < deadline, f"the program did not come back: {await stats(site)}"
            await asyncio.sleep(0.2)
        assert set(lb.chosen[before:]) == {b.port}, lb.chosen        # it came back through the balancer, to B
        assert await site.evaluate("() => window.__notReloaded === true"), "the page was reloaded"
        await site.wait_for_selector("#program-video.playing")
    finally:
        await pages.close()
        await c.close()
        await lb.close()
    assert not pages.errors, "errors in the page:\n" + "\n".join(pages.errors)


async def test_a_site_page_is_told_when_the_media_servers_lose_redis_and_when_it_is_back(
        browser: Any, bridgeconf_proc: Callable[..., Any], spawn_redis: Callable[..., Any]) -> None:
    redis = spawn_redis()
    a = bridgeconf_proc(redis=redis.url(), media=True)
    c = await open_cluster([a.base_url], a.password)
    pages = Pages(browser, Process(a.base_url, a.password))
    try:
        site = await pages.open(c.link(c.wards(1)[0], a.base_url))
        await wait_online(site)
        await site.wait_for_selector('#media-state[data-state="connected"]', timeout=15_000)
        redis.kill9()
        await site.wait_for_selector(".toast-error:has-text('Các máy chủ hội nghị tạm thời không liên lạc')",
                                     timeout=10_000)
        redis.restart()
        await site.wait_for_selector(".toast-info:has-text('Các máy chủ hội nghị đã liên lạc lại')", timeout=15_000)
    finally:
        await pages.close()
        await c.close()
    assert not pages.errors, "errors in the page:\n" + "\n".join(pages.errors)
