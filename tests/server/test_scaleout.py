"""Two ``bridgeconf serve --redis URL`` processes on different ports share one conference:
a site on process A sees, in order and without gaps, the chair's commands sent through
process B; commands racing through both processes are all recorded, once, without gaps;
when process A is killed, the chair on B sees A's sites go reconnecting, then offline."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from wshelp import demo_access, eventually, login, states_of, watch_connections

from server.tools.client import ApiClient, BridgeClient

CONF = "so-ket-quy-3"


async def test_two_processes_share_one_conference_through_redis(
        bridgeconf_proc: Callable[..., Any], redis_url: str) -> None:
    a = bridgeconf_proc(redis=redis_url, demo=True)
    b = bridgeconf_proc(redis=redis_url, demo=True)      # finds the demo in Redis already
    assert a.port != b.port and a.password
    assert a.password not in b.output and "first seeded" in b.output   # B cannot know the password
    admin, tokens = await demo_access(b.base_url, a.password)   # one signing key: A's links work on B
    await admin.close()
    sites = sorted(tokens)[1:4]
    seen: dict[str, list[dict[str, Any]]] = {s: [] for s in sites}
    on_a = [await BridgeClient(a.base_url, CONF, tokens[s], on_message=seen[s].append).connect() for s in sites]
    chair_token = await login(a.base_url, "chutri", a.password)
    chair = await BridgeClient(b.base_url, CONF, chair_token).connect()
    try:
        await chair.command("open_conference")
        await chair.command("start_item", item_id="muc-1")
        # the chair, through B, runs the floor while the sites, through A, check in and ask for it
        chair_acks = []
        for i in range(15):
            site = sites[i % len(sites)]
            chair_acks.append(await chair.command("give_floor", site=site, limit_seconds=60))
            chair_acks.append(await chair.command("edit_agenda_item", item_id="muc-2", title=f"Báo cáo ({i})"))

        async def site_traffic(client: BridgeClient, site: str) -> list[Any]:
            return [await client.command("check_in", site=site, headcount=n) for n in range(1, 11)]

        async def chair_traffic() -> list[Any]:
            return [await chair.command("edit_agenda_item", item_id="muc-3", title=f"Ý kiến ({n})")
                    for n in range(20)]

        raced = await asyncio.gather(chair_traffic(), *(site_traffic(c, s) for c, s in zip(on_a, sites, strict=True)))
        last = max(ack.seq for acks in raced for ack in acks)
        for c in (*on_a, chair):
            await c.wait_seq(last, timeout=15)

        # every page on A got every event, in order, once, with no gap
        for site, messages in seen.items():
            seqs = [m["seq"] for m in messages if m["type"] == "event"]
            assert seqs == list(range(1, len(seqs) + 1)) and seqs[-1] >= last, site
        # the chair's commands through B reached A's pages in the order B recorded them
        events_on_a = [m["event"] for m in seen[sites[0]] if m["type"] == "event"]
        chair_events = [(e["key"], e["type"]) for e in events_on_a
                        if e["actor"] == "account:chutri" and e["type"] in ("floor_granted", "agenda_item_edited")]
        assert chair_events[:30] == [(ack.key, kind) for ack, kind in
                                      zip(chair_acks, ["floor_granted", "agenda_item_edited"] * 15, strict=True)]
        # both processes serve the same log; every raced command is in it once
        logs = []
        for proc in (a, b):
            api = await ApiClient.login(proc.base_url, "chutri", a.password)
            logs.append((await api.call("GET", f"/conferences/{CONF}/events?limit=5000"))["events"])
            await api.close()
        assert logs[0][:last] == logs[1][:last]
        keys = [e["event"]["key"] for e in logs[0]]
        for acks in raced:
            for ack in acks:
                assert keys.count(ack.key) == 1 and logs[0][ack.seq - 1]["event"]["key"] == ack.key
        # and the sites on A fold the same state as the chair on B
        assert all(c.state is not None and c.state.floor == chair.state.floor for c in on_a)
        assert all(c.state.attendance == chair.state.attendance for c in on_a)
        assert json.dumps(logs[0][-1])      # the logs are plain JSON
    finally:
        for c in (*on_a, chair):
            await c.close()


async def test_the_sites_of_a_killed_process_go_reconnecting_then_offline_on_the_other(
        bridgeconf_proc: Callable[..., Any], redis_url: str) -> None:
    fast = ("--heartbeat", "0.5", "--offline-after", "1.5")
    a = bridgeconf_proc(redis=redis_url, demo=True, extra=fast)
    b = bridgeconf_proc(redis=redis_url, demo=True, extra=fast)
    admin, tokens = await demo_access(b.base_url, a.password)
    await admin.close()
    gone, stays = sorted(tokens)[1:3]
    log: list[tuple[float, str, str]] = []
    chair = await BridgeClient(b.base_url, CONF, await login(b.base_url, "chutri", a.password),
                               on_message=watch_connections(log)).connect()
    on_a = await BridgeClient(a.base_url, CONF, tokens[gone], reconnect=False).connect()
    on_b = await BridgeClient(b.base_url, CONF, tokens[stays]).connect()
    try:
        await chair.command("open_conference")
        await eventually(lambda: states_of(log, gone) == ["online"] and states_of(log, stays) == ["online"])
        await asyncio.sleep(2.0)   # several sweeps: sites held by a live process are left alone
        assert states_of(log, gone) == ["online"] and states_of(log, stays) == ["online"]
        a.kill9()                  # its page cannot say goodbye; only the board's expiry tells
        await eventually(lambda: states_of(log, gone) == ["online", "reconnecting", "offline"], timeout=15)
        assert states_of(log, stays) == ["online"]
        assert chair.state is not None and chair.state.attendance[gone].connection == "offline"
    finally:
        for c in (on_a, on_b, chair):
            await c.close()


async def test_a_site_coming_and_going_on_one_process_shows_on_the_other_within_a_second(
        bridgeconf_proc: Callable[..., Any], redis_url: str) -> None:
    """Live presence is told between processes at once (Redis pub/sub), not at the next look at
    the board: with a heartbeat of 10 s, only that can show a site's page coming to process A,
    leaving it and coming back on the chair's page on process B within a second — and the log
    records none of it (the site was online and never away past offline_after)."""
    slow = ("--heartbeat", "10", "--offline-after", "60")
    a = bridgeconf_proc(redis=redis_url, demo=True, extra=slow)
    b = bridgeconf_proc(redis=redis_url, demo=True, extra=slow)
    admin, tokens = await demo_access(b.base_url, a.password)
    await admin.close()
    site = sorted(tokens)[1]
    log: list[tuple[float, str, str]] = []
    chair = await BridgeClient(b.base_url, CONF, await login(b.base_url, "chutri", a.password),
                               on_message=watch_connections(log)).connect()
    try:
        await chair.command("open_conference")
        first = await BridgeClient(a.base_url, CONF, tokens[site], reconnect=False).connect()
        await eventually(lambda: states_of(log, site) == ["online"], timeout=5)   # shown live at once...
        await eventually(lambda: chair.state is not None and chair.state.attendance[site].connection == "online",
                         timeout=5)           # ...and recorded, the first time (with any other site within 0.2 s)
        seq = chair.last_seq
        for expected in ("reconnecting", "online", "reconnecting", "online"):
            began = time.monotonic()
            if expected == "reconnecting":
                await first.close()
            else:
                first = await BridgeClient(a.base_url, CONF, tokens[site], reconnect=False).connect()
            await eventually(lambda e=expected: states_of(log, site)[-1] == e, timeout=3)
            shown = next(t for t, s, c in reversed(log) if s == site and c == expected)
            assert shown - began < 1.0, (expected, shown - began)
        assert chair.last_seq == seq          # nothing of it in the log
        await first.close()
    finally:
        await chair.close()
