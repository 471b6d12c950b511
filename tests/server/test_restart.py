"""``kill -9`` of the server in a live conference, then a restart: every acknowledged command
is in the log, every page reconnects by itself, resends what was not acknowledged (recorded
once), and resumes in step with the server — with the SQLite store and with Redis."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from wshelp import demo_access, login

from scheduling import event_from_dict, evolve
from server.tools.client import Ack, BridgeClient

CONF = "so-ket-quy-3"


async def _stream_of_commands(client: BridgeClient, commands: Any, acks: list[tuple[str, Ack]],
                              stop: asyncio.Event) -> None:
    """Send commands one after the other (each waits for its ack) until told to stop."""
    for type_, fields in commands:
        if stop.is_set():
            return
        ack = await client.command(type_, timeout=60, **fields)
        acks.append((type_, ack))


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_kill_9_in_a_live_conference_loses_no_acknowledged_command(
        backend: str, bridgeconf_proc: Callable[..., Any], request: pytest.FixtureRequest) -> None:
    redis = request.getfixturevalue("redis_url") if backend == "redis" else None
    proc = bridgeconf_proc(redis=redis)
    base, password = proc.base_url, proc.password
    assert password
    admin, tokens = await demo_access(base, password)
    await admin.close()
    sites = sorted(tokens)[1:5]
    chair = await BridgeClient(base, CONF, await login(base, "chutri", password)).connect()
    secretary = await BridgeClient(base, CONF, await login(base, "thuky1", password)).connect()
    pages = [await BridgeClient(base, CONF, tokens[s]).connect() for s in sites]
    clients = [chair, secretary, *pages]
    try:
        await chair.command("open_conference")
        await chair.command("start_item", item_id="muc-1")
        acks: dict[str, list[tuple[str, Ack]]] = {"chair": [], "secretary": [], **{s: [] for s in sites}}
        stop = asyncio.Event()
        streams = [
            _stream_of_commands(chair, (("edit_agenda_item", {"item_id": "muc-6", "title": f"Bế mạc ({i})"})
                                        for i in itertools.count()), acks["chair"], stop),
            _stream_of_commands(secretary, (("add_note", {"note_id": f"n{i}", "text": f"Ghi chép {i}"})
                                            for i in itertools.count()), acks["secretary"], stop),
            *(_stream_of_commands(page, _check_ins(s), acks[s], stop) for page, s in zip(pages, sites, strict=True)),
        ]
        tasks = [asyncio.create_task(s) for s in streams]
        while sum(map(len, acks.values())) < 60:
            await asyncio.sleep(0.01)
        proc.kill9()                                   # mid-stream: commands are in flight
        acked_before = {who: list(a) for who, a in acks.items()}
        await asyncio.sleep(0.5)
        await asyncio.to_thread(proc.start)            # same port, same data dir / Redis; pages retry meanwhile
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 60)   # the pending ones were resent and acknowledged

        assert all(len(acks[who]) > len(acked_before[who]) for who in acks)   # each page went on after the restart
        api = await _staff_api(base, password)
        events = (await api.call("GET", f"/conferences/{CONF}/events?limit=5000"))["events"]
        await api.close()
        seqs = [e["seq"] for e in events]
        assert seqs == list(range(1, len(events) + 1))
        by_seq = {e["seq"]: e["event"] for e in events}
        for who, done in acked_before.items():
            for type_, ack in done:                    # acknowledged before the kill: there, with its key
                recorded = by_seq[ack.seq]
                assert recorded["key"] == ack.key, (who, type_, ack)
        for who, done in acks.items():                 # every command recorded exactly once
            keys = [a.key for _, a in done]
            actor_keys = [e["event"]["key"] for e in events
                          if e["event"]["actor"] == _actor_ref(who) and e["event"]["key"] in set(keys)]
            assert sorted(actor_keys) == sorted(keys), who
        # every page reconnected by itself and holds the server's state
        last = len(events)
        for c in clients:
            await c.wait_seq(last, timeout=20)
            assert c.reconnects >= 1
        state = None
        for e in events:
            state = evolve(state, event_from_dict(e["event"]))
        assert chair.state == state and secretary.state == state
        assert all(p.state is not None and p.state.attendance == state.attendance for p in pages)
    finally:
        for c in clients:
            await c.close()


def _check_ins(site: str) -> Any:
    for i in itertools.count(1):
        yield "check_in", {"site": site, "headcount": i % 400}


def _actor_ref(who: str) -> str:
    return {"chair": "account:chutri", "secretary": "account:thuky1"}.get(who, f"site:{who}")


async def _staff_api(base: str, password: str) -> Any:
    from server.tools.client import ApiClient
    return await ApiClient.login(base, "chutri", password)
