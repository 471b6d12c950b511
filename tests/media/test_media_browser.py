"""Headless Chromium as a site, against the forwarder: the documented layout works
in a browser both ways (it decodes the program; its camera becomes the program)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from media_helpers import decode_vp8, site, wait_for

from media.client import SiteClient
from media.forwarder import Forwarder

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) or shutil.which("true") is None, reason="needs Debian's chromium"
)
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
]  # fmt: skip

PAGE = """<!doctype html><meta charset="utf-8"><title>site</title><video id="program" autoplay muted playsinline></video>
<script type="module">
// The layout of docs/media.md: m0 audio sendrecv, m1 video sendrecv, one speaker slot (audio, video recvonly).
const pc = new RTCPeerConnection({bundlePolicy: "max-bundle", iceServers: []});
window.pc = pc;
window.onerror = window.onunhandledrejection = (e) => { window.failure = String(e.reason || e.message || e); };
const media = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
pc.addTransceiver(media.getAudioTracks()[0], {direction: "sendrecv", streams: [media]});
pc.addTransceiver(media.getVideoTracks()[0], {direction: "sendrecv", streams: [media]});
pc.addTransceiver("audio", {direction: "recvonly"});
pc.addTransceiver("video", {direction: "recvonly"});
const vp8 = RTCRtpReceiver.getCapabilities("video").codecs.filter(c => c.mimeType === "video/VP8");
const opus = RTCRtpReceiver.getCapabilities("audio").codecs.filter(c => c.mimeType === "audio/opus");
for (const t of pc.getTransceivers()) t.setCodecPreferences(t.receiver.track.kind === "video" ? vp8 : opus);
pc.ontrack = (e) => { if (e.streams[0] && e.streams[0].id === "program" && e.track.kind === "video")
  document.getElementById("program").srcObject = e.streams[0]; window.streams = (window.streams || []).concat([e.streams[0].id]); };
const early = []; let answered = false;
pc.onicecandidate = (e) => { const c = e.candidate ? e.candidate.toJSON() : null;
  if (answered) fetch("/candidate", {method: "POST", body: JSON.stringify(c)}); else early.push(c); };
await pc.setLocalDescription();
const r = await fetch("/offer", {method: "POST", body: pc.localDescription.sdp});
await pc.setRemoteDescription({type: "answer", sdp: await r.text()});
answered = true;
for (const c of early) await fetch("/candidate", {method: "POST", body: JSON.stringify(c)});
</script>"""

STATS = """async () => { const out = {failure: window.failure}; if (!window.pc) return out;
  (await window.pc.getStats()).forEach(s => {
  if (s.type === "inbound-rtp") out["in-" + s.mid] = {frames: s.framesDecoded || 0, packets: s.packetsReceived};
  if (s.type === "outbound-rtp") out["out-" + s.kind] = {packets: s.packetsSent}; });
  out.state = window.pc.connectionState; out.streams = window.streams || []; return out; }"""


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    playwright = pytest.importorskip("playwright.async_api")
    async with playwright.async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        await b.close()


async def serve(fwd: Forwarder) -> web.AppRunner:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def offer(request: web.Request) -> web.Response:
        return web.Response(text=await fwd.accept_offer("browser", await request.text()))

    async def candidate(request: web.Request) -> web.Response:
        await fwd.add_candidate("browser", json.loads(await request.text()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_post("/offer", offer)
    app.router.add_post("/candidate", candidate)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


async def test_chromium_decodes_the_program_and_publishes_one(
    fwd: Forwarder, sites: list[SiteClient], browser: Any
) -> None:
    levels: list[tuple[str, int]] = []
    fwd.on_audio_level = lambda peer, level: levels.append((peer, level))
    main, watcher = site(fwd, "main"), site(fwd, "watcher", publish=False)
    sites += [main, watcher]
    await asyncio.gather(main.connect(), watcher.connect())
    fwd.set_program("main")
    runner = await serve(fwd)
    try:
        port = runner.addresses[0][1]
        page = await browser.new_page()
        await page.goto(f"http://127.0.0.1:{port}/")
        stats: dict[str, Any] = {}

        async def poll() -> dict[str, Any]:
            nonlocal stats
            stats = await page.evaluate(STATS)
            return stats

        for _ in range(150):  # the browser decodes the Python main bridge's program
            if (await poll()).get("in-1", {}).get("frames", 0) >= 10:
                break
            await asyncio.sleep(0.1)
        assert stats.get("in-1", {}).get("frames", 0) >= 10, stats
        assert "program" in stats["streams"]

        video = watcher.counter("program/video")
        mark = len(video.captured)
        fwd.set_program("browser")  # now the browser's camera is the program, no renegotiation
        await wait_for(lambda: len(video.captured) >= mark + 12, timeout=10, what="the browser's video")
        ours = set(main.video.sent)  # type: ignore[union-attr]
        first = next(f for f in video.captured[mark:] if f.data not in ours)
        assert first.keyframe, "the switch starts on a keyframe (the forwarder asked Chromium for one)"
        frames = decode_vp8(first.data)
        assert frames and frames[0].width == 640, "Chromium's fake camera, forwarded untouched"
        await wait_for(lambda: any(p == "browser" for p, _ in levels), what="the browser's audio level")
        assert watcher.counter("program/audio").packets > 20
    finally:
        await runner.cleanup()
