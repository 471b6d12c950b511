"""Failover of a headless bridge's media (issue 15): the server is killed (kill -9) and
started again on the same data; the ``bridgeconf bridge`` sites reconnect their /ws, offer
again, the main bridge republishes, and a ward decodes the program again — its first frame a
keyframe that decodes on a fresh decoder. Meanwhile the ward reports its media ``stalled``,
then ``renegotiating``, then ``flowing``, and the chair's page is told so (``site_media_state``)
apart from the signaling."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from media_helpers import decode_vp8, wait_for

from media.headless import MediaState
from server.tools import demo
from server.tools.bridge import JoinedBridge, join_bridge
from server.tools.client import ApiClient, BridgeClient, link_parts
from tests.fixtures.procs import stop
from tests.server.wshelp import free_port

ROOT = Path(__file__).resolve().parents[2]


def serve(data: Path, port: int) -> subprocess.Popen[str]:
    log = data / f"server-{time.monotonic_ns()}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.tools.cli", "serve", "--demo", "--media-address", "127.0.0.1",
         "--data-dir", str(data), "--port", str(port)],
        cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while "serving on" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    return proc


async def test_after_a_kill_9_the_headless_bridge_offers_again_and_decodes_the_program(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(tmp_path, port)
    closers: list[Any] = []
    try:
        password = (tmp_path / "demo-password.txt").read_text().strip()
        admin = await ApiClient.login(base, "admin", password)
        closers.append(admin)
        rows = (await admin.call("GET", f"/conferences/{demo.CONFERENCE}/links"))["links"]
        links = {r["site"]: f"{base}/join/{link_parts(r['url'])[2]}" for r in rows}
        main_site = demo.MAIN
        ward_site = next(code for code in links if code != main_site)
        chair_api = await ApiClient.login(base, "chutri", password)
        closers.append(chair_api)
        await chair_api.call("POST", f"/conferences/{demo.CONFERENCE}/commands", {"type": "open_conference"})

        told: list[dict[str, Any]] = []
        chair = await BridgeClient(base, demo.CONFERENCE, chair_api.token or "", on_message=lambda m: told.append(m)
                                   if m.get("type") == "site_media_state" else None).connect()  # fmt: skip
        closers.append(chair)
        main: JoinedBridge = await join_bridge(links[main_site], gather="127.0.0.1", caption="main")
        closers.append(main)
        ward: JoinedBridge = await join_bridge(links[ward_site], gather="127.0.0.1", caption="ward",
                                               publish=False, keep=1)  # fmt: skip
        closers.append(ward)
        await wait_for(lambda: ward.bridge.client.counter("program/video").frames >= 10, 15, "the program")
        await wait_for(lambda: any(m == {"type": "site_media_state", "site": ward_site, "state": "flowing"}
                                   for m in told), 10, "the chair told the ward's media flows")  # fmt: skip

        told_before = len(told)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        await wait_for(lambda: ward.bridge.media_state is MediaState.STALLED, 10, "the ward's media stalled")
        frozen = ward.bridge.client.counter("program/video").frames

        proc = serve(tmp_path, port)
        serving_at = time.monotonic()
        await wait_for(lambda: ward.bridge.connects >= 2 and main.bridge.connects >= 2, 30, "both offered again")
        await wait_for(lambda: ward.bridge.client.counter("program/video").frames >= 10, 20,
                       "the program again at the ward")  # fmt: skip
        back_after = time.monotonic() - serving_at
        program = ward.bridge.client.counter("program/video")
        assert program.first_frame_keyframe is True and program.gaps == 0
        assert decode_vp8(program.captured[0].data), "the first frame after the restart decodes from scratch"
        assert frozen >= 10 and ward.bridge.media_state is MediaState.FLOWING
        states = ward.media_states
        assert states[0] == "flowing" and "stalled" in states and "renegotiating" in states, states
        assert states[-1] == "flowing" and states.index("renegotiating", states.index("stalled")) > 0, states
        assert main.bridge.media_state is MediaState.FLOWING, "the main bridge receives nothing, and need not"
        def ward_told() -> list[str | None]:
            return [m["state"] for m in told[told_before:] if m["site"] == ward_site]

        await wait_for(lambda: ward_told()[-1:] == ["flowing"], 10, "the chair told again after the restart")
        assert chair.reconnects >= 1
        print(f"program back at the ward {back_after:.1f} s after the restarted server listened")
    finally:
        for c in reversed(closers):
            await c.close()
        await asyncio.to_thread(stop, proc)


def test_a_media_state_is_one_of_three_and_nothing_else() -> None:
    from server import protocol as p

    assert p.parse_client('{"type": "media_state", "state": "stalled"}') == p.MediaState(state="stalled")
    for bad in ('{"type": "media_state", "state": "frozen"}', '{"type": "media_state"}',
                '{"type": "media_state", "state": "flowing", "extra": 1}'):
        with pytest.raises(p.ProtocolError) as err:
            p.parse_client(bad)
        assert err.value.code == "invalid_message", bad
    wire = p.encode(p.SiteMediaState(site="P-HOAN-KIEM", state=None))
    assert wire == '{"type":"site_media_state","site":"P-HOAN-KIEM","state":null}'
