"""The EventStore contract: every backend passes these."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest

from server.store import ConcurrencyError, EventStore


def ev(n: int) -> str:
    return json.dumps({"type": "t", "n": n, "text": "Phường Ba Đình"}, ensure_ascii=False)


async def test_empty_stream(store: EventStore) -> None:
    assert await store.last_seq("conf-a") == 0
    assert await store.read("conf-a") == []


async def test_append_numbers_events_without_gaps(store: EventStore) -> None:
    assert await store.append("conf-a", 0, [ev(1), ev(2)]) == 2
    assert await store.append("conf-a", 2, [ev(3)]) == 3
    got = await store.read("conf-a")
    assert [r.seq for r in got] == [1, 2, 3]
    assert [json.loads(r.data)["n"] for r in got] == [1, 2, 3]
    assert json.loads(got[0].data)["text"] == "Phường Ba Đình"
    assert {r.stream for r in got} == {"conf-a"}


async def test_read_after_and_limit(store: EventStore) -> None:
    await store.append("s", 0, [ev(i) for i in range(1, 11)])
    assert [r.seq for r in await store.read("s", after_seq=7)] == [8, 9, 10]
    assert [r.seq for r in await store.read("s", after_seq=2, limit=3)] == [3, 4, 5]
    assert await store.read("s", after_seq=10) == []


async def test_wrong_expected_seq_is_refused_and_appends_nothing(store: EventStore) -> None:
    await store.append("s", 0, [ev(1)])
    for expected in (0, 2, 5):
        with pytest.raises(ConcurrencyError) as info:
            await store.append("s", expected, [ev(99)])
        assert info.value.actual == 1
    assert [r.seq for r in await store.read("s")] == [1]


async def test_concurrent_writers_one_wins(store: EventStore) -> None:
    results = await asyncio.gather(*(store.append("s", 0, [ev(i)]) for i in range(5)), return_exceptions=True)
    assert sum(1 for r in results if r == 1) == 1
    assert sum(1 for r in results if isinstance(r, ConcurrencyError)) == 4
    assert await store.last_seq("s") == 1


async def test_streams_are_independent_and_listed_by_prefix(store: EventStore) -> None:
    await store.append("conf-a", 0, [ev(1)])
    await store.append("conf-b", 0, [ev(1), ev(2)])
    await store.append("directory", 0, [ev(1)])
    await store.append("conf_x", 0, [ev(1)])
    assert await store.streams("conf-") == ["conf-a", "conf-b"]
    assert await store.last_seq("conf-b") == 2


async def test_empty_append_is_a_no_op(store: EventStore) -> None:
    await store.append("s", 0, [ev(1)])
    assert await store.append("s", 1, []) == 1


async def test_subscribe_sees_backlog_then_live_events_in_order(store: EventStore) -> None:
    await store.append("s", 0, [ev(1), ev(2)])
    seen: list[int] = []

    async def consume() -> None:
        async for rec in store.subscribe("s", after_seq=1):
            seen.append(rec.seq)
            if rec.seq == 5:
                return

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    await store.append("s", 2, [ev(3)])
    await store.append("s", 3, [ev(4), ev(5)])
    await asyncio.wait_for(task, 5)
    assert seen == [2, 3, 4, 5]


async def test_large_event_round_trips(store: EventStore) -> None:
    big = json.dumps({"text": "ễ" * 60_000}, ensure_ascii=False)
    await store.append("s", 0, [big])
    assert (await store.read("s"))[0].data == big


async def test_subscribers_of_many_streams_each_get_their_own_events(store: EventStore) -> None:
    names = [f"conf-{i}" for i in range(12)]
    for i, name in enumerate(names):
        await store.append(name, 0, [ev(i * 100 + 1)])
    seen: dict[str, list[int]] = {name: [] for name in names}

    async def consume(name: str) -> None:
        async for rec in store.subscribe(name, 0):
            assert rec.stream == name
            seen[name].append(json.loads(rec.data)["n"])
            if len(seen[name]) == 3:
                return

    tasks = [asyncio.create_task(consume(name)) for name in names]
    await asyncio.sleep(0.05)
    for i, name in enumerate(names):
        await store.append(name, 1, [ev(i * 100 + 2), ev(i * 100 + 3)])
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert seen == {name: [i * 100 + 1, i * 100 + 2, i * 100 + 3] for i, name in enumerate(names)}


async def test_a_subscription_that_ends_leaves_the_others_running(store: EventStore) -> None:
    first = store.subscribe("s", 0)
    await store.append("s", 0, [ev(1)])
    assert (await asyncio.wait_for(anext(first), 5)).seq == 1
    await first.aclose()   # type: ignore[attr-defined]
    second = store.subscribe("s", 1)
    await store.append("s", 1, [ev(2)])
    assert (await asyncio.wait_for(anext(second), 5)).seq == 2
    await second.aclose()  # type: ignore[attr-defined]


async def test_another_instance_sees_the_same_log_and_races_fairly(
        open_store: Callable[[], Awaitable[EventStore]]) -> None:
    """Two instances on the same data, as two server processes: one's appends reach the
    other's subscribers in order; their concurrent appends never both win."""
    a, b = await open_store(), await open_store()
    await a.append("conf-x", 0, [ev(1)])
    assert await b.last_seq("conf-x") == 1
    assert await b.streams("conf-") == ["conf-x"]
    seen: list[int] = []

    async def follow() -> None:
        async for rec in b.subscribe("conf-x", 0):
            seen.append(rec.seq)
            if rec.seq == 6:
                return

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.05)
    for seq in range(1, 6):
        await a.append("conf-x", seq, [ev(seq + 1)])
    await asyncio.wait_for(task, 5)
    assert seen == [1, 2, 3, 4, 5, 6]

    results = await asyncio.gather(a.append("conf-x", 6, [ev(7)]), b.append("conf-x", 6, [ev(70)]),
                                   return_exceptions=True)
    assert sorted(map(type, results), key=str) == sorted([int, ConcurrencyError], key=str)
    assert [r.seq for r in await a.read("conf-x")] == list(range(1, 8))


async def test_subscriptions_end_when_the_store_closes(
        open_store: Callable[[], Awaitable[EventStore]]) -> None:
    s = await open_store()
    got: list[int] = []

    async def follow() -> None:
        async for rec in s.subscribe("s", 0):
            got.append(rec.seq)

    task = asyncio.create_task(follow())
    await s.append("s", 0, [ev(1)])
    await asyncio.sleep(0.1)
    await s.close()
    await asyncio.wait_for(task, 5)
    assert got == [1]


async def test_cancelling_fresh_subscribers_ends_them_at_once(store: EventStore) -> None:
    """A server closing right after it subscribed (a CLI command, a quick restart) must not
    hang on its subscriber tasks, whatever they were doing."""
    async def follow(name: str) -> None:
        async for _ in store.subscribe(name, 0):
            pass

    for pause in (0.0, 0.001, 0.01):
        tasks = [asyncio.create_task(follow(f"conf-{i}")) for i in range(6)]
        await asyncio.sleep(pause)
        for t in tasks:
            t.cancel()
        done, pending = await asyncio.wait(tasks, timeout=3)
        assert not pending
