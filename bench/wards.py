"""What the wards bring, measured: 126 wards x 10 recommendations (1,260, with merges,
assignments and answers) on the chair console and the secretary desk in Chromium (one full
re-render of the panel, goal < 200 ms), the minutes PDF with that register (goal < 10 s), the
register's CSV and XLSX export; and 200 sites voting within 10 s: the latency from a site's
cast to the chair's page seeing it in the tally (p50/p99).

    .venv/bin/python bench/wards.py [--per-ward 10] [--voters 200] [--window 10] [--renders 10]

A `bridgeconf serve --demo` process on 127.0.0.1 (SQLite) is the server; the headless sites
and the browser run in this process. Prints JSON. The machine may be shared: note its load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.async_api import async_playwright  # noqa: E402

from bench.common import free_port, loadavg, start_server  # noqa: E402
from scheduling import Actor, decide, event_from_dict, evolve, parse_command, replay  # noqa: E402
from server.documents import RenderOptions, render_pdf  # noqa: E402
from server.documents.recommendation_exports import register_csv, register_xlsx, select_rows  # noqa: E402
from server.documents.source import approved_source  # noqa: E402
from server.store.sqlite import SqliteEventStore  # noqa: E402
from server.tools.client import ApiClient, BridgeClient  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
DEPTS = [("SO-TAI-CHINH", "Sở Tài chính"), ("SO-NOI-VU", "Sở Nội vụ"), ("SO-XAY-DUNG", "Sở Xây dựng"),
         ("SO-NN-MT", "Sở Nông nghiệp và Môi trường")]
FIELDS = ["Đất đai", "Tài chính – ngân sách", "Tổ chức bộ máy", "Đầu tư – xây dựng", "Văn hóa – xã hội", "Khác"]
REGISTER, VOTE = "bench-kien-nghi", "bench-bieu-quyet"


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return round(s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))], 1)


async def gather_limited(coros: list[Any], limit: int = 16) -> None:
    sem = asyncio.Semaphore(limit)

    async def one(c: Any) -> None:
        async with sem:
            await c

    await asyncio.gather(*(one(c) for c in coros))


async def create(admin: ApiClient, conf: str, codes: list[str], *, group: str = "") -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30)
    await admin.call("POST", "/conferences", {
        "key": f"c-{conf}", "conference_id": conf, "title": f"Bench {conf}", "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=4)).isoformat(), "main_site": "HN-TRU-SO", "chair": "chutri",
        "secretaries": ["thuky1"], "series": conf})
    cmd = f"/conferences/{conf}/commands"
    invite = {"group": group} if group else {"codes": codes}
    await admin.call("POST", cmd, {"type": "invite_sites", "key": f"i-{conf}", **invite})
    if group and codes:
        await admin.call("POST", cmd, {"type": "invite_sites", "key": f"i2-{conf}", "codes": codes})
    for n in range(1, 4):
        await admin.call("POST", cmd, {"type": "add_agenda_item", "key": f"a-{conf}-{n}", "item_id": f"muc-{n}",
                                       "title": f"Nội dung {n}", "planned_minutes": 30})
    await admin.call("POST", cmd, {"type": "schedule_conference", "key": f"s-{conf}"})


async def seed_register(base: str, password: str, per_ward: int) -> dict[str, Any]:
    admin = await ApiClient.login(base, "admin", password)
    sec = await ApiClient.login(base, "thuky1", password)
    t0 = time.perf_counter()
    try:
        for code, name in DEPTS:
            await admin.call("POST", "/sites", {"code": code, "name": name, "parent": "Sở, ngành", "kind": "department",
                                                "key": f"d-{code}"})
        wards = [s["code"] for s in (await admin.call("GET", "/sites"))["sites"] if s["kind"] == "remote"]
        await create(admin, REGISTER, [c for c, _ in DEPTS], group="remote")
        cmd = f"/conferences/{REGISTER}/commands"
        rng = random.Random(13)
        recs = [(f"kn-{i}-{j}", ward) for i, ward in enumerate(wards) for j in range(per_ward)]
        await gather_limited([sec.call("POST", cmd, {
            "type": "submit_recommendation", "key": f"sub-{rid}", "rec_id": rid, "site": ward,
            "title": f"Vướng mắc số {rid} về {rng.choice(FIELDS).lower()}",
            "text": "Đoạn thứ nhất của kiến nghị.\n\nĐoạn thứ hai: đề nghị hướng dẫn cụ thể.",
            "field": rng.choice(FIELDS), "item_id": "muc-2"}) for rid, ward in recs])
        # a tenth merged in tens, half of the rest assigned, a third of those answered
        ids = [rid for rid, _ in recs]
        merged = ids[: len(ids) // 10]
        await gather_limited([sec.call("POST", cmd, {"type": "merge_recommendations", "key": f"m-{k}",
                                                     "into": merged[k], "others": merged[k + 1:k + 10]})
                              for k in range(0, len(merged), 10)])
        folded = set(merged) - set(merged[::10])
        holders = [rid for rid in ids if rid not in folded]
        due = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
        assigned = holders[::2]
        await gather_limited([sec.call("POST", cmd, {"type": "assign_recommendation", "key": f"g-{rid}", "rec_id": rid,
                                                     "departments": [DEPTS[n % 4][0]], "due": due})
                              for n, rid in enumerate(assigned)])
        await gather_limited([sec.call("POST", cmd, {"type": "mark_recommendation_for_meeting", "key": f"mk-{rid}",
                                                     "rec_id": rid, "item_id": "muc-2"}) for rid in assigned[::2]])
        await gather_limited([sec.call("POST", cmd, {"type": "answer_recommendation", "key": f"t-{rid}", "rec_id": rid,
                                                     "department": DEPTS[n % 4][0], "text": "Sở đã có văn bản hướng dẫn."})
                              for n, rid in enumerate(assigned) if n % 3 == 0])
        state = await admin.call("GET", f"/conferences/{REGISTER}")
    finally:
        await admin.close()
        await sec.close()
    recs_state = state["recommendations"]
    return {"wards": len(wards), "recommendations": len(recs_state),
            "merged": sum(1 for r in recs_state.values() if r["status"] == "merged"),
            "assigned": sum(1 for r in recs_state.values() if r["departments"]),
            "answered": sum(1 for r in recs_state.values() if r["answers"]),
            "marked_for_meeting": sum(1 for r in recs_state.values() if r["in_meeting"]),
            "seed_s": round(time.perf_counter() - t0, 1)}


RENDER = """async ([type, cold]) => {
  const times = [];
  for (let i = 0; i < %d; i++) {
    let start = 0;
    // cold: every card's signature dropped, so every card is built again
    if (cold) for (const el of document.querySelectorAll("[data-sig]")) el.dataset.sig = "";
    const done = new Promise((resolve) => {
      requestAnimationFrame(() => { start = performance.now(); });   // runs before the panel's render
      window.bc.store._emit({ type });
      requestAnimationFrame(() => { void document.body.offsetHeight; resolve(performance.now() - start); });
    });
    times.push(await done);
  }
  return times;
}"""


async def browser_renders(base: str, password: str, renders: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            for who, path, prepare, selector in (
                    ("chair_console", f"/c/{REGISTER}/chair", None, "#chair-recs li.rec-card"),
                    ("secretary_desk", f"/c/{REGISTER}/secretary", "#tab-wards", "#triage-list li.rec-row")):
                ctx = await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
                account = "chutri" if who == "chair_console" else "thuky1"
                await ctx.request.post(base + "/api/v1/session", data={"account": account, "password": password})
                page = await ctx.new_page()
                t0 = time.perf_counter()
                await page.goto(base + path)
                await page.wait_for_selector('#bc-conn[data-status="online"]', timeout=60_000)
                if prepare:
                    await page.click(prepare)
                await page.wait_for_selector(selector, timeout=60_000)
                first = time.perf_counter() - t0
                warm = await page.evaluate(RENDER % renders, ["recommendation_marked", False])
                cold = await page.evaluate(RENDER % renders, ["recommendation_marked", True])
                cards = await page.locator(selector).count()
                out[who] = {"rows_shown": cards, "open_to_first_paint_s": round(first, 2),
                            "rerender_one_changed_ms": {"median": round(statistics.median(warm), 1),
                                                        "max": round(max(warm), 1)},
                            "rebuild_every_card_ms": {"median": round(statistics.median(cold), 1),
                                                      "max": round(max(cold), 1)},
                            "goal_ms": 200}
                await ctx.close()
        finally:
            await browser.close()
    return out


def minutes_and_exports(data_dir: Path) -> dict[str, Any]:
    """The register's conference folded from the server's own log, its minutes PDF (the
    conference ended and approved here, in process) and the exports."""
    async def read() -> list[Any]:
        store = await SqliteEventStore.open(data_dir / "events.db")
        try:
            return [event_from_dict(json.loads(r.data)) for r in await store.read(f"conf-{REGISTER}")]
        finally:
            await store.close()
    events = asyncio.run(read())
    state = replay(events)
    assert state is not None
    chair = Actor.account("chutri")
    now = datetime.now(UTC)
    for t in ("open_conference", "end_conference", "approve_minutes"):
        for ev in decide(state, parse_command({"type": t, "key": f"bench-{t}"}), chair, now=now).events:
            state = evolve(state, ev)
        now += timedelta(seconds=1)
    source = approved_source(state.minutes.approved[-1])
    options = RenderOptions(lang="vi")
    t0 = time.perf_counter()
    pdf = render_pdf(source, options)
    pdf_s = time.perf_counter() - t0
    rows = select_rows([state], lambda s: now.date(), {})
    t0 = time.perf_counter()
    csv_text = register_csv(rows)
    csv_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    xlsx = register_xlsx(rows)
    xlsx_s = time.perf_counter() - t0
    return {"minutes_pdf": {"seconds": round(pdf_s, 2), "bytes": len(pdf), "goal_s": 10,
                            "recommendations_in_content": len(source.content.get("recommendations", []))},
            "export": {"rows": len(rows), "csv_s": round(csv_s, 3), "csv_bytes": len(csv_text.encode()),
                       "xlsx_s": round(xlsx_s, 3), "xlsx_bytes": len(xlsx)}}


async def voting(base: str, password: str, voters: int, window: float) -> dict[str, Any]:
    admin = await ApiClient.login(base, "admin", password)
    try:
        have = [s["code"] for s in (await admin.call("GET", "/sites"))["sites"] if s["kind"] == "remote"]
        extra = max(0, voters - len(have))
        if extra:
            rows = "\n".join(f"X-BENCH-{i:03d},Xã thử nghiệm {i},Khu vực thử nghiệm,remote,50" for i in range(extra))
            await admin.call("POST", "/sites/import", raw="code,name,parent,kind,expected_headcount\n" + rows + "\n",
                             content_type="text/csv")
        codes = ([s["code"] for s in (await admin.call("GET", "/sites"))["sites"] if s["kind"] == "remote"])[:voters]
        await create(admin, VOTE, codes)
        links = {r["site"]: r["url"].rsplit("/join/", 1)[1]
                 for r in (await admin.call("GET", f"/conferences/{VOTE}/links"))["links"] if r["site"] in codes}
    finally:
        await admin.close()
    chair_api = await ApiClient.login(base, "chutri", password)
    seen: dict[str, float] = {}

    def on_message(msg: dict[str, Any]) -> None:
        if msg.get("type") == "event" and msg["event"].get("type") == "vote_cast":
            seen.setdefault(msg["event"]["site"], time.perf_counter())

    chair = BridgeClient(base, VOTE, chair_api.token or "", on_message=on_message, reconnect=False)
    sites = [BridgeClient(base, VOTE, links[c], reconnect=False) for c in codes]
    try:
        await chair.connect(timeout=30)
        await chair.command("open_conference")
        await gather_limited([s.connect(timeout=60) for s in sites], limit=25)
        await chair.wait_for(lambda s: s is not None and all(s.attendance[c].connection.value == "online"
                                                             for c in codes), timeout=60)
        deadline = (datetime.now(UTC) + timedelta(seconds=window + 30)).isoformat()
        await chair.command("open_vote", vote_id="v1", question="Thông qua?", deadline=deadline)
        sent: dict[str, float] = {}
        rng = random.Random(7)

        async def cast(client: BridgeClient, code: str) -> None:
            await asyncio.sleep(rng.uniform(0, window))
            sent[code] = time.perf_counter()
            await client.command("cast_vote", vote_id="v1", site=code, option=rng.randrange(3), timeout=60)

        t0 = time.perf_counter()
        await asyncio.gather(*(cast(c, code) for c, code in zip(sites, codes, strict=True)))
        await chair.wait_for(lambda s: s is not None and len(s.votes["v1"].ballots) == len(codes), timeout=60)
        total_s = time.perf_counter() - t0
        lat = [(seen[c] - sent[c]) * 1000 for c in codes if c in seen]
        tally = list(chair.state.votes["v1"].tally()) if chair.state else []
    finally:
        for c in [*sites, chair]:
            await c.close()
        await chair_api.close()
    return {"voters": len(codes), "window_s": window, "all_counted_s": round(total_s, 2), "tally": tally,
            "cast_to_chair_ms": {"p50": pct(lat, 50), "p90": pct(lat, 90), "p99": pct(lat, 99),
                                 "max": round(max(lat), 1)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-ward", type=int, default=10)
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--renders", type=int, default=10)
    args = parser.parse_args()
    out: dict[str, Any] = {"bench": "wards", "python": platform.python_version(), "cpus": os.cpu_count(),
                           "loadavg_before": loadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        port = free_port()
        proc = start_server(port, data, "--demo", log=data / "server.log")
        base = f"http://127.0.0.1:{port}"
        try:
            password = (data / "demo-password.txt").read_text().strip()
            out["register"] = asyncio.run(seed_register(base, password, args.per_ward))
            out["pages"] = asyncio.run(browser_renders(base, password, args.renders))
            out["voting"] = asyncio.run(voting(base, password, args.voters, args.window))
        finally:
            proc.terminate()
            proc.wait(10)
        out.update(minutes_and_exports(data))
    out["loadavg_after"] = loadavg()
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
