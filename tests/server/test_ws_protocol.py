"""The WebSocket protocol through a real server and real clients: hello -> welcome, the
backlog or a snapshot, commands -> events to every page in order then ack, idempotent
replays, what a site's page may see, pings."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from wshelp import RawPage, eventually

from server.tools.client import BridgeClient, CommandRefused

StartServer = Callable[..., Awaitable[Any]]


async def test_hello_gets_welcome_then_the_whole_log_in_order(server: StartServer) -> None:
    srv = await server(seed="small")
    page = await RawPage.join(srv.base_url, srv.conference, srv.session("chair"))
    try:
        welcome = page.welcome
        assert welcome is not None and welcome["type"] == "welcome"
        seq = srv.hub().seq
        assert welcome["conference"] == srv.conference and welcome["seq"] == seq
        assert welcome["you"] == {"kind": "account", "id": "chutri", "roles": ["chair"], "name": "Chủ trì"}
        assert welcome["heartbeat_s"] == srv.config.heartbeat_s and welcome["snapshot"] is None
        await page.settle()
        stored = await srv.service.store.read(srv.hub().name)
        assert [e["seq"] for e in page.events] == list(range(1, seq + 1))
        assert [e["event"] for e in page.events] == [json.loads(r.data) for r in stored]
        assert page.events[0]["event"]["type"] == "conference_created"
    finally:
        await page.close()


async def test_a_page_that_holds_events_gets_only_the_ones_it_missed(server: StartServer) -> None:
    srv = await server(seed="small")
    seq = srv.hub().seq
    page = await RawPage.join(srv.base_url, srv.conference, srv.session("secretary"), last_seq=seq - 3)
    try:
        await page.settle()
        assert page.welcome is not None and page.welcome["seq"] == seq
        assert [e["seq"] for e in page.events] == [seq - 2, seq - 1, seq]
    finally:
        await page.close()
    # a last_seq the server never reached (another deployment's, say) gets the whole log
    page = await RawPage.join(srv.base_url, srv.conference, srv.session("secretary"), last_seq=seq + 50)
    try:
        await page.settle()
        assert [e["seq"] for e in page.events] == list(range(1, seq + 1))
    finally:
        await page.close()


async def test_snapshot_instead_of_a_long_replay(server: StartServer) -> None:
    srv = await server(seed="small", snapshot_after=3)
    seq = srv.hub().seq
    assert seq >= 6
    cases = [(0, True), (1, True), (seq - 3, False), (seq - 1, False)]
    for last_seq, expect_snapshot in cases:
        page = await RawPage.join(srv.base_url, srv.conference, srv.session("chair"), last_seq=last_seq,
                                  snapshot=True)
        try:
            await page.settle()
            assert page.welcome is not None
            snap = page.welcome["snapshot"]
            if expect_snapshot:
                assert snap is not None and snap["seq"] == seq == page.welcome["seq"]
                assert snap["conference_id"] == srv.conference and snap["phase"] == "scheduled"
                assert sorted(snap["sites"]) == sorted(srv.state().sites)
                assert page.events == []            # the snapshot holds them
            else:
                assert snap is None
                assert [e["seq"] for e in page.events] == list(range(last_seq + 1, seq + 1))
        finally:
            await page.close()


async def test_commands_reach_every_page_in_order_and_the_ack_follows_the_events(server: StartServer) -> None:
    srv = await server(seed="small")
    await srv.go_live()
    logs: dict[str, list[dict[str, Any]]] = {}

    async def page(name: str, token: str) -> BridgeClient:
        logs[name] = []
        return await srv.client(token, on_message=logs[name].append)

    chair = await page("chair", srv.session("chair"))
    secretary = await page("secretary", srv.session("secretary"))
    sites = [await page(code, await srv.site_token(code)) for code in srv.seeded.sites]
    start = srv.hub().seq

    acks = [await chair.command("start_item", item_id="muc-1")]
    for code in srv.seeded.sites[:3]:
        acks.append(await sites[srv.seeded.sites.index(code)].command("request_floor", site=code, topic="Kiến nghị"))
    acks.append(await chair.command("grant_floor", site=srv.seeded.sites[0], limit_seconds=300))
    acks.append(await chair.command("grant_floor", site=srv.seeded.sites[1]))           # replaces the first
    acks.append(await secretary.command("add_note", note_id="n1", item_id="muc-1", text="Ý kiến phường An"))
    acks.append(await chair.command("mute_all"))
    acks.append(await chair.command("finish_item", item_id="muc-1"))
    end = srv.hub().seq
    assert [a.seq for a in acks] == sorted(a.seq for a in acks) and acks[-1].seq == end

    clients = [chair, secretary, *sites]
    for c in clients:
        await c.wait_seq(end)
    for name, log in logs.items():
        seqs = [m["seq"] for m in log if m["type"] == "event"]
        assert seqs == list(range(1, end + 1)), name           # every page: every event, once, in order
    # on the sender's page, a command's events come before its ack
    order = [(m["type"], m.get("seq")) for m in logs["chair"] if m["type"] in ("event", "ack")]
    for i, (kind, seq) in enumerate(order):
        if kind == "ack":
            assert ("event", seq) in order[:i]
    # and every page folds the same state as the server (sites: except the notes they may not see)
    server_state = srv.state()
    assert chair.state == server_state and secretary.state == server_state
    for c in sites:
        assert c.state is not None and c.state.floor == server_state.floor and c.state.agenda == server_state.agenda
        assert c.state.notes == {}
    assert end - start >= len(acks)


async def test_a_replayed_key_gets_the_same_ack_and_records_nothing(server: StartServer) -> None:
    srv = await server(seed="small")
    await srv.go_live()
    site = srv.seeded.sites[0]
    token = await srv.site_token(site)
    first = await srv.client(token)
    ack = await first.command("check_in", key="checkin-1", site=site, headcount=30)
    assert not ack.replayed
    seq = srv.hub().seq
    with pytest.raises(CommandRefused) as refused:     # the key with other fields: another command, refused
        await first.command("check_in", key="checkin-1", site=site, headcount=99)
    assert refused.value.code == "key_reused"
    again = await first.command("check_in", key="checkin-1", site=site, headcount=30)
    assert (again.seq, again.replayed) == (ack.seq, True)
    await first.close()
    # a new connection (a reload, a reconnect) retrying the same key: same answer
    second = await srv.client(token)
    retried = await second.command("check_in", key="checkin-1", site=site, headcount=30)
    assert (retried.seq, retried.replayed) == (ack.seq, True)
    later = [json.loads(r.data)["type"] for r in await srv.service.store.read(srv.hub().name, seq)]
    assert set(later) <= {"connection_changed"}      # the page left and came back; no second check-in
    assert srv.state().attendance[site].headcount == 30
    # keys are per actor: another site's same key is its own command
    other = srv.seeded.sites[1]
    third = await srv.client(await srv.site_token(other))
    ack_other = await third.command("check_in", key="checkin-1", site=other, headcount=12)
    assert not ack_other.replayed and srv.state().attendance[other].headcount == 12


async def test_a_site_page_sees_notes_redacted_and_staff_see_them(server: StartServer) -> None:
    srv = await server(seed="small")
    await srv.go_live()
    site = srv.seeded.sites[0]
    token = await srv.site_token(site)
    site_page = await RawPage.join(srv.base_url, srv.conference, token)
    staff_page = await RawPage.join(srv.base_url, srv.conference, srv.session("observer"))
    try:
        secretary = await srv.client(srv.session("secretary"))
        ack = await secretary.command("add_note", note_id="bi-mat", text="Ghi chép nội bộ của thư ký")
        seen_by_site = (await site_page.wait_event(ack.seq))["event"]
        seen_by_staff = (await staff_page.wait_event(ack.seq))["event"]
        assert seen_by_site["type"] == "redacted" and "Ghi chép" not in json.dumps(seen_by_site, ensure_ascii=False)
        assert seen_by_staff["type"] == "note_added" and seen_by_staff["text"] == "Ghi chép nội bộ của thư ký"
    finally:
        await site_page.close()
        await staff_page.close()
    # the backlog of a reconnecting site and a site's snapshot hide it too
    page = await RawPage.join(srv.base_url, srv.conference, token, last_seq=ack.seq - 1)
    await page.settle()
    assert page.events[0]["event"]["type"] == "redacted"
    await page.close()
    page = await RawPage.join(srv.base_url, srv.conference, token, snapshot=True)
    assert page.welcome is not None and page.welcome["snapshot"]["notes"] == {}
    await page.close()
    # and so does the REST view; the raw log is for staff only
    api = srv.api(token)
    assert (await api.call("GET", f"/conferences/{srv.conference}"))["notes"] == {}
    with pytest.raises(CommandRefused) as info:
        await api.call("GET", f"/conferences/{srv.conference}/events")
    assert info.value.code == "forbidden"


async def test_ping_is_answered_with_pong(server: StartServer) -> None:
    srv = await server(seed="small")
    page = await RawPage.join(srv.base_url, srv.conference, srv.session("chair"))
    try:
        assert await page.reply_to({"type": "ping", "t": 12.5}) == {"type": "pong", "t": 12.5}
        assert await page.reply_to({"type": "ping"}) == {"type": "pong", "t": None}
    finally:
        await page.close()


async def test_two_pages_of_one_site_keep_it_online_until_the_last_goes(server: StartServer) -> None:
    srv = await server(seed="small", offline_after_s=0.3)
    site = srv.seeded.sites[2]
    token = await srv.site_token(site)
    a = await srv.client(token, reconnect=False)
    b = await srv.client(token, reconnect=False)
    await eventually(lambda: srv.state().attendance[site].connection == "online")
    await a.close()
    await asyncio.sleep(0.5)
    assert srv.state().attendance[site].connection == "online"
    await b.close()
    await eventually(lambda: srv.state().attendance[site].connection == "offline")


async def test_a_client_too_fast_for_the_rate_limit_gets_every_command_recorded_once(server: StartServer) -> None:
    """Commands refused for rate carry their key; the client sends them again a little later."""
    srv = await server(seed="small")
    await srv.go_live()
    chair = await srv.client(srv.session("chair"))
    start = srv.hub().seq
    acks = await asyncio.gather(*(chair.command("edit_agenda_item", key=f"nhanh-{i}", item_id="muc-2",
                                                title=f"Mục 2 ({i})") for i in range(100)))
    assert sorted(a.key for a in acks) == sorted(f"nhanh-{i}" for i in range(100))
    recorded = [json.loads(r.data)["key"] for r in await srv.service.store.read(srv.hub().name, start)]
    assert sorted(recorded) == sorted(f"nhanh-{i}" for i in range(100))          # each once


async def test_a_client_ahead_of_the_server_starts_over(server: StartServer) -> None:
    """A page that holds more events than the server (restored from a backup, say) gets the
    whole log and folds it from the start."""
    srv = await server(seed="small")
    client = BridgeClient(srv.base_url, srv.conference, srv.session("chair"))
    client.last_seq = 10_000
    srv.clients.append(client)
    await client.connect()
    await client.wait_seq(srv.hub().seq)
    assert client.last_seq == srv.hub().seq and client.state == srv.state()


async def test_a_site_page_never_sees_the_sites_contact_details(server: StartServer) -> None:
    srv = await server(seed="demo")   # its sites have contact people
    token = await srv.site_token(srv.seeded.sites[0])
    staff = await RawPage.join(srv.base_url, srv.conference, srv.session("secretary"), snapshot=True)
    site_page = await RawPage.join(srv.base_url, srv.conference, token, snapshot=True)
    backlog = await RawPage.join(srv.base_url, srv.conference, token, snapshot=False)
    try:
        assert staff.welcome is not None and site_page.welcome is not None
        staff_sites = staff.welcome["snapshot"]["sites"]
        assert all(s["contact_name"] for c, s in staff_sites.items() if c != srv.seeded.main_site)
        sites = site_page.welcome["snapshot"]["sites"]
        assert sites.keys() == staff_sites.keys()
        for code, s in sites.items():
            assert (s["contact_name"], s["contact_phone"], s["email"]) == ("", "", ""), code
            assert s["name"] == staff_sites[code]["name"]
        await backlog.settle()   # the whole log, from the conference's creation on
        invited = [e["event"] for e in backlog.events if e["event"]["type"] in ("conference_created", "sites_invited")]
        assert len(invited) >= 2
        assert "Văn phòng HĐND" not in json.dumps(invited, ensure_ascii=False)
        rest = await srv.api(token).call("GET", f"/conferences/{srv.conference}")
        assert all(s["contact_name"] == "" for s in rest["sites"].values())
    finally:
        for page in (staff, site_page, backlog):
            await page.close()


async def test_the_events_of_one_command_are_marked_to_be_applied_together(server: StartServer) -> None:
    """A handover is two events (floor_ended, floor_granted): every event but the last of a
    command carries ``more``, so a page applies them as one and never draws the floor empty."""
    srv = await server(seed="small")
    await srv.go_live()
    first, second = srv.seeded.sites[0], srv.seeded.sites[1]
    log: list[dict[str, Any]] = []
    site_log: list[dict[str, Any]] = []
    chair = await srv.client(srv.session("chair"), on_message=log.append)
    site = await srv.client(await srv.site_token(srv.seeded.sites[2]), on_message=site_log.append)
    await chair.command("give_floor", site=first)
    start = srv.hub().seq
    ack = await chair.command("give_floor", site=second)
    await site.wait_seq(ack.seq)
    for messages in (log, site_log):   # staff's frames and sites' (redacted) frames alike
        got = [(m["event"]["type"], m.get("more", False)) for m in messages   # this command's events only
               if m["type"] == "event" and m["seq"] > start and m["event"].get("key") == ack.key]
        types = [t for t, _ in got]
        assert "floor_ended" in types and "floor_granted" in types, got
        assert [more for _, more in got] == [True] * (len(got) - 1) + [False], got
    # a command of one event carries no mark
    ack = await chair.command("mute_site", site=second)
    await chair.wait_seq(ack.seq)
    last = [m for m in log if m["type"] == "event"][-1]
    assert last["seq"] == ack.seq and "more" not in last
    await chair.close()
    await site.close()
