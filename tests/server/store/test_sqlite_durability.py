"""An append that returned survives kill -9 of the process that made it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from server.store.sqlite import SqliteEventStore

WRITER = r"""
import asyncio, json, sys
from server.store.sqlite import SqliteEventStore

async def main(path):
    store = await SqliteEventStore.open(path)
    seq = 0
    while True:
        seq = await store.append("conf-kill", seq, [json.dumps({"n": seq + 1}), json.dumps({"n": seq + 2})])
        print(seq, flush=True)   # acknowledged

asyncio.run(main(sys.argv[1]))
"""


async def test_acknowledged_appends_survive_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[3], env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    acked = 0
    for line in proc.stdout:
        acked = int(line)
        if acked >= 400:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL

    store = await SqliteEventStore.open(db)
    try:
        events = await store.read("conf-kill")
        assert len(events) >= acked
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert await store.last_seq("conf-kill") == len(events)
    finally:
        await store.close()
    await asyncio.sleep(0)
