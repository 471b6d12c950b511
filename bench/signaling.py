"""Signaling fan-out benchmark: N pages on loopback follow one conference; the chair sends
commands; we measure how long the last page takes to receive each event, and what the
server pays for it (its own CPU per delivered message, RSS per connection).

    python bench/signaling.py                       # N = 200, 1000, 5000, 10000; SQLite and Redis x2
    python bench/signaling.py --sizes 200 1000 --backends sqlite

Pages are spread over the demo's 126 site join links (several pages per site, as when
cadres follow on their own screens) and over 3 load processes. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import cpu_seconds, free_port, raise_nofile, rss_bytes, start_redis, start_server  # noqa: E402

LOAD_PROCESSES = 3
EVENTS = 20
INTERVAL_S = 0.5
CONF = "so-ket-quy-3"
PROFILE = ""   # a folder for py-spy profiles of the server (--profile DIR)


# -- load process ---------------------------------------------------------------------------

def load_main(conn: Any, pages: list[tuple[str, str]], last_seq: int) -> None:
    raise_nofile()
    asyncio.run(_load(conn, pages, last_seq))


async def _load(conn: Any, pages: list[tuple[str, str]], last_seq: int) -> None:
    import aiohttp
    receipts: dict[int, list[float]] = {}    # seq -> [count, first, last]
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=False))
    started = time.monotonic()
    sem = asyncio.Semaphore(200)

    seq_re = re.compile(r'"seq":(\d+)')
    readers: list[asyncio.Task[None]] = []

    async def read(ws: Any) -> None:
        async for msg in ws:
            t = time.time()
            m = seq_re.search(msg.data, 0, 40)
            if m is None:
                continue
            r = receipts.get(int(m.group(1)))
            if r is None:
                receipts[int(m.group(1))] = [1, t, t]
            else:
                r[0] += 1
                r[2] = max(r[2], t)

    async def open_page(base: str, token: str) -> Any:
        async with sem:
            for attempt in range(5):
                try:
                    ws = await session.ws_connect(base + "/ws", max_msg_size=0, compress=0, autoping=True,
                                                  timeout=aiohttp.ClientWSTimeout(ws_close=5))
                    await ws.send_str(json.dumps({"type": "hello", "conference": CONF, "token": token,
                                                  "last_seq": last_seq, "snapshot": False}))
                    msg = await ws.receive(timeout=60)
                    assert '"welcome"' in msg.data, msg.data[:200]
                    readers.append(asyncio.create_task(read(ws)))   # read at once: pings need answers
                    return ws
                except (TimeoutError, aiohttp.ClientError, OSError):
                    await asyncio.sleep(0.2 * (attempt + 1))
            raise RuntimeError("could not connect a page")

    sockets = await asyncio.gather(*(open_page(b, t) for b, t in pages))
    connect_s = time.monotonic() - started
    conn.send({"connected": len(sockets), "connect_s": connect_s})
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, conn.recv)      # "stop"
    conn.send({"receipts": receipts, "dropped": sum(1 for ws in sockets if ws.closed)})
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    await session.close()


# -- one run ----------------------------------------------------------------------------------

async def run(n: int, backend: str, tmp: Path) -> dict[str, Any]:
    from server.client import ApiClient, BridgeClient
    procs = []
    redis = None
    port_a = free_port()
    try:
        extra: list[str] = []
        if backend == "redis":
            rport = free_port()
            redis = start_redis(rport, tmp / f"redis-{n}")
            extra = ["--redis", f"redis://127.0.0.1:{rport}/0"]
        data = tmp / f"data-{backend}-{n}"
        procs.append(start_server(port_a, data, "--demo", *extra, log=tmp / f"server-{backend}-{n}.log"))
        bases = [f"http://127.0.0.1:{port_a}"]
        if backend == "redis":
            port_b = free_port()
            procs.append(start_server(port_b, tmp / f"data-{backend}-{n}-b", *extra, log=tmp / f"server-{backend}-{n}-b.log"))
            bases.append(f"http://127.0.0.1:{port_b}")
        password = (data / "demo-password.txt").read_text().strip()
        admin = await ApiClient.login(bases[0], "admin", password)
        links = (await admin.call("GET", f"/conferences/{CONF}/links"))["links"]
        tokens = [link["url"].rsplit("/", 1)[1] for link in links]
        chair_api = await ApiClient.login(bases[-1], "chutri", password)
        chair = await BridgeClient(bases[-1], CONF, chair_api.token).connect()
        await chair.command("open_conference")
        sites = list(chair.state.sites)
        await asyncio.sleep(0.5)
        last_seq = chair.last_seq
        pages = [(bases[i % len(bases)], tokens[i % len(tokens)]) for i in range(n)]
        pids = [p.pid for p in procs]
        rss0 = sum(rss_bytes(pid) for pid in pids)

        ctx = mp.get_context("spawn")
        conns, workers = [], []
        t0 = time.monotonic()
        for k in range(LOAD_PROCESSES):
            parent, child = ctx.Pipe()
            w = ctx.Process(target=load_main, args=(child, pages[k::LOAD_PROCESSES], last_seq), daemon=True)
            w.start()
            conns.append(parent)
            workers.append(w)
        loop = asyncio.get_running_loop()
        hello = [await loop.run_in_executor(None, c.recv) for c in conns]
        connect_s = time.monotonic() - t0
        await asyncio.sleep(1.0 + n / 5000)      # presence events settle
        await chair.wait_seq(chair.last_seq)
        rss1 = sum(rss_bytes(pid) for pid in pids)

        window = EVENTS * INTERVAL_S + 1.0 + n / 2000
        idle0 = sum(cpu_seconds(pid) for pid in pids)
        await asyncio.sleep(window)          # the same window without events: heartbeats, idle loop
        idle = sum(cpu_seconds(pid) for pid in pids) - idle0
        cpu0 = sum(cpu_seconds(pid) for pid in pids)
        spy = None
        if PROFILE:
            import subprocess
            spy = subprocess.Popen(["py-spy", "record", "-p", str(pids[0]), "-d", str(int(EVENTS * INTERVAL_S) + 1),
                                    "-f", "raw", "-o", str(Path(PROFILE) / f"signaling-{backend}-{n}.txt")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sent: dict[int, float] = {}
        for i in range(EVENTS):
            t = time.time()
            ack = await chair.command("check_in", site=sites[1 + i % (len(sites) - 1)], headcount=50 + i)
            sent[ack.seq] = t
            await asyncio.sleep(INTERVAL_S)
        await asyncio.sleep(1.0 + n / 2000)
        cpu1 = sum(cpu_seconds(pid) for pid in pids)
        if spy is not None:
            spy.wait(60)
        for c in conns:
            c.send("stop")
        results = [await loop.run_in_executor(None, c.recv) for c in conns]
        for w in workers:
            w.join(10)
        merged: dict[int, list[float]] = {}
        for r in results:
            for seq, (count, first, last) in r["receipts"].items():
                m = merged.setdefault(seq, [0, first, last])
                m[0] += count
                m[1] = min(m[1], first)
                m[2] = max(m[2], last)
        lat_last = sorted((merged[s][2] - t) * 1000 for s, t in sent.items() if s in merged)
        delivered = sum(merged[s][0] for s in sent if s in merged)
        complete = sum(1 for s in sent if s in merged and merged[s][0] == n)
        await chair.close()
        await admin.close()
        await chair_api.close()
        cpu = cpu1 - cpu0
        return {
            "backend": backend if backend == "sqlite" else "redis+2 processes", "pages": n,
            "connected": sum(h["connected"] for h in hello), "connect_s": round(connect_s, 2),
            "pages_dropped": sum(r["dropped"] for r in results),
            "events": len(sent), "events_complete": complete, "messages_delivered": delivered,
            "last_page_ms": {"p50": round(statistics.median(lat_last), 1), "p99": round(_pct(lat_last, 0.99), 1),
                             "max": round(lat_last[-1], 1)},
            "server_cpu_s": round(cpu, 3),
            "server_cpu_idle_s": round(idle, 3),
            "server_cpu_us_per_message": round(cpu / max(delivered, 1) * 1e6, 2),
            "server_cpu_us_per_message_net_of_idle": round((cpu - idle) / max(delivered, 1) * 1e6, 2),
            "server_cpu_ms_per_event": round(cpu / max(len(sent), 1) * 1e3, 2),
            "rss_per_connection_kb": round((rss1 - rss0) / n / 1024, 1),
            "note": "server CPU is user+sys of the server process(es) over the window of events; 'net of idle' "
                    "subtracts the same window with no events (WebSocket heartbeats, idle loop); latency is from "
                    "the chair's send to the last page's receipt, with the load clients on the same 2 cores",
        }
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        if redis is not None:
            redis.terminate()
            redis.wait(10)


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 5000, 10000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "redis"], choices=["sqlite", "redis"])
    parser.add_argument("--tmp", metavar="DIR", default="", help="keep server logs and data here")
    parser.add_argument("--profile", metavar="DIR", default="", help="write py-spy profiles of the server here")
    args = parser.parse_args()
    global PROFILE
    PROFILE = args.profile
    raise_nofile()
    out = []
    parser_tmp = args.tmp
    with (contextlib.nullcontext(parser_tmp) if parser_tmp else tempfile.TemporaryDirectory()) as d:
        for backend in args.backends:
            for n in args.sizes:
                res = await run(n, backend, Path(d))
                print(json.dumps(res, ensure_ascii=False), file=sys.stderr, flush=True)
                out.append(res)
    print(json.dumps({"benchmark": "signaling", "results": out}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
