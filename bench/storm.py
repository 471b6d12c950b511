"""The reconnect storm: N pages connected to one server, the server killed (``kill -9``) and
started again; how long until every page is welcomed again and holds every event it missed, and
what it costs the log.

    python bench/storm.py                          # 10,000 pages, SQLite
    python bench/storm.py --pages 2000 --tmp /tmp/storm
    python bench/storm.py --backend redis          # the pages on process A, the chair on process B

With ``--backend redis`` two processes share one Redis: the pages are on A, the chair on B, and
only A is killed; B goes on recording the chair's commands (one every ``--gap`` s) until A answers
again, so the pages miss acknowledged events appended while their server was down.

The run (loopback only, bounded: every wait has a deadline):

1. ``bridgeconf serve --demo --no-media`` (SQLite, the default limits unless ``--reconnects-per-*``
   say otherwise); the chair opens the demo conference; N pages follow it, spread over its
   126 sites' join links, in the load processes of bench/storm_load.py (pages that reconnect
   as the browser's page does: 300 ms doubling to 5 s, ±25 % jitter, ``hello`` with their
   ``last_seq``).
2. The chair sends ``check_in`` commands back to back; ``--pre-kill`` seconds in, the server is
   killed with SIGKILL wherever it is (usually in the middle of a command or of a fan-out to
   the N pages): the pages that had not got the last acknowledged events by then have missed
   them for real, and the command in flight is resent by the chair's client after the restart
   (same key: recorded once).
3. The server is started again at once on the same data. The chair's client reconnects by
   itself and sends ``--post-events`` more commands while the pages come back, so that events
   are appended during the storm too.
4. Measured from the kill: when the server answers again, when every page has been welcomed
   again, when every page holds the log's last event (``complete``), with percentiles; the
   events the log gained besides the chair's commands (the goal: none per page); the server's
   and the load processes' CPU; the machine's load. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    cpu_seconds,
    free_port,
    loadavg,
    machine_cpu,
    raise_nofile,
    rss_bytes,
    start_redis,
    start_server,
)
from bench.storm_load import storm_main  # noqa: E402

CONF = "so-ket-quy-3"
DEADLINE_S = 120.0          # the storm must be over within this, else the run reports what it saw


def _cpu(pid: int) -> float:
    with contextlib.suppress(OSError):
        return cpu_seconds(pid)
    return 0.0


async def _recv(conn: Any, timeout: float) -> Any:
    loop = asyncio.get_running_loop()
    if not await loop.run_in_executor(None, conn.poll, timeout):
        raise TimeoutError(f"a load process did not answer within {timeout:.0f} s")
    return conn.recv()


async def _ask(conns: list[Any], msg: Any, timeout: float = 30.0) -> list[Any]:
    for c in conns:
        c.send(msg)
    return [await _recv(c, timeout) for c in conns]


def _log_since(db: Path, seq: int) -> tuple[int, dict[str, int]]:
    """The conference's last seq in the SQLite log, and the types of the events after ``seq``."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        stream = next(s for (s,) in con.execute("SELECT stream FROM streams") if s.endswith(CONF))
        last = con.execute("SELECT last_seq FROM streams WHERE stream = ?", (stream,)).fetchone()[0]
        kinds: dict[str, int] = {}
        for (data,) in con.execute("SELECT data FROM events WHERE stream = ? AND seq > ?", (stream, seq)):
            kind = json.loads(data).get("type", "?")
            kinds[kind] = kinds.get(kind, 0) + 1
        return int(last), kinds
    finally:
        con.close()


async def _log_api(admin: Any, after: int) -> tuple[int, dict[str, int]]:
    """The conference's last seq and the types of the events after ``after``, from the API."""
    got = (await admin.call("GET", f"/conferences/{CONF}/events?after={after}&limit=5000"))["events"]
    kinds: dict[str, int] = {}
    for e in got:
        kinds[e["event"]["type"]] = kinds.get(e["event"]["type"], 0) + 1
    return max((e["seq"] for e in got), default=after), kinds


def _listen_overflows() -> int:
    """The machine's count of connections dropped because a listen queue was full (TcpExt)."""
    lines = [line.split() for line in Path("/proc/net/netstat").read_text().splitlines() if line.startswith("TcpExt:")]
    return int(dict(zip(lines[0], lines[1], strict=True)).get("ListenOverflows", 0))


def _pcts(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    v = sorted(values)
    return {"p50": round(statistics.median(v), 2), "p90": round(v[int(0.9 * (len(v) - 1))], 2),
            "p99": round(v[int(0.99 * (len(v) - 1))], 2), "max": round(v[-1], 2)}


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:  # noqa: PLR0915
    from server.tools.client import ApiClient, BridgeClient
    n = args.pages
    port = free_port()
    data = tmp / "data"
    serve_args = ["--demo", "--backlog", str(args.backlog), "--reconnects-per-link", str(args.reconnects_per_link),
                  "--reconnects-per-address", str(args.reconnects_per_address), "--loop", args.loop]
    base = f"http://127.0.0.1:{port}"
    procs: list[subprocess.Popen[bytes]] = []
    chair_base = base
    if args.backend == "redis":     # a second process B on the same Redis: the chair's, never killed
        rport = free_port()
        procs.append(start_redis(rport, tmp / "redis"))
        serve_args += ["--redis", f"redis://127.0.0.1:{rport}/0"]
    server = start_server(port, data, *serve_args, log=tmp / "server-1.log")
    procs.append(server)
    if args.backend == "redis":
        port_b = free_port()
        procs.append(start_server(port_b, tmp / "data-b", *serve_args[1:], log=tmp / "server-b.log"))
        chair_base = f"http://127.0.0.1:{port_b}"
    workers: list[Any] = []
    conns: list[Any] = []
    clients: list[Any] = []
    result: dict[str, Any] = {"pages": n, "backend": args.backend, "started": time.strftime("%Y-%m-%d %H:%M:%S"), "loadavg_start": loadavg(),
                              "server_args": serve_args, "load_processes": args.load_processes}
    try:
        password = (data / "demo-password.txt").read_text().strip()
        admin = await ApiClient.login(base, "admin", password)
        clients.append(admin)
        links = (await admin.call("GET", f"/conferences/{CONF}/links"))["links"]
        tokens = [link["url"].rsplit("/", 1)[1] for link in links]
        chair_api = await ApiClient.login(base, "chutri", password)
        clients.append(chair_api)
        chair = await BridgeClient(chair_base, CONF, chair_api.token).connect()
        clients.insert(0, chair)
        await chair.command("open_conference")
        sites = list(chair.state.sites) if chair.state is not None else []
        last_seq = chair.last_seq
        pages = [("127.0.0.1", port, {"conference": CONF, "token": tokens[i % len(tokens)], "last_seq": last_seq})
                 for i in range(n)]
        ctx = mp.get_context("spawn")
        t0 = time.monotonic()
        for k in range(args.load_processes):
            parent, child = ctx.Pipe()
            w = ctx.Process(target=storm_main, args=(child, pages[k::args.load_processes]), daemon=True)
            w.start()
            conns.append(parent)
            workers.append(w)
        hello = [await _recv(c, 60 + n / 20) for c in conns]
        result["connected"] = sum(h["connected"] for h in hello)
        result["connect_s"] = round(time.monotonic() - t0, 1)
        loads = [h["pid"] for h in hello]
        settled = time.monotonic() + 90                  # presence settles: every site's first coming online
        while time.monotonic() < settled:                # is recorded before the storm, not during it
            seen = chair.last_seq
            await asyncio.sleep(2.0)
            if chair.last_seq == seen:
                break
        result["server_rss_mb_connected"] = round(rss_bytes(server.pid) / 2**20, 1)

        # -- events, then the kill in the middle of them -------------------------------------------
        acked: list[int] = []
        i = 0
        stop = False

        async def commands() -> None:     # back to back; with Redis, through B while A is down too
            nonlocal i
            while not stop:
                site = sites[1 + i % (len(sites) - 1)]
                i += 1
                ack = await chair.command("check_in", site=site, headcount=50 + i, timeout=DEADLINE_S)
                acked.append(ack.seq)
                if args.backend == "redis":
                    await asyncio.sleep(args.gap)

        seq_before = chair.last_seq
        sender = asyncio.create_task(commands())
        await asyncio.sleep(args.pre_kill)
        l0 = [_cpu(p) for p in loads]
        m0 = machine_cpu()
        overflows = _listen_overflows()
        os.kill(server.pid, signal.SIGKILL)
        t_kill = time.monotonic()
        server.wait(10)
        acked_before_kill = max(acked, default=seq_before)
        if args.backend == "sqlite":
            stop = True
            sender.cancel()     # the command in flight stays pending in the client, resent after the restart
            log_at_kill, _ = _log_since(data / "events.db", 0)
        else:
            log_at_kill = acked_before_kill    # B goes on recording the chair's commands

        # -- the restart ----------------------------------------------------------------------------
        server = await asyncio.to_thread(start_server, port, data, *serve_args, log=tmp / "server-2.log")
        procs.append(server)
        t_up = time.monotonic()
        s0 = _cpu(server.pid)
        if args.backend == "redis":
            stop = True
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(sender, DEADLINE_S)
        acked_while_down = [a for a in acked if a > acked_before_kill]
        if args.profile:
            procs.append(subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(server.pid),
                                           "-d", "20", "--nonblocking", "-f", "raw", "-o", args.profile],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        post = asyncio.create_task(_post(chair, sites, args.post_events, acked, args.gap))
        deadline = t_kill + DEADLINE_S
        target = log_at_kill
        while time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            if post.done():
                target = max(target, chair.last_seq)
            prog = await _ask(conns, ("progress", t_kill, target))
            if post.done() and all(p["welcomed"] == p["complete"] for p in prog) and \
                    sum(p["welcomed"] for p in prog) == n:
                break
        s1, l1, m1 = _cpu(server.pid), [_cpu(p) for p in loads], machine_cpu()
        overflows = _listen_overflows() - overflows
        wall = time.monotonic() - t_kill
        if not post.done():
            post.cancel()
        log_end, kinds = await _log_api(admin, log_at_kill)      # the log as the storm ended
        _, kinds_all = await _log_api(admin, seq_before)
        reports = await _ask(conns, "report", 60)
    finally:
        for c in conns:
            with contextlib.suppress(Exception):
                c.send("stop")
        for w in workers:
            w.join(10)
            if w.is_alive():
                w.terminate()
        for c in clients:
            with contextlib.suppress(Exception):
                await c.close()
        for p in procs:
            if p.poll() is None:
                p.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(10)
                if p.poll() is None:
                    p.kill()

    rep: dict[str, list[Any]] = {k: [x for r in reports for x in r[k]] for k in reports[0] if k != "refusals"}
    refusals: dict[str, int] = {}
    for r in reports:
        for k, v in r["refusals"][0].items():
            refusals[k] = refusals.get(k, 0) + v
    back = [w - t_kill for w in rep["welcomed_at"] if w > t_kill]
    done = [r - t_kill for r, w, s in zip(rep["reached_at"], rep["welcomed_at"], rep["last_seq"], strict=True)
            if w > t_kill and s >= log_end]
    caught = [c - t_kill for c, w in zip(rep["caught_up_at"], rep["welcomed_at"], strict=True)
              if w > t_kill and c >= w]
    missed = [log_end - s for s, a in zip(rep["lost_seq"], rep["lost_at"], strict=True) if a >= t_kill - 0.001]
    chair_events = kinds_all.get("checked_in", 0)
    result.update({
        "seq": {"before_events": seq_before, "last_acked_before_kill": acked_before_kill, "log_at_kill": log_at_kill,
                "acked_while_down": len(acked_while_down), "log_end": log_end},
        "server_up_s": round(t_up - t_kill, 2),
        "all_welcomed_s": round(max(back), 2) if len(back) == n else None,
        "all_complete_s": round(max(done), 2) if len(done) == n else None,
        "all_complete_after_server_up_s": round(max(done) - (t_up - t_kill), 2) if len(done) == n else None,
        "all_caught_up_s": round(max(caught), 2) if len(caught) == n else None,
        "welcomed_s": _pcts(back), "caught_up_s": _pcts(caught), "complete_s": _pcts(done),
        "pages_welcomed_again": len(back), "pages_caught_up": len(caught), "pages_complete": len(done),
        "pages_lacking_acked_events_at_kill": sum(1 for s, a in zip(rep["lost_seq"], rep["lost_at"], strict=True)
                                                  if a >= t_kill - 0.001 and s < acked_before_kill),
        "pages_lacking_logged_events_at_kill": sum(1 for s, a in zip(rep["lost_seq"], rep["lost_at"], strict=True)
                                                   if a >= t_kill - 0.001 and s < log_at_kill),
        "events_each_page_caught_up": _pcts([float(m) for m in missed]),
        "listen_queue_overflows": overflows,
        "gaps": sum(rep["gaps"]), "duplicates": sum(rep["dups"]), "pages_refused_fatally": sum(1 for f in rep["fatal"] if f),
        "last_attempt_began_s": _pcts([a - t_kill for a in rep["tried_at"] if a > t_kill]),
        "last_attempt_connected_s": _pcts([a - t_kill for a in rep["connected_at"] if a > t_kill]),
        "hello_refusals": refusals, "attempts_per_page": _pcts([float(a) for a in rep["attempts"]]),
        "log": {"events_after_kill": kinds, "chair_commands_since_events_began": chair_events,
                "events_besides_the_chairs_since_events_began": sum(kinds_all.values()) - chair_events},
        "cpu_s": {"server_restarted": round(s1 - s0, 2),
                  "load_processes": [round(b - a, 2) for a, b in zip(l0, l1, strict=True)]},
        "machine_cores_busy": round((m1["busy"] - m0["busy"]) / wall, 2), "machine_steal": round(
            (m1["steal"] - m0["steal"]) / wall, 2),
        "loadavg_end": loadavg(),
    })
    return result


async def _post(chair: Any, sites: list[str], count: int, acked: list[int], gap: float) -> None:
    """After the restart: the chair's client is back (it reconnects by itself and resends the
    command the kill interrupted); ``count`` more commands while the pages come back."""
    await asyncio.wait_for(chair.connected.wait(), DEADLINE_S)
    for i in range(count):
        ack = await chair.command("check_in", site=sites[1 + i % (len(sites) - 1)], headcount=500 + i,
                                  timeout=DEADLINE_S)
        acked.append(ack.seq)
        await asyncio.sleep(gap)


NOTE = ("Times are from the SIGKILL. all_welcomed_s: every page had a welcome from the restarted server; "
        "all_caught_up_s: every page also held every event the log had when it was welcomed (what it missed); "
        "all_complete_s: every page also held the log's last event (the events appended before the kill that "
        "it had not got, those the chair sent while the pages came back, every one in order: gaps counts "
        "any jump). The pages reconnect as the browser's page does (bench/storm_load.py), so the backoff "
        "(300 ms doubling to 5 s, +/-25 %) sets when they try again after the server is back: "
        "all_complete_after_server_up_s. log: the events the log gained; presence records none per page "
        "(a site that comes back within offline_after_s records nothing). Loopback, one machine of 2 cores "
        "shared with other work: see loadavg and machine_cores_busy.")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "redis"], default="sqlite",
                        help="redis: the pages on process A, the chair on process B (same Redis), B records the "
                        "chair's commands while A is down")
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--pre-kill", type=float, default=1.0, help="seconds of chair commands before the kill")
    parser.add_argument("--post-events", type=int, default=10, help="chair commands after the restart")
    parser.add_argument("--gap", type=float, default=0.5,
                        help="seconds between the chair's commands after the restart (and, with Redis, while the "
                        "pages' process is down): each is fanned out to every page")
    parser.add_argument("--reconnects-per-link", type=int, default=120, help="serve --reconnects-per-link")
    parser.add_argument("--reconnects-per-address", type=int, default=20_000, help="serve --reconnects-per-address")
    parser.add_argument("--backlog", type=int, default=4096, help="serve --backlog")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--profile", default="", metavar="FILE", help="py-spy profile of the restarted server (20 s)")
    parser.add_argument("--tmp", default="", help="keep the server's data and logs here")
    args = parser.parse_args()
    if not 1 <= args.pages <= 20_000:
        parser.error("--pages: 1 to 20,000")
    raise_nofile()
    with contextlib.nullcontext(args.tmp) if args.tmp else tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        tmp.mkdir(parents=True, exist_ok=True)
        res = await run(args, tmp)
    print(json.dumps({"benchmark": "reconnect storm", "note": NOTE, "result": res}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
