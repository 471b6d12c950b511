"""One media plane across two ``bridgeconf serve --redis`` processes (issue 15): failover and
floor handover across processes, measured at the sites. Prints one JSON object.

    .venv/bin/python bench/media_cluster.py                       # 2 x 50 sites, 4 handovers
    .venv/bin/python bench/media_cluster.py --sites 200 --handovers 6

Processes: a redis-server, processes A and B (``serve --redis --demo``, media on loopback,
relays on), a TCP load balancer in this process (tests/fixtures/balancer.py) in front of
both, one publisher process (the main bridge on B, a speaker on each of A and B: aiortc
headless bridges, 320x180 VP8 15 fps + Opus) and site processes holding the sites
(``join_bridge(publish=False)``: real ICE + DTLS-SRTP peers that count complete frames,
never decode). Half the sites join A through the balancer, half join B directly; every site
sees the program (A's over a relay from B).

1. Floor handover across processes: ``give_floor`` alternately to the speaker on A and the one
   on B (the slot emptied with ``revoke_floor`` in between): from the chair's request to each
   site's first speaker frame, p50/p95/max, for all sites and for those on the other process.
2. Failover: ``kill -9`` of A (``--stop term``: SIGTERM, a graceful stop); its sites reconnect through the balancer to B, offer again and
   decode the program again: time from the kill to each one's first program frame on its new
   peer, p50/p95/max; what B's sites saw meanwhile: the longest gap between program frames
   and the frames received against the publisher's 15/s.

Every run is bounded (joins, waits, the measurement windows); the machine may be shared:
the load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import cpu_seconds, free_port, loadavg, raise_nofile, start_redis, wait_http  # noqa: E402
from server.tools import demo  # noqa: E402
from server.tools.bridge import join_bridge  # noqa: E402
from server.tools.client import ApiClient, link_parts  # noqa: E402
from tests.fixtures.balancer import Balancer  # noqa: E402

CONF = demo.CONFERENCE
FPS = 15
SAMPLE_S = 0.02


# -- site processes ------------------------------------------------------------------------------

def sites_main(conn: Any, links: list[tuple[str, str]], publish: bool, log_file: str = "") -> None:
    if log_file:     # why a site's WebSocket attempts failed (the client logs each at DEBUG)
        handler = logging.FileHandler(log_file)
        handler.setFormatter(logging.Formatter("%(created).3f %(name)s %(message)s"))
        client_log = logging.getLogger("server.tools.client")
        client_log.setLevel(logging.DEBUG)
        client_log.addHandler(handler)
        media_log = logging.getLogger("media.headless")     # why a new offer failed (INFO)
        media_log.setLevel(logging.INFO)
        media_log.addHandler(handler)
    asyncio.run(_sites(conn, links, publish))


async def _sites(conn: Any, links: list[tuple[str, str]], publish: bool) -> None:
    joined: dict[str, Any] = {}
    for i in range(0, len(links), 10):
        batch = links[i:i + 10]
        done = await asyncio.gather(*(join_bridge(link, gather="127.0.0.1", caption=name, publish=publish)
                                      for name, link in batch))
        joined.update({name: j for (name, _), j in zip(batch, done, strict=True)})
    conn.send("joined")
    loop = asyncio.get_running_loop()
    while True:
        cmd = await loop.run_in_executor(None, conn.recv)
        if cmd[0] == "stop":
            break
        if cmd[0] == "record":           # ("record", slot, seconds): every frame increase, with the peer
            _, slot, seconds = cmd
            seen: dict[str, list[tuple[float, int, int]]] = {name: [] for name in joined}
            prev = {name: (id(j.bridge.client), _frames(j, slot)) for name, j in joined.items()}
            offers: dict[str, list[float]] = {name: [] for name in joined}
            connects = {name: j.bridge.connects for name, j in joined.items()}
            welcomes: dict[str, list[float]] = {name: [] for name in joined}
            renegotiating: dict[str, list[float]] = {name: [] for name in joined}
            new_peer = {name: id(j.bridge.client) for name, j in joined.items()}
            welcomed: dict[str, list[float]] = {name: [] for name in joined}
            gaps_at = {name: _gaps(j, slot) for name, j in joined.items()}
            up = {name: j.client.connected.is_set() for name, j in joined.items()}
            sockets = {name: j.client.reconnects for name, j in joined.items()}
            end = time.time() + seconds
            period, last_now = 0.0, time.time()
            while time.time() < end:
                now = time.time()
                period, last_now = max(period, now - last_now), now
                for name, j in joined.items():
                    if j.client.reconnects != sockets[name]:           # its WebSocket dropped and is reconnecting
                        sockets[name] = j.client.reconnects
                        welcomes[name].append(now)
                    if j.client.connected.is_set() != up[name]:        # its WebSocket is back (welcome) or gone
                        up[name] = j.client.connected.is_set()
                        if up[name]:
                            welcomed[name].append(now)
                    if id(j.bridge.client) != new_peer[name]:        # a new peer made: the old one closed
                        new_peer[name] = id(j.bridge.client)
                        renegotiating[name].append(now)
                    if j.bridge.connects != connects[name]:          # it offered again (after a reconnect)
                        connects[name] = j.bridge.connects
                        offers[name].append(now)
                    cur = (id(j.bridge.client), _frames(j, slot))
                    if cur != prev[name]:
                        if cur[1] > (prev[name][1] if cur[0] == prev[name][0] else 0):   # a new peer counts from 0
                            seen[name].append((now, cur[1], j.bridge.connects))
                        prev[name] = cur
                await asyncio.sleep(SAMPLE_S)
            conn.send({"frames": {name: [list(x) for x in v] for name, v in seen.items()}, "offers": offers,
                       "reconnects": welcomes, "new_peer": renegotiating, "welcomed": welcomed,
                       "seq_gaps": {name: _gaps(j, slot)[1] - gaps_at[name][1] for name, j in joined.items()
                                    if _gaps(j, slot)[0] == gaps_at[name][0]},
                       "sampler_max_period_s": round(period, 3)})
    for j in joined.values():
        await j.close()
    conn.send("closed")


def _gaps(joined: Any, slot: str) -> tuple[int, int]:
    """(which peer, the RTP sequence gaps its ``slot`` saw so far): losses, on the same peer only."""
    counter = joined.bridge.client.counters.get(slot)
    return id(joined.bridge.client), int(counter.gaps) if counter is not None else 0


def _frames(joined: Any, slot: str) -> int:
    counter = joined.bridge.client.counters.get(slot)
    return int(counter.frames) if counter is not None else 0


# -- the run ----------------------------------------------------------------------------------

def serve(port: int, data: Path, redis: str, workers: int = 0) -> subprocess.Popen[bytes]:
    data.mkdir(parents=True, exist_ok=True)
    log = open(data / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "server.tools.cli", "serve", "--port", str(port), "--data-dir",
                             str(data), "--redis", redis, "--demo", "--media-address", "127.0.0.1",
                             "--media-workers", str(workers)],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, preexec_fn=raise_nofile)
    wait_http(f"http://127.0.0.1:{port}/healthz", 60)
    return proc


def _rate(incs: list[list[float]], start: float, end: float) -> float:
    """Program frames per second a site counted between ``start`` and ``end`` (one peer)."""
    got = [f for t, f, _ in incs if start <= t <= end]
    return round((got[-1] - got[0]) / (end - start), 2) if len(got) > 1 else 0.0


def spread(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    v = sorted(values)
    return {"n": len(v), "p50": round(v[len(v) // 2], 3), "p95": round(v[min(len(v) - 1, int(len(v) * 0.95))], 3),
            "max": round(v[-1], 3)}


LOG_DIR: list[Path] = []


def start_group(links: list[tuple[str, str]], publish: bool) -> tuple[Any, Any]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    log_file = str(LOG_DIR[0] / f"sites-{links[0][0]}.log") if LOG_DIR else ""
    proc = ctx.Process(target=sites_main, args=(child, links, publish, log_file), daemon=True)
    proc.start()
    return proc, parent


async def recv(conn: Any, timeout: float) -> Any:
    loop = asyncio.get_running_loop()
    if not await loop.run_in_executor(None, conn.poll, timeout):
        raise TimeoutError("a site process did not answer")
    return conn.recv()


SAMPLER: list[float] = []
SEQ_GAPS: dict[str, int] = {}            # site -> RTP sequence gaps on its program during the window (same peer)
WELCOMED: dict[str, list[float]] = {}     # site -> when its WebSocket was welcomed again
NEW_PEER: dict[str, list[float]] = {}     # site -> when its new peer was made (the old one closed)
RECONNECTS: dict[str, list[float]] = {}   # site -> when its WebSocket reconnect began (the failover window)     # the longest pause of any site process's sampler (the figures' resolution)


async def record(groups: list[Any], slot: str, seconds: float,
                 offers: dict[str, list[float]] | None = None) -> dict[str, list[list[float]]]:
    """Every frame increase of ``slot`` at every site for ``seconds``: {site: [[time, frames, connects]]}."""
    for _, conn in groups:
        conn.send(("record", slot, seconds))
    out: dict[str, list[list[float]]] = {}
    for _, conn in groups:
        got = await recv(conn, seconds + 60)
        out.update(got["frames"])
        SAMPLER.append(got["sampler_max_period_s"])
        if offers is not None:
            offers.update(got["offers"])
            RECONNECTS.update(got["reconnects"])
            NEW_PEER.update(got["new_peer"])
            WELCOMED.update(got["welcomed"])
            SEQ_GAPS.update(got["seq_gaps"])
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-media-cluster-"))
    LOG_DIR.append(tmp)
    redis_port = free_port()
    redis_proc = start_redis(redis_port, tmp / "redis")
    redis = f"redis://127.0.0.1:{redis_port}/0"
    pa, pb = free_port(), free_port()
    procs = {"A": serve(pa, tmp / "a", redis, args.media_workers)}
    procs["B"] = serve(pb, tmp / "b", redis, args.media_workers)
    base_a, base_b = f"http://127.0.0.1:{pa}", f"http://127.0.0.1:{pb}"
    lb = await Balancer([pa, pb]).start()
    groups: list[Any] = []
    password = (tmp / "a" / "demo-password.txt").read_text().strip()
    admin = await ApiClient.login(base_a, "admin", password)
    chair = await ApiClient.login(base_a, "chutri", password)
    try:
        rows = (await admin.call("GET", f"/conferences/{CONF}/links"))["links"]
        wards = sorted(r["site"] for r in rows if r["site"] != demo.MAIN)
        extra = max(0, args.sites + 2 - len(wards))
        if extra:   # more sites than the demo has: register and invite them before the conference opens
            codes = [f"BENCH-{i:04d}" for i in range(extra)]
            for code in codes:
                await admin.call("POST", "/sites", {"code": code, "name": f"Điểm cầu thử {code}"})
            await admin.call("POST", f"/conferences/{CONF}/commands", {"type": "invite_sites", "codes": codes})
            rows = (await admin.call("GET", f"/conferences/{CONF}/links"))["links"]
            wards = sorted(r["site"] for r in rows if r["site"] != demo.MAIN)
        tokens = {r["site"]: link_parts(r["url"])[2] for r in rows}
        await chair.call("POST", f"/conferences/{CONF}/commands", {"type": "open_conference"})
        speaker_a, speaker_b, *sites = wards[:args.sites + 2]
        half = len(sites) // 2
        on_a, on_b = sites[:half], sites[half:]

        def link(site: str, base: str) -> str:
            return f"{base}/join/{tokens[site]}"

        lb.prefer(pb)
        publishers = start_group([(demo.MAIN, link(demo.MAIN, lb.base_url))], True)   # the main bridge on B
        await recv(publishers[1], 60)
        lb.prefer(pa)
        speakers_a = start_group([(speaker_a, link(speaker_a, lb.base_url))], True)
        await recv(speakers_a[1], 60)
        speakers_b = start_group([(speaker_b, link(speaker_b, base_b))], True)
        await recv(speakers_b[1], 60)
        per = max(1, args.per_process)
        t_join = time.monotonic()
        for i in range(0, len(on_a), per):
            groups.append(start_group([(s, link(s, lb.base_url)) for s in on_a[i:i + per]], False))
        for i in range(0, len(on_b), per):
            groups.append(start_group([(s, link(s, base_b)) for s in on_b[i:i + per]], False))
        for _, conn in groups:
            await recv(conn, 300)
        joined_s = time.monotonic() - t_join
        assert set(lb.chosen[1:]) == {pa}, "the balancer must have put A's sites on A"
        await asyncio.sleep(3.0)     # the program reaches everyone

        # 1. floor handovers across processes
        handover: dict[str, list[float]] = {"all": [], "other_process": [], "missed": []}
        for n in range(args.handovers):
            speaker, home = (speaker_a, on_a) if n % 2 == 0 else (speaker_b, on_b)
            task = asyncio.ensure_future(record(groups, "speaker-0/video", args.window))
            await asyncio.sleep(0.5)
            t0 = time.time()
            await chair.call("POST", f"/conferences/{CONF}/commands", {"type": "give_floor", "site": speaker})
            seen = await task
            for name, incs in seen.items():
                first = next((t for t, _, _ in incs if t > t0), None)
                if first is None:
                    handover["missed"].append(1)
                    continue
                handover["all"].append(first - t0)
                if name not in home:
                    handover["other_process"].append(first - t0)
            await chair.call("POST", f"/conferences/{CONF}/commands", {"type": "revoke_floor", "site": speaker})
            await asyncio.sleep(1.0)

        # 2. failover: kill -9 of A
        offered: dict[str, list[float]] = {}
        task = asyncio.ensure_future(record(groups, "program/video", args.failover_window, offered))
        await asyncio.sleep(2.0)
        t_kill = time.time()
        cpu_b = cpu_seconds(procs["B"].pid)
        moved = [proc.pid for proc, _ in groups[:(len(on_a) + per - 1) // per]]     # the site processes of A's sites
        cpu_sites = sum(cpu_seconds(pid) for pid in moved)
        os.kill(procs["A"].pid, signal.SIGTERM if args.stop == "term" else signal.SIGKILL)
        await asyncio.sleep(10.0)
        cpu_b = (cpu_seconds(procs["B"].pid) - cpu_b) / 10.0
        cpu_sites = (sum(cpu_seconds(pid) for pid in moved) - cpu_sites) / 10.0
        seen = await task
        t_end = t_kill + args.failover_window - 2.0
        with urllib.request.urlopen(f"{base_b}/metrics", timeout=10) as resp:    # what B refused or closed meanwhile
            refusals = [line for line in resp.read().decode().splitlines()
                        if line.startswith(("bridgeconf_errors_total", "bridgeconf_ws_closes_total",
                                            "bridgeconf_commands_total")) and not line.endswith(" 0.0")]
        back: list[float] = []
        reoffer = [offered[name][0] - t_kill for name in on_a if offered.get(name)]
        never = 0
        for name in on_a:
            incs = seen.get(name, [])
            before = max((c for t, _, c in incs if t <= t_kill), default=None)
            first = next((t for t, _, c in incs if t > t_kill and (before is None or c > before)), None)
            if first is None:
                never += 1
            else:
                back.append(first - t_kill)
        gaps: list[float] = []
        before_rates: list[float] = []
        after_rates: list[float] = []
        for name in on_b:
            incs = seen.get(name, [])
            times = [t_kill - 1.0] + [t for t, _, _ in incs if t >= t_kill - 1.0] + [t_end]
            gaps.append(max(b - a for a, b in zip(times, times[1:], strict=False)))
            before_rates.append(_rate(incs, t_kill - 2.0, t_kill))
            after_rates.append(_rate(incs, t_kill, t_end))
        return {
            "sites": len(sites), "on_a": len(on_a), "on_b": len(on_b), "join_seconds": round(joined_s, 1),
            "stop": args.stop,
            "handover_grant_to_first_frame_s": {k: spread(v) for k, v in handover.items() if k != "missed"}
            | {"missed": len(handover["missed"]), "rounds": args.handovers, "goal_p95_s": 1.0},
            "failover": {"program_back_s": spread(back), "never_back": never, "goal_p95_s": 5.0,
                         "socket_dropped_s": spread([RECONNECTS[n][0] - t_kill for n in on_a if RECONNECTS.get(n)]),
                         "welcomed_again_s": spread([WELCOMED[n][0] - t_kill for n in on_a if WELCOMED.get(n)]),
                         "new_peer_made_s": spread([NEW_PEER[n][0] - t_kill for n in on_a if NEW_PEER.get(n)]),
                         "offered_again_s": spread(reoffer), "b_cpu_cores_10s_after_kill": round(cpu_b, 2),
                         "moved_sites_processes_cpu_cores_10s_after_kill": round(cpu_sites, 2),
                         "moved_sites_processes": len(moved),
                         "survivors_longest_gap_s": spread(gaps),
                         "survivors_rtp_sequence_gaps": sum(SEQ_GAPS.get(n, 0) for n in on_b),
                         "survivors_frames_per_s_before_kill": spread(before_rates),
                         "survivors_frames_per_s_after_kill": spread(after_rates), "publisher_fps": FPS},
            "b_refusals_and_closes": refusals,
            "balancer_after_kill": {"connections": len(after := [x for x in lb.timeline if x[0] >= t_kill]),
                                    "to_b": sum(1 for x in after if x[1] == pb),
                                    "reach_backend_s": spread([x[2] for x in after]),
                                    "accepted_s": spread([x[0] - t_kill for x in after])},
            "sampler_max_period_s": max(SAMPLER, default=None), "loadavg": loadavg(), "cpus": os.cpu_count(),
            "logs": str(tmp), "t_kill": t_kill,
        }
    finally:
        for proc, conn in [*groups, *(g for g in (locals().get("publishers"), locals().get("speakers_a"),
                                                   locals().get("speakers_b")) if g)]:
            try:
                conn.send(("stop",))
                await recv(conn, 20)
            except (OSError, TimeoutError, EOFError, BrokenPipeError):
                pass
            proc.kill()
        await lb.close()
        await admin.close()
        await chair.close()
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        redis_proc.terminate()
        redis_proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", type=int, default=100, help="viewing sites, half on each process (default 100)")
    ap.add_argument("--per-process", type=int, default=25, help="sites per load process (default 25)")
    ap.add_argument("--handovers", type=int, default=4, help="floor handovers across processes (default 4)")
    ap.add_argument("--window", type=float, default=4.0, help="seconds watched after each grant (default 4)")
    ap.add_argument("--media-workers", type=int, default=0, help="serve --media-workers of A and B (default 0)")
    ap.add_argument("--failover-window", type=float, default=15.0, help="seconds watched around the kill (default 15)")
    ap.add_argument("--stop", choices=("kill", "term"), default="kill",
                    help="how A is stopped: kill -9 (default) or SIGTERM (a graceful stop: it leaves the board and "
                         "closes its pages 1001 at once)")
    args = ap.parse_args()
    if not 2 <= args.sites <= 400:
        ap.error("--sites must be 2..400")
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
