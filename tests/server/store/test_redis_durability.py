"""The Redis store: the signing key every process shares, and durability — an append that
returned survives ``kill -9`` of the process that made it, and (with ``appendfsync always``,
as docs/operations.md requires) ``kill -9`` of Redis itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server.store.redis import RedisEventStore

ROOT = Path(__file__).resolve().parents[3]
WRITER = r"""
import asyncio, json, sys
from server.store.redis import RedisEventStore

async def main(url):
    store = await RedisEventStore.open(url)
    seq = 0
    while True:
        seq = await store.append("conf-kill", seq, [json.dumps({"n": seq + 1}), json.dumps({"n": seq + 2})])
        print(seq, flush=True)   # acknowledged

asyncio.run(main(sys.argv[1]))
"""


def run_writer_until(url: str, acked_at_least: int) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, url], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    acked = 0
    for line in proc.stdout:
        acked = int(line)
        if acked >= acked_at_least:
            break
    return proc, acked


async def check_log(url: str, acked: int) -> None:
    store = await RedisEventStore.open(url)
    try:
        events = await store.read("conf-kill")
        assert len(events) >= acked
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert [json.loads(e.data)["n"] for e in events] == list(range(1, len(events) + 1))
        assert await store.last_seq("conf-kill") == len(events)
    finally:
        await store.close()


async def test_every_process_gets_the_same_signing_key(redis_url: str) -> None:
    a, b = await RedisEventStore.open(redis_url), await RedisEventStore.open(redis_url)
    try:
        first = await a.shared_secret("secret-of-a")
        assert first == "secret-of-a"
        assert await b.shared_secret("secret-of-b") == "secret-of-a"
    finally:
        await a.close()
        await b.close()


async def test_acknowledged_appends_survive_sigkill_of_the_writer(redis_url: str) -> None:
    proc, acked = run_writer_until(redis_url, 400)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    await check_log(redis_url, acked)


async def test_acknowledged_appends_survive_sigkill_of_redis_with_appendfsync_always(
        spawn_redis: Callable[..., Any]) -> None:
    redis = spawn_redis(fsync="always")
    url = redis.url(0)
    proc, acked = run_writer_until(url, 300)
    redis.kill9()                  # Redis dies under the writer
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert proc.stdout is not None
    acked = max([acked, *(int(line) for line in proc.stdout.read().split() if line.isdigit())])
    redis.restart()                # replays its append-only file
    await check_log(url, acked)
