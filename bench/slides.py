"""Slides: how fast a page turn reaches every site, what it costs a site, and what rendering
a deck costs. Prints one JSON object on stdout (progress on stderr).

    .venv/bin/python bench/slides.py                     # 200 sites, 10 turns, 40-page deck
    .venv/bin/python bench/slides.py --sites 50 --turns 5 --no-prefetch

Set-up: a real server process (``bridgeconf serve --demo --no-media``) on 127.0.0.1; the
directory gets extra wards so that a conference of its own invites ``--sites`` remote sites
plus the main bridge. The main bridge uploads a ``--pages``-page PDF (made with Pillow, 16:9)
and presents it. Each headless site is a WebSocket page (aiohttp) and an HTTP client in this
process; like the browser page (static/js/slides.js) it fetches the page image at one width
(``--width``, 1280 by default) when ``slide_shown`` arrives and, with prefetch on (the pages'
default), also fetches the next two pages after showing one, so a turn usually finds its
image already fetched.

Per turn (``--turns``, ``--gap`` seconds apart) the bench takes ``t0`` just before the
presenter's ``show_slide`` is sent, and per site: when the ``slide_shown`` event arrived and when
the page's image was complete in memory ("shown"; headless sites do not decode). Figures: p50,
p99 and max over all (site, turn) of event and shown latencies; bytes per page turn per site
(the event's frame, plus one page image on average: fetched at the turn or ahead of it).

Rendering: ``server/documents/deck_render.py`` run on the same PDF as a child process, as the
server runs it: wall seconds to all three widths and the child's peak RSS, plus the server's own
upload round trip (render included). The machine is shared: ``loadavg`` is in the output.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, cpu_seconds, free_port, loadavg, raise_nofile, rss_bytes  # noqa: E402
from server.documents.decks import RENDERER  # noqa: E402
from server.tools.client import ApiClient, BridgeClient, link_parts  # noqa: E402
from tests.fixtures.decks import deck_pdf  # noqa: E402

MAIN = "HN-TRU-SO"


def log(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


@dataclass
class Site:
    """A headless site page: its WebSocket, the images it holds, when each page reached it."""

    code: str
    token: str
    event_at: dict[int, float] = field(default_factory=dict)     # seq of the turn -> monotonic time
    shown_at: dict[int, float] = field(default_factory=dict)
    event_bytes: int = 0
    close_code: int | None = None                                # set when the server closed the page
    image_bytes: int = 0
    images: dict[int, bytes] = field(default_factory=dict)
    fetching: dict[int, asyncio.Task[bytes]] = field(default_factory=dict)


class Sites:
    def __init__(self, base: str, conf_id: str, width: int, prefetch: int) -> None:
        self.base, self.conf_id, self.width, self.prefetch = base, conf_id, width, prefetch
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self.deck: dict[str, Any] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.ready = 0

    async def image(self, site: Site, page: int) -> bytes:
        if page in site.images:
            return site.images[page]
        task = site.fetching.get(page)
        if task is None:
            url = self.base + self.deck["page_url"].format(width=self.width, page=page)

            async def get() -> bytes:
                async with self.http.get(url) as resp:
                    resp.raise_for_status()
                    body = await resp.read()
                site.image_bytes += len(body)
                site.images[page] = body
                return body
            task = site.fetching[page] = asyncio.ensure_future(get())
        return await task

    async def run(self, site: Site) -> None:
        ws_url = self.base.replace("http://", "ws://") + "/ws"
        async with self.http.ws_connect(ws_url, max_msg_size=16 * 1024 * 1024) as ws:
            await ws.send_str(json.dumps({"type": "hello", "conference": self.conf_id, "token": site.token}))
            async for msg in ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    continue
                if msg.data.startswith('{"type":"welcome"'):   # a snapshot of 200 sites: not parsed
                    self.ready += 1
                    continue
                if '"slide_shown"' not in msg.data:
                    continue
                data = json.loads(msg.data)
                ev = data.get("event") or {}
                if data.get("type") != "event" or ev.get("type") != "slide_shown":
                    continue
                seq, page = int(data["seq"]), int(ev["page"])
                site.event_at[seq] = time.monotonic()
                site.event_bytes += len(msg.data.encode())
                asyncio.ensure_future(self.show(site, seq, page))
            site.close_code = ws.close_code if ws.close_code is not None else -1

    async def show(self, site: Site, seq: int, page: int) -> None:
        await self.image(site, page)
        site.shown_at[seq] = time.monotonic()
        for ahead in range(1, self.prefetch + 1):   # as the page does: the next pages, not timed
            if page + ahead <= int(self.deck["pages"]):
                asyncio.ensure_future(self.image(site, page + ahead))


async def start_server(data: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    out = open(data / "server.log", "w")  # noqa: SIM115 - the server's log, left for a look
    proc = subprocess.Popen([sys.executable, "-m", "server.tools.cli", "serve", "--demo", "--no-media", "--data-dir",
                             str(data), "--port", str(port)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 90
    while "serving on" not in (data / "server.log").read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError((data / "server.log").read_text()[-2000:])
        await asyncio.sleep(0.2)
    return proc, (data / "demo-password.txt").read_text().strip()


async def conference(base: str, password: str, n: int) -> tuple[str, dict[str, str]]:
    """A live conference of ``n`` remote sites (extra wards registered as needed); join tokens."""
    admin = await ApiClient.login(base, "admin", password)
    chair = await ApiClient.login(base, "chutri", password)
    try:
        known = [s["code"] for s in (await admin.call("GET", "/sites"))["sites"] if s["kind"] == "remote"]
        for i in range(len(known), n):
            code = f"X-BENCH-{i:04d}"
            await admin.call("POST", "/sites", {"code": code, "name": f"Xã thử nghiệm {i}", "parent": "Thử nghiệm",
                                                "kind": "remote", "expected_headcount": 40})
            known.append(code)
        codes = known[:n]
        conf_id = f"slides-bench-{int(time.time())}"
        start = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(microsecond=0)
        await admin.call("POST", "/conferences", {
            "conference_id": conf_id, "title": "Đo trình chiếu", "main_site": MAIN, "chair": "chutri",
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()})
        commands = f"/conferences/{conf_id}/commands"
        await admin.call("POST", commands, {"type": "invite_sites", "codes": codes})
        await admin.call("POST", commands, {"type": "schedule_conference"})
        rows = (await admin.call("GET", f"/conferences/{conf_id}/links"))["links"]
        tokens = {r["site"]: link_parts(r["url"])[2] for r in rows}
        await chair.call("POST", commands, {"type": "open_conference"})
        return conf_id, tokens
    finally:
        await admin.close()
        await chair.close()


def render_alone(pdf: Path, out: Path) -> dict[str, Any]:
    """The renderer as the server runs it (a child process): seconds and peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(RENDERER), str(pdf), str(out)], capture_output=True, text=True,
                          check=True, timeout=600)
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    images = {w.name: sum(p.stat().st_size for p in w.iterdir()) for w in out.iterdir() if w.is_dir()}
    return {"pages": result["pages"], "seconds": round(seconds, 2),
            "seconds_per_page": round(seconds / result["pages"], 3),
            "cpu_seconds": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
            "peak_rss_mb": round(result["max_rss_kb"] / 1024, 1),
            "bytes_per_width": dict(sorted(images.items(), key=lambda kv: int(kv[0]))),
            "pdf_bytes": pdf.stat().st_size}


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--turns", type=int, default=10)
    ap.add_argument("--gap", type=float, default=1.5, help="seconds between turns")
    ap.add_argument("--pages", type=int, default=40, help="pages of the deck")
    ap.add_argument("--width", type=int, default=1280, choices=(640, 1280, 1920))
    ap.add_argument("--no-prefetch", action="store_true", help="fetch each page only when it is shown")
    ap.add_argument("--skip-render", action="store_true", help="do not time the renderer on its own")
    args = ap.parse_args()
    if not 1 <= args.sites <= 500 or not 1 <= args.turns <= 100 or not 2 <= args.pages <= 300:
        ap.error("sites 1..500, turns 1..100, pages 2..300")
    raise_nofile()
    out: dict[str, Any] = {"bench": "slides", "sites": args.sites, "turns": args.turns, "width": args.width,
                           "prefetch": not args.no_prefetch, "loadavg_before": loadavg()}
    with tempfile.TemporaryDirectory(prefix="bench-slides-") as tmp:
        tmpdir = Path(tmp)
        pdf = tmpdir / "bao-cao-40-trang.pdf"
        pdf.write_bytes(deck_pdf(args.pages, size=(1280, 720)))
        if not args.skip_render:
            log(f"rendering a {args.pages}-page deck on its own …")
            out["render"] = render_alone(pdf, tmpdir / "alone")
        data = tmpdir / "data"
        data.mkdir()
        port = free_port()
        proc, password = await start_server(data, port)
        base = f"http://127.0.0.1:{port}"
        try:
            conf_id, tokens = await conference(base, password, args.sites)
            presenter = await BridgeClient(base, conf_id, tokens[MAIN]).connect()
            api = ApiClient(base, tokens[MAIN])
            started = time.monotonic()
            deck = await api.upload(f"/conferences/{conf_id}/decks?name={pdf.name}", pdf.read_bytes())
            out["upload_round_trip_s"] = round(time.monotonic() - started, 2)
            out["server_render_s"] = deck.get("render_seconds")
            await api.close()
            sites = Sites(base, conf_id, args.width, 0 if args.no_prefetch else 2)
            sites.deck = deck
            pool = [Site(code, tokens[code]) for code in list(tokens) if code != MAIN][: args.sites]
            log(f"{len(pool)} sites joining …")
            sites.tasks = [asyncio.ensure_future(sites.run(s)) for s in pool]
            deadline = time.monotonic() + 120
            while sites.ready < len(pool):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {sites.ready} of {len(pool)} sites joined")
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            await presenter.command("start_presentation", site=MAIN, deck_id=deck["deck_id"], page=1)
            await asyncio.sleep(args.gap)
            turns: list[tuple[int, float]] = []
            cpu0 = cpu_seconds(proc.pid)
            for i in range(args.turns):
                page = 2 + i % (args.pages - 1)
                t0 = time.monotonic()
                ack = await presenter.command("show_slide", site=MAIN, page=page)
                turns.append((ack.seq, t0))
                log(f"turn {i + 1}/{args.turns}: page {page}")
                await asyncio.sleep(args.gap)
            await asyncio.sleep(2.0)
            cpu = cpu_seconds(proc.pid) - cpu0
            event_ms, shown_ms, missing = [], [], 0
            for seq, t0 in turns:
                for s in pool:
                    if seq in s.shown_at:
                        event_ms.append((s.event_at[seq] - t0) * 1000)
                        shown_ms.append((s.shown_at[seq] - t0) * 1000)
                    else:
                        missing += 1
            n_turns = len(turns) + 1   # and the first page
            out.update({
                "deck": {"pages": deck["pages"], "sha256": deck["sha256"][:16]},
                "event_ms": {"p50": round(pct(event_ms, 0.5), 1), "p99": round(pct(event_ms, 0.99), 1),
                             "max": round(max(event_ms, default=float("nan")), 1)},
                "shown_ms": {"p50": round(pct(shown_ms, 0.5), 1), "p99": round(pct(shown_ms, 0.99), 1),
                             "max": round(max(shown_ms, default=float("nan")), 1)},
                "turns_not_shown": missing,
                "pages_closed_by_the_server": sorted(str(s.close_code) for s in pool if s.close_code is not None),
                "bytes_per_turn_per_site": {
                    "event": round(sum(s.event_bytes for s in pool) / len(pool) / n_turns),
                    "images": round(sum(s.image_bytes for s in pool) / len(pool) / n_turns),
                },
                "server_cpu_s_during_turns": round(cpu, 2),
                "server_rss_mb": round(rss_bytes(proc.pid) / 1e6, 1),
                "goal_p99_shown_ms": 1000,
            })
            for t in sites.tasks:
                t.cancel()
            await asyncio.gather(*sites.tasks, return_exceptions=True)
            await sites.http.close()
            await presenter.close()
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    out["loadavg_after"] = loadavg()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
