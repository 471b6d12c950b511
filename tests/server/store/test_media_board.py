"""The media processes' leased records on Redis (RedisEventStore.media_put / media_records), on
the real redis-server: each process sees every live record, a record its process stops
renewing (kill -9) is gone after the lease, and Redis down is a StoreError, nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from server.store import StoreError
from server.store.redis import RedisEventStore


async def test_every_process_sees_the_live_records_and_a_lapsed_one_is_gone(redis_url: str) -> None:
    a, b = await RedisEventStore.open(redis_url), await RedisEventStore.open(redis_url)
    try:
        await a.media_put("A", b'{"process":"A"}', 0.4)
        await b.media_put("B", b'{"process":"B","pubs":[]}', 30.0)
        assert await a.media_records() == {"A": b'{"process":"A"}', "B": b'{"process":"B","pubs":[]}'}
        await a.media_put("A", b'{"process":"A","wants":[]}', 0.4)    # a renewal replaces the record
        assert (await b.media_records())["A"] == b'{"process":"A","wants":[]}'
        await asyncio.sleep(0.6)                                      # A stopped renewing: its lease ran out
        assert await b.media_records() == {"B": b'{"process":"B","pubs":[]}'}
        await b.media_put("B", b'{"process":"B","pubs":[]}', 30.0)      # the next renewal drops it from the index
        assert await a._redis.zrange("bridgeconf:media:procs", 0, -1) == ["B"]
    finally:
        await a.close()
        await b.close()


async def test_redis_down_is_a_store_error_and_back_it_works_again(spawn_redis: Callable[..., Any]) -> None:
    redis = spawn_redis()
    store = await RedisEventStore.open(redis.url())
    try:
        await store.media_put("A", b"{}", 5.0)
        redis.kill9()
        with pytest.raises(StoreError):
            await store.media_records()
        with pytest.raises(StoreError):
            await store.media_put("A", b"{}", 5.0)
        redis.restart()
        await store.media_put("A", b'{"process":"A"}', 5.0)
        assert await store.media_records() == {"A": b'{"process":"A"}'}
    finally:
        await store.close()


async def test_a_nudge_reaches_the_process_it_names_only(redis_url: str) -> None:
    a, b = await RedisEventStore.open(redis_url), await RedisEventStore.open(redis_url)
    got: list[str] = []

    async def listen(store: RedisEventStore, process: str) -> None:
        async for _ in store.media_nudges(process):
            got.append(process)

    tasks = [asyncio.create_task(listen(a, "A")), asyncio.create_task(listen(b, "B"))]
    try:
        await asyncio.sleep(0.3)                    # both subscribed
        await b.media_nudge("A")
        for _ in range(50):
            if got:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        assert got == ["A"]
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.wait(tasks, timeout=3)
        await a.close()
        await b.close()
