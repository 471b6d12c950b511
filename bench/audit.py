"""How long the admin's audit view takes on a long event log: a SQLite store holding one
conference stream of N events (connection changes, floor requests and grants, as a big
conference's log is mostly made of), read as ``GET /api/v1/audit`` reads it (in chunks,
every event made a row), then filtered (an actor, a type) and exported as CSV.

    .venv/bin/python -m bench.audit --events 20000 50000 100000

Prints one JSON object per size: seconds to read and make the rows, to filter, to write the
CSV, and the CSV's size. Wall-clock times of one run: on a shared machine they vary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from server.service.audit_log import AuditFilter, audit_csv, audit_row, select
from server.store.sqlite import SqliteEventStore

STREAM = "conf-bench"
CHUNK = 5_000
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def events(n: int) -> list[str]:
    t0 = datetime(2025, 10, 3, 1, 0, tzinfo=UTC)
    out = []
    for i in range(n):
        site = f"P-SITE-{i % 193:03d}"
        at = (t0 + timedelta(milliseconds=200 * i)).isoformat()
        kind = i % 4
        if kind == 0:
            ev = {"type": "connection_changed", "site": site, "connection": "online", "actor": "system:server"}
        elif kind == 1:
            ev = {"type": "floor_requested", "site": site, "item_id": None, "topic": "", "actor": f"site:{site}"}
        elif kind == 2:
            ev = {"type": "floor_granted", "site": site, "limit_seconds": 180, "topic": "", "actor": "account:chutri"}
        else:
            ev = {"type": "floor_ended", "site": site, "reason": "revoked", "actor": "account:chutri"}
        out.append(json.dumps({**ev, "at": at, "key": f"k{i}"}, ensure_ascii=False))
    return out


async def one(n: int, folder: Path) -> dict[str, object]:
    store = await SqliteEventStore.open(folder / f"bench-{n}.db", synchronous="OFF")
    try:
        data = events(n)
        for i in range(0, n, CHUNK):
            await store.append(STREAM, i, data[i:i + CHUNK])
        names = {"account:chutri": "Chủ tịch UBND Thành phố"}
        t0 = time.perf_counter()
        rows, after = [], 0
        while True:
            records = await store.read(STREAM, after, limit=CHUNK)
            if not records:
                break
            rows += [audit_row(STREAM, r.seq, r.data, names) for r in records]
            after = records[-1].seq
        t1 = time.perf_counter()
        shown, matched = select(rows, AuditFilter.parse({"actor": "chu tich", "type": "floor_granted"}, TZ), limit=200)
        t2 = time.perf_counter()
        everything, _ = select(rows, AuditFilter(), limit=n)
        csv_text = audit_csv(everything, TZ)
        t3 = time.perf_counter()
        return {"events": n, "read_and_rows_s": round(t1 - t0, 3), "filter_s": round(t2 - t1, 3),
                "matched": matched, "csv_all_s": round(t3 - t2, 3), "csv_bytes": len(csv_text.encode())}
    finally:
        await store.close()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, nargs="+", default=[20_000, 100_000])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.events:
            print(json.dumps(await one(n, Path(tmp))))


if __name__ == "__main__":
    asyncio.run(main())
