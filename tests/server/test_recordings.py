"""Recording of the program: a live conference is recorded from the main bridge's real
(aiortc) media, with a chapter per agenda item and floor change, and listed for its staff."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from media import MediaConfig
from media.headless import HeadlessBridge
from server import demo
from server.app import create_app
from server.client import ApiClient, BridgeClient, CommandRefused
from server.config import Config, MediaSettings
from server.keys import SERVICE

PASSWORD = "mat-khau-thu-nghiem"


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_live_conference_is_recorded_with_chapters(tmp_path: Path) -> None:
    config = Config(port=free_port(), data_dir=tmp_path, media=MediaSettings(record=True))
    app = create_app(config)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, config.host, config.port).start()
    base = config.base_url
    clients: list[object] = []
    try:
        service = app[SERVICE]
        await demo.seed(service, password=PASSWORD)
        tokens = await service.ensure_links(demo.CONFERENCE)
        state = service.conferences[demo.CONFERENCE].state
        chair_api = await ApiClient.login(base, "chutri", PASSWORD)
        clients.append(chair_api)
        chair = await BridgeClient(base, demo.CONFERENCE, chair_api.token).connect()
        main = await BridgeClient(base, demo.CONFERENCE, tokens[state.main_site]).connect()
        clients += [chair, main]
        program = HeadlessBridge(MediaConfig(gather_addresses=("127.0.0.1",)), main.offer, "Điểm cầu chính")
        await program.start()
        await chair.command("open_conference")
        url = f"/conferences/{demo.CONFERENCE}/recordings"
        for _ in range(100):          # the recorder starts on the phase change, in a task of its own
            if (await chair_api.call("GET", url))["recording"]:
                break
            await asyncio.sleep(0.05)
        await chair.command("start_item", item_id="muc-1")
        site = next(c for c in state.sites if c != state.main_site)
        await chair.command("give_floor", site=site)
        await asyncio.sleep(2.5)
        await chair.command("end_conference")
        listing: dict = {}
        for _ in range(50):          # the recorder closes the file after the end
            listing = await chair_api.call("GET", url)
            if listing["files"] and listing["files"][0]["chapters_url"]:   # the chapters are written last
                break
            await asyncio.sleep(0.1)
        assert len(listing["files"]) == 1, listing
        recording = listing["files"][0]
        assert recording["bytes"] > 10_000
        titles = [c["title"] for c in recording["chapters"]]
        assert "Khai mạc" in titles, titles
        assert any(t.startswith("Mục: Khai mạc, giới thiệu đại biểu") for t in titles), titles
        assert any(t.startswith("Phát biểu: ") for t in titles), titles
        site_api = ApiClient(base, tokens[site])
        clients.append(site_api)
        try:
            await site_api.call("GET", f"/conferences/{demo.CONFERENCE}/recordings")
            raise AssertionError("a site may not list the recordings")
        except CommandRefused as exc:
            assert exc.code in ("forbidden", "unauthorized")
        await program.stop()
    finally:
        for c in clients:
            await c.close()  # type: ignore[attr-defined]
        await runner.cleanup()
