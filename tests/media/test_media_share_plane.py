"""The screen share steered by the conference log (server/reactors/media_plane.py), through a
served app with real aiortc sites: the main bridge's share reaches a ward that shows it only
after ``share_started`` (keyframe first), never a ward on audio only; the chair's
``stop_share`` stops it at the ward; the end of the conference stops a share too."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from media import MediaConfig
from media.client import SiteClient
from media.testsrc import PatternSource
from server.config import Config, MediaSettings
from server.tools import demo
from server.tools.client import ApiClient, BridgeClient
from tests.server.wshelp import free_port, seed_demo, serving, until

PASSWORD = "mat-khau-thu-nghiem"
LOOPBACK = MediaConfig(gather_addresses=("127.0.0.1",))


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "worker"])
async def test_the_log_steers_the_share_to_the_wards_that_show_it(tmp_path: Path, workers: int) -> None:
    config = Config(port=free_port(), data_dir=tmp_path, media=MediaSettings(workers=workers))
    base = config.base_url
    closers: list[Any] = []
    async with serving(config) as app:
        try:
            _, tokens, state = await seed_demo(app, PASSWORD)
            main_code = state.main_site
            ward, quiet = [c for c in sorted(state.sites) if c != main_code][:2]
            chair_api = await ApiClient.login(base, "chutri", PASSWORD)
            closers.append(chair_api)
            chair = await BridgeClient(base, demo.CONFERENCE, chair_api.token).connect()
            main_ws = await BridgeClient(base, demo.CONFERENCE, tokens[main_code]).connect()
            ward_ws = await BridgeClient(base, demo.CONFERENCE, tokens[ward]).connect()
            quiet_ws = await BridgeClient(base, demo.CONFERENCE, tokens[quiet]).connect()
            closers += [chair, main_ws, ward_ws, quiet_ws]

            screen = PatternSource("slides", width=320, height=180, fps=10, bitrate=200_000, keep=400)
            camera = PatternSource("main", width=320, height=180, fps=10, bitrate=200_000)
            main = SiteClient(LOOPBACK, main_ws.offer, video=camera, share=screen, name="main")
            shows = SiteClient(LOOPBACK, ward_ws.offer, share_slot=True, capture=True, name="ward")
            audio_only = SiteClient(LOOPBACK, quiet_ws.offer, share_slot=True, name="quiet")
            closers += [main, shows, audio_only]
            await quiet_ws.send_raw({"type": "media_prefs", "audio_only": True})
            await asyncio.gather(*(c.connect() for c in (main, shows, audio_only)))

            await chair.command("start_rehearsal")
            await chair.command("open_conference")
            await until(lambda: shows.counter("program/video").frames >= 5, "the program at the ward")
            await asyncio.sleep(0.5)
            assert shows.counter("share/video").packets == 0, "no share before share_started"

            await main_ws.command("start_share", site=main_code)
            share = shows.counter("share/video")
            await until(lambda: share.frames >= 8, "the share at the ward that shows it")
            assert share.first_frame_keyframe is True
            assert all(f.data in set(screen.sent) for f in share.captured), "the screen, not the camera"
            assert audio_only.counter("share/video").packets == 0, "a ward on audio only gets no share"

            await chair.command("stop_share")
            await asyncio.sleep(0.5)  # what was already on the wire
            stopped = share.packets
            await asyncio.sleep(1.5)
            assert share.packets == stopped, "the share still reached the ward after the chair stopped it"
            assert shows.counter("program/video").frames > 0

            await main_ws.command("start_share", site=main_code)
            await until(lambda: share.packets > stopped + 10, "the share again")
            await chair.command("end_conference")
            await asyncio.sleep(0.5)
            ended = share.packets
            await asyncio.sleep(1.5)
            assert share.packets == ended, "the share reached the ward after the end"
            assert chair.state is not None and chair.state.presentation.sharer is None
        finally:
            for c in reversed(closers):
                await c.close()
