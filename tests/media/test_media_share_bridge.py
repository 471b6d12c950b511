"""The headless screen share (issue 12): ``bridgeconf bridge --join LINK --share``, a real
process, publishes a test-pattern screen on the share slot and sends ``start_share`` once the
main bridge may present; a ward (an aiortc headless bridge that shows shares) decodes it — its
first frame a keyframe, every frame decoding in order — and the bridge stops the share after
``--share-seconds``, or on the way out when it is sent SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import av
from media_helpers import decode_vp8

from server.config import Config, MediaSettings
from server.tools import demo
from server.tools.bridge import join_bridge
from server.tools.client import ApiClient, BridgeClient
from tests.server.wshelp import free_port, seed_demo, serving, until

PASSWORD = "mat-khau-thu-nghiem"
ROOT = Path(__file__).resolve().parents[2]


async def bridge_process(link: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.tools.cli", "bridge", "--join", link, "--gather", "127.0.0.1", *args,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)  # fmt: skip


async def test_a_ward_decodes_the_share_of_a_headless_bridge_started_with_share(tmp_path: Path) -> None:
    config = Config(port=free_port(), data_dir=tmp_path, media=MediaSettings())
    async with serving(config) as app:
        _, tokens, state = await seed_demo(app, PASSWORD)
        main_code = state.main_site
        ward_code = next(c for c in sorted(state.sites) if c != main_code)
        chair_api = await ApiClient.login(config.base_url, "chutri", PASSWORD)
        chair = await BridgeClient(config.base_url, demo.CONFERENCE, chair_api.token).connect()
        ward = await join_bridge(f"{config.base_url}/join/{tokens[ward_code]}", gather="127.0.0.1",
                                 caption="ward", publish=False, share_slot=True, keep=1)
        main_link = f"{config.base_url}/join/{tokens[main_code]}"
        procs: list[asyncio.subprocess.Process] = []
        try:
            # the bridge joins before the conference runs: it waits until it may present
            proc = await bridge_process(main_link, "--share", "--share-seconds", "4", "--seconds", "7")
            procs.append(proc)
            await chair.command("open_conference")
            share = ward.bridge.client.counter("share/video")
            await until(lambda: share.frames >= 8, "the headless bridge's share at the ward", 40)
            assert ward.client.state is not None and ward.client.state.presentation.sharer == main_code
            assert share.first_frame_keyframe is True
            first = decode_vp8(share.captured[0].data)                     # a fresh decoder: a keyframe
            assert first and (first[0].width, first[0].height) == (1280, 720), "the test screen, 1280x720"
            codec = av.CodecContext.create("libvpx", "r")
            decoded = [f for frame in share.captured for f in codec.decode(av.Packet(frame.data))]
            assert len(decoded) == len(share.captured) >= 8, "every frame decodes, in order"
            assert ward.bridge.client.counter("program/video").frames > 0, "the program beside it"

            # --share-seconds 4: the bridge stops the share itself, and stays until --seconds 7
            await ward.client.wait_for(lambda s: s is not None and s.presentation.sharer is None, 20)
            await asyncio.sleep(0.5)        # what was on the wire
            stopped = share.packets
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0, err.decode()[-2000:]
            assert share.packets == stopped, "no share after its stop"
            shared = json.loads(out.decode().strip().splitlines()[-1])["shared"]
            assert shared["started"] is True and shared["stopped_by"] == "bridge" and shared["refused"] == [], shared
            assert shared["seconds"] >= 3.9 and shared["frames_sent"] >= 8, shared

            # leaving early (SIGTERM): the share is stopped on the way out
            proc = await bridge_process(main_link, "--share", "--seconds", "120")
            procs.append(proc)
            before = share.frames
            await until(lambda: share.frames >= before + 5, "the second share at the ward", 40)
            proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), 30)
            assert proc.returncode == 130, err.decode()[-2000:]
            await ward.client.wait_for(lambda s: s is not None and s.presentation.sharer is None, 10)
            assert chair.state is not None and chair.state.presentation.sharer is None
        finally:
            for p in procs:
                if p.returncode is None:
                    p.kill()
                    await p.wait()
            await ward.close()
            await chair.close()
            await chair_api.close()
