"""A headless bridge's offers and the server's answers pair up in order (server/tools/client.py,
as the page's media_signal.js): an offer given up on keeps its place, so its late answer (or
refusal) is not taken for the next offer's — a bridge that renegotiated twice in a row used to
apply a stale answer and never get media back ("Cannot handle answer in signaling state closed")."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from media import MediaConfig
from media.headless import HeadlessBridge
from server.config import Config
from server.tools import demo
from server.tools.client import BridgeClient, CommandRefused
from tests.server.wshelp import free_port, seed_demo, serving, until

PASSWORD = "mat-khau-thu-nghiem"
LOOPBACK = MediaConfig(gather_addresses=("127.0.0.1",))


async def test_a_late_answer_is_not_taken_for_the_next_offers(tmp_path: Path) -> None:
    config = Config(port=free_port(), data_dir=tmp_path)
    async with serving(config) as app:
        _, tokens, state = await seed_demo(app, PASSWORD)
        client = await BridgeClient(config.base_url, demo.CONFERENCE, tokens[state.main_site]).connect()
        bridge: HeadlessBridge | None = None
        try:
            with pytest.raises(TimeoutError):      # given up on before its refusal comes back
                await client.offer("v=0\r\nnot an offer\r\n", timeout=1e-6)
            await asyncio.sleep(0.5)               # the refusal has arrived meanwhile
            bridge = HeadlessBridge(LOOPBACK, client.offer, "main")
            await bridge.start()                   # its offer gets its own answer, not the late refusal
            await until(lambda: bridge is not None and bridge.client.link is not None
                        and bridge.client.link.state == "connected", "the bridge's connection")
            with pytest.raises(CommandRefused) as refused:   # a refusal in its turn still reaches its offer
                await client.offer("v=0\r\nnot an offer\r\n")
            assert refused.value.code == "media.bad_layout", refused.value
        finally:
            if bridge is not None:
                await bridge.stop()
            await client.close()
