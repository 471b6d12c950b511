"""One media plane across ``bridgeconf serve --redis`` processes (issue 15), on loopback with a
real redis-server and real aiortc bridges (server/tools/bridge.py): a site whose page is on
another process than the publisher it needs decodes it over one relay between the forwarders;
floor handovers across processes re-point the relays; a 2-second SIGSTOP of the origin does
not kill its relay; kill -9 of a process: its sites reconnect to another (through a load
balancer) and get media back; Redis restarted mid-conference: media goes on, the pages are
told, and new relays open once it is back (there with the edge's forwarder in a worker process)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from typing import Any

from cluster_helpers import CONFERENCE, MAIN, grows, metric, open_cluster

from media.headless import MediaState
from server.tools.client import BridgeClient
from tests.fixtures.balancer import Balancer


def start(bridgeconf_proc: Callable[..., Any], redis: str, n: int) -> list[Any]:
    return [bridgeconf_proc(redis=redis, media=True) for _ in range(n)]


async def test_sites_on_two_processes_decode_the_main_bridge_and_the_floor_holder_over_relays(
        bridgeconf_proc: Callable[..., Any], redis_url: str) -> None:
    a, b = start(bridgeconf_proc, redis_url, 2)
    c = await open_cluster([a.base_url, b.base_url], a.password)
    try:
        w_a, w_b, viewer = c.wards(3)
        told: list[dict[str, Any]] = []
        await c.staff(b.base_url, told)                  # the chair's page on B
        main = await c.bridge(MAIN, a.base_url)
        on_a = await c.bridge(w_a, a.base_url)
        on_b = await c.bridge(w_b, b.base_url)
        watcher = await c.bridge(viewer, b.base_url, publish=False)
        for site in (on_a, on_b, watcher):
            await grows(site, "program/video", 10, 20, "the main bridge's program")
        program = watcher.bridge.client.counter("program/video")
        assert program.first_frame_keyframe is True and program.gaps == 0
        assert metric(b.base_url, "bridgeconf_media_relays", conference="so-ket-quy-3", direction="in") == 1
        assert metric(a.base_url, "bridgeconf_media_relays", conference="so-ket-quy-3", direction="out") == 1
        deadline = asyncio.get_running_loop().time() + 5
        while {"type": "site_media_state", "site": w_a, "state": "flowing"} not in told:   # a ward on A, told on B
            assert asyncio.get_running_loop().time() < deadline, [m for m in told if m.get("type") == "site_media_state"]
            await asyncio.sleep(0.1)

        await c.command("give_floor", site=w_b)          # publishes on B: A's sites pull it
        await grows(main, "speaker-0/video", 10, 10, "the floor holder on B at the main bridge on A")
        await grows(on_a, "speaker-0/video", 10, 10, "the floor holder on B at a ward on A")
        await c.command("give_floor", site=w_a)          # back to A: B's sites pull it instead
        await grows(watcher, "speaker-0/video", 10, 10, "the floor holder on A at a ward on B")
        await grows(on_b, "speaker-0/video", 10, 10, "the floor holder on A at the former speaker on B")

        os.kill(a.proc.pid, signal.SIGSTOP)              # the origin of the program pauses 2 s
        await asyncio.sleep(2.0)
        os.kill(a.proc.pid, signal.SIGCONT)
        await grows(watcher, "program/video", 20, 10, "the program after the origin's pause")
        assert metric(b.base_url, "bridgeconf_media_relays", conference="so-ket-quy-3", direction="in") == 2
        assert watcher.bridge.media_state is MediaState.FLOWING
    finally:
        await c.close()


async def test_kill_9_of_a_process_its_sites_reconnect_to_another_and_get_media_back(
        bridgeconf_proc: Callable[..., Any], redis_url: str) -> None:
    a, b, c3 = start(bridgeconf_proc, redis_url, 3)
    lb = await Balancer([a.port, b.port, c3.port]).start()
    c = await open_cluster([a.base_url, b.base_url, c3.base_url], a.password)
    try:
        ward, viewer = c.wards(2)
        main = await c.bridge(MAIN, lb.base_url)                         # lands on A
        moved = await c.bridge(ward, lb.base_url, publish=False)          # lands on A
        watcher = await c.bridge(viewer, b.base_url, publish=False)       # B: pulls the program from A
        assert lb.chosen == [a.port, a.port]
        for site in (moved, watcher):
            await grows(site, "program/video", 10, 20, "the program before the kill")
        lb.prefer(c3.port)
        a.kill9()
        await grows(moved, "program/video", 10, 15, "the program at a site of the killed process")
        await grows(watcher, "program/video", 10, 15, "the program at a site of a live process")
        assert lb.chosen[2:] and set(lb.chosen[2:]) == {c3.port}, lb.chosen
        assert main.bridge.connects >= 2 and moved.bridge.connects >= 2
        assert moved.bridge.client.counter("program/video").gaps == 0
        # B pulls the program from C now: the relay from the dead A was dropped, one relay in remains
        assert metric(b.base_url, "bridgeconf_media_relays", conference="so-ket-quy-3", direction="in") == 1
        assert metric(c3.base_url, "bridgeconf_media_relays", conference="so-ket-quy-3", direction="out") == 1
    finally:
        await c.close()
        await lb.close()


async def test_redis_restarted_mid_conference_media_goes_on_and_new_relays_wait_for_it(
        bridgeconf_proc: Callable[..., Any], spawn_redis: Callable[..., Any]) -> None:
    redis = spawn_redis()
    a = bridgeconf_proc(redis=redis.url(), media=True)
    b = bridgeconf_proc(redis=redis.url(), media=True, extra=("--media-workers", "1"))   # relays in a worker too
    c = await open_cluster([a.base_url, b.base_url], a.password)
    try:
        speaker, viewer = c.wards(2)
        await c.bridge(MAIN, a.base_url)
        on_a = await c.bridge(speaker, a.base_url)
        watcher = await c.bridge(viewer, b.base_url, publish=False)
        told: list[dict[str, Any]] = []
        chair = await c.staff(b.base_url, told)
        await grows(watcher, "program/video", 10, 20, "the program before Redis goes")
        redis.kill9()
        await grows(watcher, "program/video", 30, 10, "the program while Redis is down")
        relays = [m for m in told if m.get("type") == "media_relays"]
        assert relays and relays[-1]["store_ok"] is False, told[-5:]
        await chair.send_raw({"type": "media_prefs", "previews": [speaker]})   # needs a new relay: it waits
        deadline = asyncio.get_running_loop().time() + 5
        while [m for m in told if m.get("type") == "media_relays"][-1] != {
                "type": "media_relays", "store_ok": False, "waiting": [speaker]}:
            assert asyncio.get_running_loop().time() < deadline, [m for m in told if m.get("type") == "media_relays"]
            await asyncio.sleep(0.1)
        redis.restart()
        await grows(watcher, "program/video", 10, 10, "the program once Redis is back")
        deadline = asyncio.get_running_loop().time() + 10
        while not [m for m in told if m.get("type") == "media_relays"][-1]["store_ok"]:
            assert asyncio.get_running_loop().time() < deadline, "the pages are told the relays are back"
            await asyncio.sleep(0.1)
        await c.command("give_floor", site=speaker)      # a new relay, after the outage
        await grows(watcher, "speaker-0/video", 10, 15, "a floor holder on A at a ward on B after the outage")
        assert on_a.bridge.media_state is MediaState.FLOWING
    finally:
        await c.close()


async def test_a_process_stopped_gracefully_leaves_the_board_at_once(
        bridgeconf_proc: Callable[..., Any], redis_url: str) -> None:
    """SIGTERM of the origin: the other process drops its relay from it and stops counting it
    at once, not after the 5 s lease (it would keep a vanished record's relays that long); the
    stopping process closes its pages (1001, going away) at once, not ~2.5 heartbeats later
    when its sweeps found them silent, so that they come back on another process now."""
    a, b = start(bridgeconf_proc, redis_url, 2)
    c = await open_cluster([a.base_url, b.base_url], a.password)
    try:
        (viewer,) = c.wards(1)
        await c.bridge(MAIN, a.base_url)
        watcher = await c.bridge(viewer, b.base_url, publish=False)      # pulls the program from A
        await grows(watcher, "program/video", 10, 20, "the program before the stop")
        assert metric(b.base_url, "bridgeconf_media_relays", conference="so-ket-quy-3", direction="in") == 1
        assert metric(b.base_url, "bridgeconf_media_cluster_processes") == 2
        on_a = BridgeClient(a.base_url, CONFERENCE, c.chair.token or "", reconnect=False)   # the chair's page on A
        await on_a.connect()
        c.closers.append(on_a)
        loop = asyncio.get_running_loop()
        stopped = loop.time()
        a.proc.send_signal(signal.SIGTERM)
        while on_a.connected.is_set():
            assert loop.time() - stopped < 2.0, "the stopping process kept its page open"
            await asyncio.sleep(0.05)
        while metric(b.base_url, "bridgeconf_media_cluster_processes") != 1 or \
                metric(b.base_url, "bridgeconf_media_relays", conference="so-ket-quy-3", direction="in") != 0:
            assert loop.time() - stopped < 3.0, "B still pulls from / counts the stopped process (its lease is 5 s)"
            await asyncio.sleep(0.1)
        assert await loop.run_in_executor(None, a.proc.wait, 20) == 0
    finally:
        await c.close()


async def test_a_hello_held_up_longer_than_the_liveness_window_is_welcomed_and_kept(
        bridgeconf_proc: Callable[..., Any], spawn_redis: Callable[..., Any]) -> None:
    """The failover tail: a surviving process busy with a burst of re-joining pages (or waiting
    for Redis) may take longer than 2.5 heartbeats over a hello. That time is the server's, not
    the page's silence: the page must not be aborted by the first liveness sweep it meets
    (it was: its clock started when its Page was made, before the welcome, media and presence).
    Here Redis pauses 2 s during the hello (presence waits for it), with a 0.5 s heartbeat."""
    redis = spawn_redis()
    a = bridgeconf_proc(redis=redis.url(), extra=("--heartbeat", "0.5"))
    c = await open_cluster([a.base_url], a.password)
    try:
        (ward,) = c.wards(1)
        client = BridgeClient(a.base_url, CONFERENCE, c.tokens[ward])
        os.kill(redis.proc.pid, signal.SIGSTOP)
        try:
            connecting = asyncio.ensure_future(client.connect(timeout=20))
            await asyncio.sleep(2.0)
        finally:
            os.kill(redis.proc.pid, signal.SIGCONT)
        await connecting
        await asyncio.sleep(2.0)                         # several sweeps; the page answers pings
        assert client.connected.is_set() and client.reconnects == 0, "the page was dropped after its slow hello"
        await client.close()
    finally:
        await c.close()
