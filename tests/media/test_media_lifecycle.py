"""The media follows the conference (server/media_scope.py), through a served app with real
aiortc sites: before the rehearsal nothing is forwarded, a rehearsal carries the program and
the chair's previews, and after the end ("Bế mạc") no packet reaches a site any more — not
the main bridge's camera, not its microphone, not a preview — while the connections stay up."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from media import MediaConfig
from media.headless import HeadlessBridge
from scheduling import Phase
from server.config import Config, MediaSettings
from server.reactors.media_scope import CHECK, EVERYTHING, NOTHING, media_scope
from server.tools import demo
from server.tools.client import ApiClient, BridgeClient
from tests.server.wshelp import free_port, seed_demo, serving, until

PASSWORD = "mat-khau-thu-nghiem"
LOOPBACK = MediaConfig(gather_addresses=("127.0.0.1",))


def test_each_phase_forwards_what_it_needs() -> None:
    assert media_scope(Phase.DRAFT) == media_scope(Phase.SCHEDULED) == NOTHING
    assert media_scope(Phase.REHEARSAL) == CHECK and not CHECK.floor and CHECK.program and CHECK.previews
    assert media_scope(Phase.LIVE) == EVERYTHING
    assert media_scope(Phase.ENDED) == media_scope(Phase.CANCELLED) == NOTHING and NOTHING.nothing
    assert {media_scope(p) for p in Phase} <= {NOTHING, CHECK, EVERYTHING}


def received(bridge: HeadlessBridge) -> int:
    """Every RTP packet the site got, all slots."""
    return sum(c.packets for c in bridge.client.counters.values())


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "worker"])
async def test_nothing_reaches_a_site_before_the_rehearsal_or_after_the_end(tmp_path: Path, workers: int) -> None:
    config = Config(port=free_port(), data_dir=tmp_path, media=MediaSettings(workers=workers))
    base = config.base_url
    closers: list[Any] = []
    bridges: list[HeadlessBridge] = []
    async with serving(config) as app:
        try:
            _, tokens, state = await seed_demo(app, PASSWORD)
            assert state.phase in (Phase.DRAFT, Phase.SCHEDULED)
            ward = next(c for c in state.sites if c != state.main_site)
            hints: list[dict[str, Any]] = []
            chair_api = await ApiClient.login(base, "chutri", PASSWORD)
            closers.append(chair_api)
            chair = await BridgeClient(base, demo.CONFERENCE, chair_api.token).connect()
            closers.append(chair)

            def main_messages(msg: dict[str, Any]) -> None:
                if msg.get("type") == "publish":
                    hints.append(msg)

            main_client = await BridgeClient(base, demo.CONFERENCE, tokens[state.main_site],
                                             on_message=main_messages).connect()  # fmt: skip
            ward_client = await BridgeClient(base, demo.CONFERENCE, tokens[ward]).connect()
            closers += [main_client, ward_client]
            main = HeadlessBridge(LOOPBACK, main_client.offer, "main")
            site = HeadlessBridge(LOOPBACK, ward_client.offer, "ward")  # publishes too: its camera could be previewed
            wall = HeadlessBridge(LOOPBACK, chair.offer, "chair", publish=False, preview_slots=1)
            for bridge in (main, site, wall):
                bridges.append(bridge)
                await bridge.start()
            await chair.send_raw({"type": "media_prefs", "previews": [ward]})

            await asyncio.sleep(1.5)
            assert received(site) == 0 and received(wall) == 0, "nothing is forwarded before the rehearsal"

            await chair.command("start_rehearsal")
            await until(lambda: site.client.counter("program/video").frames >= 10
                        and site.client.counter("program/audio").packets >= 20, "the program in the rehearsal")
            await until(lambda: wall.client.counter("preview-0/video").frames >= 3, "the ward's camera on the wall")
            assert site.client.counter("speaker-0/video").packets == 0
            await chair.command("open_conference")
            await until(lambda: hints and hints[-1]["audio"] and hints[-1]["video"] == "full",
                        "the main bridge told to send")  # fmt: skip
            frames = site.client.counter("program/video").frames
            await until(lambda: site.client.counter("program/video").frames > frames + 10, "the program live")

            await chair.command("end_conference")
            await until(lambda: hints[-1] == {"type": "publish", "audio": False, "video": "off"},
                        "the main bridge told to send nothing")  # fmt: skip
            await asyncio.sleep(0.5)  # what was already on the wire
            before = received(site), received(wall)
            await asyncio.sleep(2.0)
            assert received(site) == before[0], "a packet reached the ward after the end"
            assert received(wall) == before[1], "a preview reached the chair after the end"
            assert site.client.link is not None and site.client.link.state == "connected", "the connection stays up"
            assert main.client.link is not None and main.client.link.state == "connected"
        finally:
            for bridge in bridges:  # its watch may be renegotiating: stop() ends that too
                await bridge.stop()
            for c in reversed(closers):
                await c.close()
