"""A burst of Redis operations from one process (every site's presence when a restarted
process's pages come back, their replay reads) waits for a free connection of the pool
instead of failing: redis-py's default pool refused the 101st at once ("Too many
connections"). Against a real redis-server."""

from __future__ import annotations

import asyncio

from server.store.redis import POOL_CONNECTIONS, RedisEventStore


async def test_a_burst_of_operations_waits_for_the_pool_instead_of_failing(redis_url: str) -> None:
    store = await RedisEventStore.open(redis_url)
    try:
        await store.append("conf:pool", 0, ['{"type":"x"}'])
        burst = 6 * POOL_CONNECTIONS
        results = await asyncio.gather(
            *(store.hold_one("owner", f"conf|site-{i}", True, 30) for i in range(burst)),
            *(store.read("conf:pool") for _ in range(burst)))
        assert all(r is None for r in results[:burst])
        assert all(len(r) == 1 for r in results[burst:])
        assert len(await store.held()) == burst
    finally:
        await store.close()
