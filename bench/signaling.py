"""Signaling fan-out benchmark: N pages on loopback follow one conference; the chair sends
commands; we measure how long the first and the last page take to receive each event, and
what it costs: the server's own CPU per delivered message, the load clients' CPU per received
message, RSS per connection, and whether the load clients (not the server) were the limit.

    python bench/signaling.py                                   # N = 200, 1000, 5000, 10000; SQLite and Redis x2
    python bench/signaling.py --sizes 200 1000 --backends sqlite --baseline
    python bench/signaling.py --sizes 10000 --backends sqlite --profile /tmp/prof

Pages are spread over the demo's 126 site join links (several pages per site, as when cadres
follow on their own screens) and over the load processes (bench/wsload.py: a raw
asyncio.Protocol WebSocket client, ~4x cheaper per message than aiohttp's ws_connect).
``--baseline`` also runs bench/floor_server.py, a minimal plain-aiohttp fan-out (one frame
built once, written to every transport), with the same clients at the same sizes, so that the
comparison with the floor holds on a shared machine. Prints one JSON object (each row also
goes to stderr as it is measured).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    cpu_seconds,
    free_port,
    kernel_threads_cpu,
    loadavg,
    machine_cpu,
    raise_nofile,
    rss_bytes,
    start_floor,
    start_redis,
    start_server,
)
from bench.wsload import load_main  # noqa: E402

LOAD_PROCESSES = 2        # 2 measured cheaper than 3 on 2 cores (fewer processes contending)
CLIENT_MODE = "kernel"    # bench/wsload.py: "kernel" (receipt = SO_TIMESTAMPNS), "raw", "protocol"
CLIENT_NICE = 0
SERVER_ARGS: list[str] = []   # e.g. ["--heartbeat", "15"] (--heartbeat S)
EVENTS = 40
INTERVAL_S = 0.5          # between events; 1 s at 10,000 pages (see interval())
CONF = "so-ket-quy-3"
PROFILE = ""              # a folder for py-spy profiles of the server (--profile DIR)
PROFILE_NATIVE = False    # --profile-native: C frames too (the GC, the kernel's calls); pauses the server to sample
PROFILE_RATE = 100        # --profile-rate: py-spy's samples per second
SATURATED_PROCESS = 0.8   # a load process busier than this share of a core over the window
SATURATED_SUM = 1.8       # all processes of the run together, in cores (the machine has 2)


@dataclass
class Target:
    """What a run measures: server processes, the pages to open, and how to send an event."""

    name: str
    pids: list[int]
    pages: list[tuple[str, int, dict[str, Any]]]
    command: Callable[[int], Awaitable[int]]          # i -> the seq of the event it made
    settle: Callable[[], Awaitable[None]]
    close: Callable[[], Awaitable[None]]
    other_pids: dict[str, int] = field(default_factory=dict)   # e.g. redis-server: counted, not the server


def interval(n: int) -> float:
    """Time between the chair's commands: the load clients must have read one event on every
    page (~40 µs of their CPU each, mostly the kernel's) before the server fans out the next."""
    return max(INTERVAL_S, n / 10_000)


def _hostport(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


# -- the targets -----------------------------------------------------------------------------

async def ours(n: int, backend: str, tmp: Path) -> Target:
    from server.tools.client import ApiClient, BridgeClient
    procs: list[subprocess.Popen[bytes]] = []
    redis = None
    clients: list[Any] = []

    async def close() -> None:
        for c in clients:
            with contextlib.suppress(Exception):
                await c.close()
        for p in procs:
            p.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(10)
            if p.poll() is None:
                p.kill()
        if redis is not None:
            redis.terminate()
            redis.wait(10)

    try:
        extra: list[str] = []
        if backend == "redis":
            rport = free_port()
            redis = start_redis(rport, tmp / f"redis-{n}")
            extra = ["--redis", f"redis://127.0.0.1:{rport}/0"]
        data = tmp / f"data-{backend}-{n}"
        port_a = free_port()
        extra += SERVER_ARGS
        procs.append(start_server(port_a, data, "--demo", *extra, log=tmp / f"server-{backend}-{n}.log"))
        bases = [f"http://127.0.0.1:{port_a}"]
        if backend == "redis":
            port_b = free_port()
            procs.append(start_server(port_b, tmp / f"data-{backend}-{n}-b", *extra,
                                      log=tmp / f"server-{backend}-{n}-b.log"))
            bases.append(f"http://127.0.0.1:{port_b}")
        password = (data / "demo-password.txt").read_text().strip()
        admin = await ApiClient.login(bases[0], "admin", password)
        clients.append(admin)
        links = (await admin.call("GET", f"/conferences/{CONF}/links"))["links"]
        tokens = [link["url"].rsplit("/", 1)[1] for link in links]
        chair_api = await ApiClient.login(bases[-1], "chutri", password)
        clients.append(chair_api)
        chair = await BridgeClient(bases[-1], CONF, chair_api.token).connect()
        clients.insert(0, chair)
        await chair.command("open_conference")
        sites = list(chair.state.sites)
        await asyncio.sleep(0.5)
        last_seq = chair.last_seq
        pages = []
        for i in range(n):
            host, port = _hostport(bases[i % len(bases)])
            pages.append((host, port, {"conference": CONF, "token": tokens[i % len(tokens)],
                                       "last_seq": last_seq, "snapshot": False}))
    except BaseException:
        await close()
        raise

    async def command(i: int) -> int:
        ack = await chair.command("check_in", site=sites[1 + i % (len(sites) - 1)], headcount=50 + i)
        return int(ack.seq)

    async def settle() -> None:      # the presence events of the pages that joined have all come
        await chair.wait_seq(chair.last_seq)

    name = "sqlite" if backend == "sqlite" else "redis+2 processes"
    return Target(name, [p.pid for p in procs], pages, command, settle, close,
                  {"redis-server": redis.pid} if redis is not None else {})


async def floor(n: int, tmp: Path) -> Target:
    import aiohttp
    port = free_port()
    proc = start_floor(port, log=tmp / f"floor-{n}.log")
    session = aiohttp.ClientSession()
    base = f"http://127.0.0.1:{port}"

    async def command(i: int) -> int:
        async with session.post(base + "/event") as resp:
            return int((await resp.json())["seq"])

    async def settle() -> None:
        return None

    async def close() -> None:
        await session.close()
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        if proc.poll() is None:
            proc.kill()

    pages = [("127.0.0.1", port, {"conference": CONF, "token": "floor", "last_seq": 0}) for _ in range(n)]
    return Target("floor (plain aiohttp)", [proc.pid], pages, command, settle, close)


# -- one run ----------------------------------------------------------------------------------

async def _recv(conn: Any, timeout: float) -> Any:
    loop = asyncio.get_running_loop()
    if not await loop.run_in_executor(None, conn.poll, timeout):
        raise TimeoutError(f"a load process did not answer within {timeout:.0f} s")
    return conn.recv()


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += cpu_seconds(pid)
    return total


async def measure(target: Target, n: int, load_processes: int) -> dict[str, Any]:  # noqa: PLR0915
    load0 = loadavg()
    started_at = time.strftime("%Y-%m-%d %H:%M:%S")
    pids = target.pids
    others = list(target.other_pids.values())
    rss0 = sum(rss_bytes(pid) for pid in pids)
    ctx = mp.get_context("spawn")
    conns, workers = [], []
    try:
        t0 = time.monotonic()
        for k in range(load_processes):
            parent, child = ctx.Pipe()
            w = ctx.Process(target=load_main, args=(child, target.pages[k::load_processes], CLIENT_MODE, CLIENT_NICE),
                           daemon=True)
            w.start()
            conns.append(parent)
            workers.append(w)
        hello = [await _recv(c, 60 + n / 20) for c in conns]
        connect_s = time.monotonic() - t0
        loads = [h["pid"] for h in hello]
        await asyncio.sleep(1.0 + n / 5000)      # presence events settle
        await asyncio.wait_for(target.settle(), 60)
        rss1 = sum(rss_bytes(pid) for pid in pids)

        gap = interval(n)
        window = EVENTS * gap + 1.0 + n / 2000
        me = [os.getpid()]
        # the same window without events: liveness pings and pongs, idle loops
        idle0 = (_cpu(pids), [_cpu([p]) for p in loads])
        await asyncio.sleep(window)
        idle_server = _cpu(pids) - idle0[0]
        idle_loads = [_cpu([p]) - c for p, c in zip(loads, idle0[1], strict=True)]

        spy = None
        if PROFILE:
            Path(PROFILE).mkdir(parents=True, exist_ok=True)
            tag = target.name.split()[0].replace("+", "-")
            spy_bin = str(Path(sys.executable).parent / "py-spy")
            spy = subprocess.Popen([spy_bin, "record", "-p", str(pids[0]), "-d", str(int(EVENTS * gap) + 1), "-r", str(PROFILE_RATE),
                                    *(["--native"] if PROFILE_NATIVE else ["--nonblocking"]), "--threads", "-f", "raw",
                                    "-o", str(Path(PROFILE) / f"signaling-{tag}-{n}.txt")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        m0, k0 = machine_cpu(), kernel_threads_cpu()
        s0_each, l0, o0, me0 = [_cpu([p]) for p in pids], [_cpu([p]) for p in loads], _cpu(others), _cpu(me)
        w0 = time.monotonic()
        sent: dict[int, float] = {}
        for i in range(EVENTS):
            t = time.monotonic()
            seq = await target.command(i)
            sent[seq] = t
            await asyncio.sleep(max(0.0, t + gap - time.monotonic()))
        await asyncio.sleep(1.0 + n / 2000)
        wall = time.monotonic() - w0
        server_cpu_each = [_cpu([p]) - c for p, c in zip(pids, s0_each, strict=True)]
        server_cpu = sum(server_cpu_each)
        load_cpu = [_cpu([p]) - c for p, c in zip(loads, l0, strict=True)]
        other_cpu = _cpu(others) - o0
        me_cpu = _cpu(me) - me0
        m1, k1 = machine_cpu(), kernel_threads_cpu()
        load1 = loadavg()
        if spy is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                spy.wait(60)

        for c in conns:
            c.send("stop")
        results = [await _recv(c, 120) for c in conns]
    finally:
        for w in workers:
            w.join(10)
            if w.is_alive():
                w.terminate()
        await target.close()

    merged: dict[int, list[float]] = {}
    per_load_msgs = []
    untimed = 0
    for r in results:
        got = 0
        for seq, (count, first, last, _size, not_timed) in r["receipts"].items():
            if seq not in sent:
                continue
            got += count
            untimed += not_timed
            m = merged.setdefault(seq, [0, float("inf"), 0.0])
            m[0] += count
            m[1] = min(m[1], first)
            m[2] = max(m[2], last)
        per_load_msgs.append(got)
    sizes = [r["receipts"][s][3] for r in results for s in sent if s in r["receipts"]]
    timed = [s for s in sent if s in merged and merged[s][2] > 0]     # kernel mode: see bench/wsload.py
    lat_last = sorted((merged[s][2] - sent[s]) * 1000 for s in timed)
    lat_first = sorted((merged[s][1] - sent[s]) * 1000 for s in timed)
    delivered = sum(merged[s][0] for s in sent if s in merged)
    complete = sum(1 for s in sent if s in merged and merged[s][0] == n)
    events = max(len(sent), 1)

    load_cores = [c / wall for c in load_cpu]
    all_cores = (server_cpu + sum(load_cpu) + other_cpu + me_cpu) / wall
    machine = {k: round((m1[k] - m0[k]) / wall, 2) for k in m0}
    # kernel mode: did a load process read while the server was fanning an event out?
    reads = [span for r in results for span in r.get("reads", [])]
    overlapped = sum(1 for s in timed if any(a < merged[s][2] and b > sent[s] for a, b in reads))
    p50_last = statistics.median(lat_last) if lat_last else float("nan")
    return {
        "server": target.name, "pages": n, "started": started_at,
        "loadavg_start": load0, "loadavg_end": load1,
        "load_processes": load_processes, "client_mode": CLIENT_MODE, "client_nice": CLIENT_NICE,
        "server_args": SERVER_ARGS if target.name != "floor (plain aiohttp)" else [],
        "connected": sum(h["connected"] for h in hello), "connect_failed": sum(h["failed"] for h in hello),
        "connect_s": round(connect_s, 1),
        "pages_dropped": sum(r["dropped"] for r in results),
        "close_codes": _sum_dicts(r["close_codes"] for r in results),
        "events": len(sent), "events_complete": complete, "messages_delivered": delivered,
        "frame_bytes": max(sizes) if sizes else 0,
        "first_page_ms_p50": round(statistics.median(lat_first), 1) if lat_first else None,
        "last_page_ms": {"p50": round(p50_last, 1), "p99": round(_pct(lat_last, 0.99), 1),
                         "max": round(lat_last[-1], 1)} if lat_last else None,
        "last_page_ms_each": [round((merged[s][2] - sent[s]) * 1000) for s in sorted(timed)],
        "server_cpu_us_per_message": round(server_cpu / max(delivered, 1) * 1e6, 2),
        "server_cpu_us_per_message_net_of_idle": round((server_cpu - idle_server) / max(delivered, 1) * 1e6, 2),
        "server_cpu_ms_per_event": round(server_cpu / events * 1e3, 1),
        "server_cpu_s": round(server_cpu, 2), "server_cpu_s_each": [round(c, 2) for c in server_cpu_each],
        "server_cpu_idle_s": round(idle_server, 2),
        "other_cpu_s": {"+".join(target.other_pids): round(other_cpu, 2)} if target.other_pids else None,
        "client_cpu_us_per_message": [round(c / max(m, 1) * 1e6, 2) for c, m in zip(load_cpu, per_load_msgs, strict=True)],
        "client_cpu_us_per_message_net_of_idle": [round((c - i) / max(m, 1) * 1e6, 2)
                                                  for c, i, m in zip(load_cpu, idle_loads, per_load_msgs, strict=True)],
        "client_cpu_ms_per_event": [round(c / events * 1e3, 1) for c in load_cpu],
        "pings_answered": sum(r["pings"] for r in results),
        "receipts_untimed": untimed,
        "interval_s": gap, "window_s": round(wall, 1),
        "cores_busy": {"server": round(server_cpu / wall, 2), "load_processes": [round(c, 2) for c in load_cores],
                       "all_of_this_run": round(all_cores, 2), "whole_machine": machine["busy"],
                       "softirq": machine["softirq"], "ksoftirqd": round((k1 - k0) / wall, 2),
                       "steal": machine["steal"]},
        "server_busy_share_of_fanout": round((server_cpu - idle_server) / events / len(pids) / (p50_last / 1e3), 2)
        if lat_last else None,
        "events_with_client_reads_during_fanout": overlapped if CLIENT_MODE == "kernel" else None,
        "clients_saturated": any(c > SATURATED_PROCESS for c in load_cores) or all_cores > SATURATED_SUM,
        # within the bursts rather than over the window: receipts timed by the clients' reading while the
        # server sat idle for half the fan-out, or clients reading during 10 % of the fan-outs (kernel mode)
        "latency_bound_by_clients": (overlapped > 0.1 * len(timed)) if CLIENT_MODE == "kernel" else
        bool(lat_last) and (server_cpu - idle_server) / events / len(pids) / (p50_last / 1e3) < 0.7,
        "rss_per_connection_kb": round((rss1 - rss0) / n / 1024, 1),
    }


NOTE = ("latency: from just before the chair's command (floor: its HTTP POST) to the first / last page's "
        "receipt (client_mode kernel: when the bytes reached the page's socket, SO_TIMESTAMPNS; protocol/raw: "
        "when the load process read them), 0.5 s between events (1 s at 10,000 pages); p99 of 40 events is "
        "their second-worst. Server CPU "
        "is user+sys of the server process(es) over the window of events divided by messages delivered; "
        "'net of idle' subtracts the same window without events (liveness pings and pongs, idle loops). "
        "Client CPU likewise per load process, per message it received. clients_saturated: a load process "
        "above 0.8 of a core over the window, or this run's processes together above 1.8 cores (the machine "
        "has 2) — an average over the window, blind to bursts: latency_bound_by_clients looks at the bursts "
        "(protocol/raw modes: the server busy for less than 0.7 of the last page's p50; kernel mode: clients read "
        "during more than 10 % of the fan-outs). server_busy_share_of_fanout: server CPU per event net of idle (per server process) over the last "
        "page's p50: near 1 means the latency is the server's own CPU time for the fan-out; well below 1, "
        "the server waited (for a core, its store, or other processes). whole_machine counts other users' "
        "work too; steal is CPU the hypervisor gave to other machines.")


def _sum_dicts(dicts: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[str(k)] = out.get(str(k), 0) + v
    return out


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


async def main() -> None:
    global PROFILE, PROFILE_NATIVE, PROFILE_RATE, EVENTS, CLIENT_MODE, CLIENT_NICE
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 5000, 10000])
    parser.add_argument("--backends", nargs="*", default=["sqlite", "redis"], choices=["sqlite", "redis"])
    parser.add_argument("--baseline", action="store_true", help="also run bench/floor_server.py at each size")
    parser.add_argument("--load-processes", type=int, default=LOAD_PROCESSES)
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--client-mode", default=CLIENT_MODE, choices=["kernel", "raw", "protocol"],
                        help="how the load clients read and time receipts (bench/wsload.py)")
    parser.add_argument("--no-ack-liveness", action="store_true",
                        help="serve --no-ack-liveness: ping every silent page, whether or not events were written to it "
                        "recently (its kernel's TCP_USER_TIMEOUT; the server's default is on)")
    parser.add_argument("--heartbeat", type=float, default=None, metavar="S",
                        help="the servers' liveness heartbeat (serve --heartbeat; default: the server's)")
    parser.add_argument("--client-nice", type=int, default=CLIENT_NICE, help="nice value of the load processes")
    parser.add_argument("--tmp", metavar="DIR", default="", help="keep server logs and data here")
    parser.add_argument("--profile", metavar="DIR", default="", help="write py-spy profiles of the server here")
    parser.add_argument("--profile-native", action="store_true", help="with --profile: native frames too")
    parser.add_argument("--profile-rate", type=int, default=PROFILE_RATE, help="with --profile: samples per second")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio", help="the servers' event loop")
    args = parser.parse_args()
    PROFILE, PROFILE_NATIVE, PROFILE_RATE, EVENTS = args.profile, args.profile_native, args.profile_rate, args.events
    CLIENT_MODE, CLIENT_NICE = args.client_mode, args.client_nice
    if args.heartbeat is not None:
        SERVER_ARGS[:] = ["--heartbeat", str(args.heartbeat)]
    SERVER_ARGS.extend(["--loop", args.loop])
    if args.no_ack_liveness:
        SERVER_ARGS.append("--no-ack-liveness")
    raise_nofile()
    out = []
    with (contextlib.nullcontext(args.tmp) if args.tmp else tempfile.TemporaryDirectory()) as d:
        tmp = Path(d)
        tmp.mkdir(parents=True, exist_ok=True)
        for n in args.sizes:
            runs: list[tuple[str, Callable[[], Awaitable[Target]]]] = []
            if args.baseline:
                runs.append(("floor", lambda n=n: floor(n, tmp)))
            for backend in args.backends:
                runs.append((backend, lambda n=n, b=backend: ours(n, b, tmp)))
            for label, make in runs:
                try:
                    res = await measure(await make(), n, args.load_processes)
                except Exception as exc:    # one failed run does not lose the others
                    res = {"server": label, "pages": n, "error": f"{type(exc).__name__}: {exc}"}
                print(json.dumps(res, ensure_ascii=False), file=sys.stderr, flush=True)
                out.append(res)
    print(json.dumps({"benchmark": "signaling", "loop": args.loop, "note": NOTE, "results": out}, ensure_ascii=False,
                     indent=1))


if __name__ == "__main__":
    asyncio.run(main())
