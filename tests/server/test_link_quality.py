"""The automatic audio-only fallback, through the server: a site whose link loses a quarter
of its packets (a real aiortc site, its receiver reports say so) is put on audio only; its
page and the chair's pages are told, and a chair page that joins later learns it too. With
the forwarder in the server process and in a worker process."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from wshelp import free_port, seed_demo, serving

from media import MediaConfig
from media.headless import HeadlessBridge
from server.config import Config, MediaSettings
from server.tools import demo
from server.tools.client import ApiClient, BridgeClient

PASSWORD = "mat-khau-thu-nghiem"


async def wait_for_message(box: list[dict[str, Any]], what: str, timeout: float = 15.0) -> dict[str, Any]:
    for _ in range(int(timeout / 0.05)):
        if box:
            return box[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no link_quality message reached {what}")


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "worker"])
async def test_a_site_on_a_poor_link_goes_audio_only_and_the_chair_is_told(tmp_path: Path, workers: int) -> None:
    config = Config(port=free_port(), data_dir=tmp_path, media=MediaSettings(workers=workers))
    base = config.base_url
    closers: list[Any] = []
    bridges: list[HeadlessBridge] = []
    async with serving(config) as app:
        try:
            _, tokens, state = await seed_demo(app, PASSWORD)
            poor_code, good_code = [c for c in state.sites if c != state.main_site][:2]
            boxes: dict[str, list[dict[str, Any]]] = {"chair": [], "poor": [], "good": [], "late": []}

            def box(name: str) -> Any:
                return lambda m: boxes[name].append(m) if m.get("type") == "link_quality" else None

            chair_api = await ApiClient.login(base, "chutri", PASSWORD)
            closers.append(chair_api)
            chair = await BridgeClient(base, demo.CONFERENCE, chair_api.token, on_message=box("chair")).connect()
            closers.append(chair)
            await chair.command("open_conference")
            media = MediaConfig(gather_addresses=("127.0.0.1",))
            for code, name, loss in ((state.main_site, "main", 0.0), (poor_code, "poor", 0.25),
                                     (good_code, "good", 0.0)):
                client = await BridgeClient(base, demo.CONFERENCE, tokens[code], on_message=box(name)).connect()
                closers.append(client)
                bridge = HeadlessBridge(media, client.offer, name, publish=name == "main", rx_loss=loss)
                await bridge.start()
                bridges.append(bridge)

            mine = await wait_for_message(boxes["poor"], "the poor site's page")
            assert mine["audio_only"] is True and mine["reason"] == "loss" and mine["loss"] >= 0.1
            assert mine["site"] == poor_code
            told = await wait_for_message(boxes["chair"], "the chair's page")
            assert told["site"] == poor_code and told["audio_only"] is True
            late = await BridgeClient(base, demo.CONFERENCE, chair_api.token, on_message=box("late")).connect()
            closers.append(late)
            assert (await wait_for_message(boxes["late"], "a chair page that joined later"))["site"] == poor_code
            assert not boxes["good"], "a site on a clean link keeps its video"
            program = bridges[1].client.counter("program/video")
            frames = program.frames
            await asyncio.sleep(1.0)
            assert program.frames == frames, "no video reaches the site on audio only"
            assert bridges[2].client.counter("program/video").frames > 10
        finally:
            for bridge in bridges:
                await bridge.stop()
            for c in reversed(closers):
                await c.close()
