"""The connectivity check before the conference (kiểm tra kết nối), end to end against a server
with its media plane, in rehearsal:

1. a ward's page in Chromium (fake camera and microphone) runs the check: its devices are
   found, the microphone is heard, the link to the media server is measured with getStats; the
   verdict comes back "ready" and the chair's wall lists the ward as ready with its figures,
   the other ward as not checked;
2. a ward whose browser finds no microphone is told, in Vietnamese, what to fix; a ward far
   from the media server (its round trip made 900 ms) is advised the audio-only mode and turns
   it on from the advice;
3. a headless bridge on an emulated poor link (``bridgeconf bridge --join LINK --check
   --poor-link 0.3``, a real process) measures the loss, is judged "needs attention", exits with
   status 3, and the chair's wall shows it; run again without the loss, the loss is gone.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from e2e_helpers import Pages, page_state, screenshot, wait_js, wait_online

from media import MediaConfig
from media.headless import HeadlessBridge
from server.tools.client import ApiClient, BridgeClient, link_parts

pytestmark = pytest.mark.asyncio(loop_scope="session")
ROOT = Path(__file__).resolve().parents[2]
MAIN = "HN-TRU-SO"
A, B, C, D = "P-HOAN-KIEM", "P-CUA-NAM", "P-BA-DINH", "P-NGOC-HA"
NO_MIC = """() => {
  const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (c) => c && c.audio
    ? Promise.reject(new DOMException("Requested device not found", "NotFoundError")) : open(c);
}"""
# a long way to the media server: the selected pair's round trip as a satellite link would give it
FAR = """() => {
  const stats = RTCPeerConnection.prototype.getStats;
  RTCPeerConnection.prototype.getStats = async function (...args) {
    const report = await stats.apply(this, args);
    const out = new Map();
    report.forEach((s, id) => out.set(id, s.type === "candidate-pair" ? { ...s, currentRoundTripTime: 0.9 } : s));
    return out;
  };
}"""


VIEWPORTS = ((1920, 1080), (1366, 768), (390, 844))
INSIDE = "(sel) => { const el = document.querySelector(sel); const r = el.getBoundingClientRect(); " \
         "return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth + 1 && el.scrollWidth <= el.clientWidth + 1; }"


@dataclass
class Rehearsal:
    conf_id: str
    links: dict[str, str]


@pytest_asyncio.fixture(loop_scope="session")
async def rehearsal(media_server: Any) -> AsyncIterator[Rehearsal]:
    """A conference of its own in rehearsal, with the main bridge (an aiortc publisher: the
    program the wards receive while they check) and three wards."""
    admin = await ApiClient.login(media_server.base, "admin", media_server.password)
    chair = await ApiClient.login(media_server.base, "chutri", media_server.password)
    conf_id = f"check-{uuid.uuid4().hex[:8]}"
    start = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(microsecond=0) + timedelta(days=1)
    main: BridgeClient | None = None
    bridge: HeadlessBridge | None = None
    try:
        await admin.call("POST", "/conferences", {
            "conference_id": conf_id, "title": "Tổng duyệt hội nghị", "main_site": MAIN, "chair": "chutri",
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()})
        commands = f"/conferences/{conf_id}/commands"
        await admin.call("POST", commands, {"type": "invite_sites", "codes": [A, B, C, D]})
        await admin.call("POST", commands, {"type": "schedule_conference"})
        await chair.call("POST", commands, {"type": "start_rehearsal"})
        rows = (await admin.call("GET", f"/conferences/{conf_id}/links"))["links"]
        links = {r["site"]: media_server.url("/join/" + link_parts(r["url"])[2]) for r in rows}
        base, conference, token = link_parts(links[MAIN])
        main = await BridgeClient(base, conference, token).connect()
        bridge = HeadlessBridge(MediaConfig(gather_addresses=("127.0.0.1",)), main.offer, MAIN)
        await bridge.start()
        yield Rehearsal(conf_id, links)
    finally:
        if bridge is not None:
            await bridge.stop()
        if main is not None:
            await main.close()
        await admin.close()
        await chair.close()


async def open_chair(pages: Pages, conf_id: str) -> Any:
    chair = await pages.open(f"/c/{conf_id}/chair", account="chutri")
    await wait_online(chair)
    await chair.wait_for_selector("#readiness-wall:not([hidden])")
    return chair


async def test_a_ward_checks_from_its_page(media_pages: Pages, rehearsal: Rehearsal, artifacts: Path) -> None:
    site = await media_pages.open(rehearsal.links[A])
    await wait_online(site)
    await site.wait_for_selector("#readiness:not([hidden])")
    assert "Chưa kiểm tra" in (await site.text_content("#readiness-status") or "")
    await site.click("#readiness-run")
    await wait_js(site, "(code) => window.bc.store.state.readiness[code]", A, timeout=30)

    got = (await page_state(site))["readiness"][A]
    assert got["camera"] and got["microphone"], got
    assert got["mic_level"] > 2, got                       # the fake microphone's tone was heard
    assert got["rtt_ms"] is not None and got["rtt_ms"] < 400, got      # loopback
    assert got["bitrate_kbps"] is not None and got["bitrate_kbps"] >= 300, got
    assert got["loss_pct"] is None or got["loss_pct"] <= 5, got
    assert got["relay"] is False and got["via"] == "browser", got
    assert (got["status"], got["problems"]) == ("ready", []), got
    await site.wait_for_selector("#readiness-status.ok-text")
    assert "Sẵn sàng" in (await site.text_content("#readiness-status") or "")
    assert "ms" in (await site.text_content("#readiness-figures") or "")
    assert await site.text_content("#readiness-run") == "Kiểm tra lại"
    await screenshot(site, artifacts, "readiness-site-ready", docs=True)
    for width, height in VIEWPORTS:   # the panel, its button and its figures stay on screen
        await site.set_viewport_size({"width": width, "height": height})
        for sel in ("#readiness", "#readiness-run", "#readiness-figures"):
            assert await site.evaluate(INSIDE, sel), f"{sel} at {width}px"

    chair = await open_chair(media_pages, rehearsal.conf_id)
    row = f'#readiness-rows tr[data-site="{A}"]'
    await chair.wait_for_selector(f"{row}.readiness-ready")
    assert await chair.evaluate(INSIDE, "#readiness-wall .table-scroll")
    assert "Sẵn sàng" in (await chair.text_content(row) or "")
    assert f"{got['rtt_ms']} ms" in (await chair.text_content(row) or "")
    assert "Chưa kiểm tra" in (await chair.text_content(f'#readiness-rows tr[data-site="{B}"]') or "")
    assert "sẵn sàng" in (await chair.text_content("#readiness-counts") or "")
    await screenshot(chair, artifacts, "readiness-chair", docs=True)


async def test_a_ward_without_a_microphone_is_told_what_to_fix(media_pages: Pages, rehearsal: Rehearsal) -> None:
    ctx = await media_pages.context()
    await ctx.add_init_script(f"({NO_MIC})();")
    site = await media_pages.open(rehearsal.links[C], ctx=ctx)
    await wait_online(site)
    await site.click("#readiness-run")
    await wait_js(site, "(code) => window.bc.store.state.readiness[code]", C, timeout=30)
    got = (await page_state(site))["readiness"][C]
    assert (got["microphone"], got["camera"], got["status"]) == (False, True, "needs_check"), got
    assert got["problems"][0] == "no_microphone", got
    await site.wait_for_selector("#readiness-advice li")
    assert "Không tìm thấy micro" in (await site.text_content("#readiness-advice") or "")
    assert "Cần kiểm tra" in (await site.text_content("#readiness-status") or "")


async def test_a_ward_far_away_is_advised_audio_only(media_pages: Pages, rehearsal: Rehearsal) -> None:
    ctx = await media_pages.context()
    await ctx.add_init_script(f"({FAR})();")
    site = await media_pages.open(rehearsal.links[D], ctx=ctx)
    await wait_online(site)
    await site.wait_for_selector('#media-state[data-state="connected"]', timeout=15_000)
    await site.click("#readiness-run")
    await wait_js(site, "(code) => window.bc.store.state.readiness[code]", D, timeout=30)
    got = (await page_state(site))["readiness"][D]
    assert (got["rtt_ms"], got["status"], got["problems"]) == (900, "needs_check", ["high_rtt"]), got
    await site.wait_for_selector("#readiness-advice .use-audio-only")
    assert "Đường truyền yếu: nên dùng chế độ chỉ nghe" in (await site.text_content("#readiness-advice") or "")
    await site.click("#readiness-advice .use-audio-only")
    assert await site.is_checked("#audio-only")
    await wait_js(site, "() => window.bc.media.audioOnly")
    await site.wait_for_selector("#readiness-advice .use-audio-only", state="detached")


async def run_check(link: str, *extra: str) -> tuple[int, dict[str, Any]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.tools.cli", "bridge", "--join", link, "--check", *extra, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode in (0, 3), err.decode()[-2000:]
    lines = [json.loads(x) for x in out.decode().splitlines() if x.startswith("{")]
    return proc.returncode, lines[-1]


async def test_a_headless_bridge_on_a_poor_link(media_pages: Pages, rehearsal: Rehearsal) -> None:
    code, line = await run_check(rehearsal.links[B], "--poor-link", "0.3")
    got = line["readiness"]
    assert code == 3, line
    assert got["status"] == "needs_check" and "high_loss" in got["problems"], got
    assert 20 <= got["loss_pct"] <= 40, got                 # a third of what it received was dropped
    assert got["rtt_ms"] is not None and got["bitrate_kbps"] is None, got   # measured / not measured
    assert got["via"] == "bridge", got

    chair = await open_chair(media_pages, rehearsal.conf_id)
    row = f'#readiness-rows tr[data-site="{B}"]'
    await chair.wait_for_selector(f"{row}.readiness-needs_check")
    assert "Cần kiểm tra" in (await chair.text_content(row) or "")
    assert "mất gói" in (await chair.text_content(row) or "")

    code, line = await run_check(rehearsal.links[B])             # fixed: run again
    again = line["readiness"]
    assert again["loss_pct"] is not None and again["loss_pct"] <= 5, again
    # The bridge's round trip counts the stalls of two busy Python event loops (it and the
    # server, on this shared 2-core machine: 55-578 ms seen on loopback), so a loaded run may
    # still be judged "long delay"; the loss is gone either way, and the verdict follows the figure.
    if again["rtt_ms"] <= 400:
        assert (code, again["status"], again["problems"]) == (0, "ready", []), again
        await chair.wait_for_selector(f"{row}.readiness-ready")
    else:
        assert (code, again["status"], again["problems"]) == (3, "needs_check", ["high_rtt"]), again
        await chair.wait_for_selector(f"{row}:has-text('độ trễ cao')")
    assert "2 lần" in (await chair.text_content(row) or "")
