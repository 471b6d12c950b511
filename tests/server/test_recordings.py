"""Recording of the program: a live conference is recorded from the main bridge's real
(aiortc) media, with a chapter per agenda item and floor change, and listed for its staff;
the main bridge's screen share is recorded to a file of its own beside the program's (same
chapters), listed with it; a server restarted while the conference is live records on, to a
file of its own."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import av
import pytest

from media import MediaConfig
from media.headless import HeadlessBridge
from server.config import Config, MediaSettings
from server.service.keys import SERVICE
from server.tools import demo
from server.tools.client import ApiClient, BridgeClient, CommandRefused
from tests.server.wshelp import free_port, seed_demo, serving

PASSWORD = "mat-khau-thu-nghiem"
URL = f"/conferences/{demo.CONFERENCE}/recordings"


async def until_recording(api: ApiClient, on: bool, seconds: float = 30.0) -> dict:
    """The listing once the recording is ``on`` (started) or not (its file closed)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        listing: dict = await api.call("GET", URL)
        if listing["recording"] is on:
            return listing
        assert asyncio.get_running_loop().time() < deadline, f"recording never became {on}: {listing}"
        await asyncio.sleep(0.05)


async def packets_in(api: ApiClient, url: str) -> dict[str, int]:
    """Packets per track (by title) of a recording fetched through the API."""
    data = await api.download(url.removeprefix("/api/v1"))
    counts: dict[str, int] = {}
    with av.open(io.BytesIO(data)) as container:
        for packet in container.demux():
            if packet.size:
                title = packet.stream.metadata.get("title", str(packet.stream.index))
                counts[title] = counts.get(title, 0) + 1
    return counts


async def test_a_live_conference_is_recorded_with_chapters(tmp_path: Path) -> None:
    config = Config(port=free_port(), data_dir=tmp_path, media=MediaSettings(record=True))
    clients: list[object] = []
    program: HeadlessBridge | None = None
    async with serving(config) as app:
        try:
            _, tokens, state = await seed_demo(app, PASSWORD)
            chair_api = await ApiClient.login(config.base_url, "chutri", PASSWORD)
            clients.append(chair_api)
            chair = await BridgeClient(config.base_url, demo.CONFERENCE, chair_api.token).connect()
            main = await BridgeClient(config.base_url, demo.CONFERENCE, tokens[state.main_site]).connect()
            clients += [chair, main]
            program = HeadlessBridge(MediaConfig(gather_addresses=("127.0.0.1",)), main.offer, "Điểm cầu chính")
            await program.start()
            await chair.command("open_conference")
            await until_recording(chair_api, True)   # it starts on the phase change, in a task of its own
            await chair.command("start_item", item_id="muc-1")
            site = next(c for c in state.sites if c != state.main_site)
            await chair.command("give_floor", site=site)
            await asyncio.sleep(2.5)
            await chair.command("end_conference")
            listing = await until_recording(chair_api, False)   # the file is closed after the end
            assert len(listing["files"]) == 1, listing
            recording = listing["files"][0]
            packets = await packets_in(chair_api, recording["url"])
            assert packets.get("program/video", 0) > 10 and packets.get("program/audio", 0) > 10, packets
            titles = [c["title"] for c in recording["chapters"]]
            assert "Khai mạc" in titles, titles
            assert any(t.startswith("Mục: Khai mạc, giới thiệu đại biểu") for t in titles), titles
            assert any(t.startswith("Phát biểu: ") for t in titles), titles
            site_api = ApiClient(config.base_url, tokens[site])
            clients.append(site_api)
            try:
                await site_api.call("GET", URL)
                raise AssertionError("a site may not list the recordings")
            except CommandRefused as exc:
                assert exc.code in ("forbidden", "unauthorized")
        finally:
            if program is not None:   # its watch may be renegotiating: stop() ends that too
                await program.stop()
            for c in clients:
                await c.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "worker"])
async def test_the_screen_share_is_recorded_beside_the_program_and_listed(tmp_path: Path, workers: int) -> None:
    config = Config(port=free_port(), data_dir=tmp_path, media=MediaSettings(record=True, workers=workers))
    clients: list[object] = []
    program: HeadlessBridge | None = None
    async with serving(config) as app:
        try:
            _, tokens, state = await seed_demo(app, PASSWORD)
            chair_api = await ApiClient.login(config.base_url, "chutri", PASSWORD)
            clients.append(chair_api)
            chair = await BridgeClient(config.base_url, demo.CONFERENCE, chair_api.token).connect()
            main = await BridgeClient(config.base_url, demo.CONFERENCE, tokens[state.main_site]).connect()
            clients += [chair, main]
            program = HeadlessBridge(MediaConfig(gather_addresses=("127.0.0.1",)), main.offer, "Điểm cầu chính",
                                     share=True, keep=600)
            await program.start()
            await chair.command("open_conference")
            listing = await until_recording(chair_api, True)
            assert listing["files"][0]["share"] is None, "nothing shared yet: no share file"
            program.screen_on(True)
            await main.command("start_share", site=state.main_site)
            await asyncio.sleep(2.5)
            await main.command("stop_share")
            program.screen_on(False)
            await chair.command("end_conference")
            listing = await until_recording(chair_api, False)
            recording = listing["files"][0]
            share = recording["share"]
            assert share is not None and share["file"] == recording["file"].replace(".webm", ".share.webm"), recording
            data = await chair_api.download(share["url"].removeprefix("/api/v1"))
            assert share["bytes"] == len(data) > 0
            with av.open(io.BytesIO(data)) as container:
                stream = container.streams.video[0]
                assert stream.metadata.get("title") == "share/video" and stream.codec_context.name == "vp8"
                assert (stream.width, stream.height) == (1280, 720)     # the test screen, not the camera
                packets = [bytes(p) for p in container.demux(stream) if p.size]
                chapters = [c["metadata"]["title"] for c in container.chapters()]
            assert program.screen is not None
            sent = set(program.screen.sent)
            assert len(packets) >= 5 and all(p in sent for p in packets), "the shared screen's own frames"
            titles = [c["title"] for c in recording["chapters"]]
            assert chapters == titles, "the share's file has the program's chapters"
            assert "Chia sẻ màn hình: " + state.sites[state.main_site].name in titles, titles
            assert "Hết chia sẻ màn hình" in titles, titles
            assert (await packets_in(chair_api, recording["url"])).get("program/video", 0) > 10
        finally:
            if program is not None:   # its watch may be renegotiating: stop() ends that too
                await program.stop()
            for c in clients:
                await c.close()  # type: ignore[attr-defined]


async def test_a_restart_during_the_conference_records_on_to_a_new_file(tmp_path: Path) -> None:
    config = Config(port=free_port(), data_dir=tmp_path, media=MediaSettings(record=True))
    async with serving(config) as app:
        await demo.seed(app[SERVICE], password=PASSWORD)
        chair_api = await ApiClient.login(config.base_url, "chutri", PASSWORD)
        try:
            await chair_api.call("POST", f"/conferences/{demo.CONFERENCE}/commands",
                                 {"type": "open_conference"})
            await chair_api.call("POST", f"/conferences/{demo.CONFERENCE}/commands",
                                 {"type": "start_item", "item_id": "muc-1"})
            await until_recording(chair_api, True)
        finally:
            await chair_api.close()
    config = Config(port=free_port(), data_dir=tmp_path, media=MediaSettings(record=True))
    async with serving(config):
        chair_api = await ApiClient.login(config.base_url, "chutri", PASSWORD)
        try:
            listing = await until_recording(chair_api, True)   # live again: recording again
            assert len(listing["files"]) == 2, listing        # the first part is kept, whole
            first, second = listing["files"]
            assert [c["title"] for c in first["chapters"]][0] == "Khai mạc", first
            titles = [c["title"] for c in second["chapters"]]
            assert titles[0] == "Tiếp tục ghi", titles
            assert any(t.startswith("Mục: Khai mạc, giới thiệu đại biểu") for t in titles), titles
            await chair_api.call("POST", f"/conferences/{demo.CONFERENCE}/commands", {"type": "end_conference"})
            listing = await until_recording(chair_api, False)
            assert len(listing["files"]) == 2 and all(f["bytes"] > 0 for f in listing["files"]), listing
        finally:
            await chair_api.close()
