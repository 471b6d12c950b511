"""The EventStore contract: every backend passes these."""

from __future__ import annotations

import asyncio
import json

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
