"""Bad input on the WebSocket: every kind gets a clear error (the connection stays) or a
close with a documented code, changes nothing in any log, and never crashes the server —
which then still serves a normal client."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from wshelp import RawPage

from server.signaling import ws as ws_module

StartServer = Callable[..., Awaitable[Any]]
pytestmark = pytest.mark.usefixtures("no_server_errors")


def all_seqs(srv: Any) -> dict[str, int]:
    svc = srv.service
    return {h.name: h.seq for h in (svc.directory, svc.accounts, svc.links, *svc.conferences.values())}


async def log_without_presence(srv: Any, conf: str | None = None) -> list[dict[str, Any]]:
    hub = srv.hub(conf)
    return [e for e in (json.loads(r.data) for r in await srv.service.store.read(hub.name))
            if e["type"] != "connection_changed"]


async def still_serves(srv: Any) -> None:
    chair = await srv.client(srv.session("chair"))
    ack = await chair.command("edit_agenda_item", item_id="muc-3", title=f"Mục 3 ({time.monotonic_ns()})")
    assert ack.seq == srv.hub().seq
    await chair.close()


# -- before the welcome ----------------------------------------------------------------------

HELLO_CASES = [
    # (what the page sends first, expected error code or None, expected close code)
    ("{not json", "bad_json", 4400),
    ("[1, 2, 3]", "bad_message", 4400),
    ('{"conference": "hop-nho"}', "bad_message", 4400),
    ('{"type": "ping"}', "hello_first", 4400),
    ('{"type": "check_in", "key": "k", "site": "P-AN", "headcount": 3}', "hello_first", 4400),
    ('{"type": "hello"}', "invalid_message", 4400),                                  # no conference
    ('{"type": "hello", "conference": 7}', "invalid_message", 4400),                 # ill-typed
    ('{"type": "hello", "conference": "hop-nho", "last_seq": "5"}', "invalid_message", 4400),
    ('{"type": "hello", "conference": "hop-nho", "evil": true}', "invalid_message", 4400),   # unknown field
    ('{"type": "hello", "conference": "hop-nho"}', "unauthorized", 4401),           # no token, no cookie
    ('{"type": "hello", "conference": "hop-nho", "token": "abc.def"}', "bad_token", 4401),
    ('{"type": "hello", "conference": "hop-nho", "token": "' + "x" * 3000 + '"}', "bad_token", 4401),
]


@pytest.mark.parametrize(("first", "code", "close"), HELLO_CASES)
async def test_a_bad_hello_is_answered_and_closed(server: StartServer, first: str, code: str, close: int) -> None:
    srv = await server(seed="small")
    before = all_seqs(srv)
    page = await RawPage.open(srv.base_url)
    try:
        await page.send(first)
        reply = await page.next_other()
        assert reply is not None and reply["type"] == "error" and reply["code"] == code and reply["ref"] == "hello"
        assert reply["message"]
        assert await page.wait_closed() == close
    finally:
        await page.close()
    assert all_seqs(srv) == before


async def test_a_binary_hello_and_a_silent_page_are_closed(server: StartServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws_module, "HELLO_TIMEOUT_S", 0.5)
    srv = await server(seed="small")
    page = await RawPage.open(srv.base_url)
    await page.send(b"\x00\x01hello")
    assert await page.wait_closed() == 4400
    await page.close()
    page = await RawPage.open(srv.base_url)       # says nothing
    started = time.monotonic()
    assert await page.wait_closed() == 4400
    assert time.monotonic() - started < 5
    await page.close()


async def test_tokens_that_do_not_admit(server: StartServer) -> None:
    srv = await server(seed="small")
    svc, conf, site = srv.service, srv.conference, srv.seeded.sites[0]
    good = await srv.site_token(site)
    link = svc.links.state.links[(conf, site)]
    expired = svc.identity.signer.sign("site", {"c": conf, "s": site, "g": link.generation}, time.time() - 1)
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    other_conf = await srv.site_token(srv.seeded.other_site, srv.seeded.other_conference)
    cases = [
        (expired, conf, "token_expired", 4401),
        (forged, conf, "bad_token", 4401),
        (other_conf, conf, "forbidden", 4403),              # a join link of another conference
        (good, srv.seeded.other_conference, "forbidden", 4403),
        (srv.session("norole"), conf, "forbidden", 4403),    # an account with no role in it
        # a conference that does not exist: the same answer as one not yours (ids are not probed)...
        (srv.session("chair"), "khong-co", "forbidden", 4403),
        (good, "khong-co", "forbidden", 4403),
        (srv.session("admin"), "khong-co", "no_conference", 4404),   # ...but to an admin
    ]
    before = all_seqs(srv)
    for token, hello_conf, code, close in cases:
        page = await RawPage.join(srv.base_url, hello_conf, token)
        try:
            assert page.welcome is not None and (page.welcome["type"], page.welcome["code"]) == ("error", code)
            assert await page.wait_closed() == close
        finally:
            await page.close()
    assert all_seqs(srv) == before

    # revoked, then re-issued: the old link stops working, the new one works
    admin = srv.api(srv.session("admin"))
    await admin.call("POST", f"/conferences/{conf}/links/{site}/revoke")
    page = await RawPage.join(srv.base_url, conf, good)
    assert page.welcome is not None and page.welcome["code"] == "token_revoked"
    assert await page.wait_closed() == 4401
    await page.close()
    fresh = (await admin.call("POST", f"/conferences/{conf}/links/{site}/reissue"))["url"].rsplit("/", 1)[1]
    for token, works in ((good, False), (fresh, True)):
        page = await RawPage.join(srv.base_url, conf, token)
        assert page.welcome is not None and (page.welcome["type"] == "welcome") is works
        await page.close()
    # a session ends when the account is disabled
    chair_session = srv.session("chair")
    await admin.call("PATCH", "/accounts/chutri", {"disabled": True})
    page = await RawPage.join(srv.base_url, conf, chair_session)
    assert page.welcome is not None and page.welcome["code"] == "token_revoked"
    await page.close()


# -- after the welcome -------------------------------------------------------------------------

AFTER_WELCOME = [
    # (message, expected error code); the connection stays open
    ("{not json", "bad_json"),
    ("", "bad_json"),
    ("null", "bad_message"),
    ('"hello"', "bad_message"),
    ("[]", "bad_message"),
    ('{"type": 5}', "bad_message"),
    ('{"type": "drop_all_tables", "key": "k1"}', "unknown_command"),
    ('{"type": "check_in", "key": "k2", "site": "P-AN"}', "invalid_command"),                       # missing
    ('{"type": "check_in", "key": "k3", "site": "P-AN", "headcount": "30"}', "invalid_command"),    # ill-typed
    ('{"type": "check_in", "key": "k4", "site": "P-AN", "headcount": -1}', "invalid_command"),      # out of range
    ('{"type": "check_in", "key": "k5", "site": "P-AN", "headcount": 3, "admin": true}', "invalid_command"),
    ('{"type": "check_in", "key": "bad key!", "site": "P-AN", "headcount": 3}', "invalid_command"),
    ('{"type": "check_in", "site": "P-AN", "headcount": 3}', "invalid_command"),                    # no key
    ('{"type": "check_in", "key": "k6", "site": "P-AN", "headcount": 3, "conference": "hop-khac"}', "wrong_conference"),
    ('{"type": "check_in", "key": "k7", "site": "P-BINH", "headcount": 3}', "not_own_site"),        # another site
    ('{"type": "request_floor", "key": "k8", "site": "X-EM"}', "not_own_site"),
    ('{"type": "grant_floor", "key": "k9", "site": "P-AN"}', "forbidden"),
    ('{"type": "add_note", "key": "k10", "note_id": "n", "text": "x"}', "forbidden"),
    ('{"type": "set_connection", "key": "k11", "site": "P-BINH", "connection": "offline"}', "forbidden"),
    ('{"type": "expire_floor", "key": "k12", "site": "P-AN"}', "forbidden"),
    ('{"type": "create_conference", "key": "k13", "conference_id": "x", "title": "t", "starts_at": "2030-01-01T08:00:00+07:00", "ends_at": "2030-01-01T09:00:00+07:00", "main_site": "TRU-SO", "chair": "khach"}', "forbidden"),
    ('{"type": "register_site", "key": "k14", "site": {"code": "X-MOI", "name": "Mới"}}', "unknown_command"),
    ('{"type": "hello", "conference": "hop-nho"}', "already_welcome"),
    ('{"type": "offer", "sdp": "v=0"}', "media_unavailable"),
    ('{"type": "offer"}', "invalid_message"),
    ('{"type": "add_note", "key": "k15", "note_id": "n", "text": "' + "ễ" * 21_000 + '"}', "invalid_command"),
]


async def test_bad_messages_after_the_welcome_get_errors_and_change_nothing(server: StartServer) -> None:
    srv = await server(seed="small")
    await srv.go_live()
    site = "P-AN"
    page = await RawPage.join(srv.base_url, srv.conference, await srv.site_token(site))
    try:
        await page.settle()
        before = all_seqs(srv)
        for message, code in AFTER_WELCOME:
            reply = await page.reply_to(message)
            assert reply is not None and reply["type"] == "error", (message[:80], reply)
            assert reply["code"] == code, (message[:80], reply)
            assert reply["message"]
        await page.send(b"\x00binary")
        assert (await page.next_other() or {}).get("code") == "bad_message"
        assert all_seqs(srv) == before
        assert not page.ws.closed
        # the same connection still works for a valid command
        reply = await page.reply_to({"type": "check_in", "key": "ok-1", "site": site, "headcount": 12})
        assert reply is not None and reply["type"] == "ack"
    finally:
        await page.close()
    # the refused create_conference left no trace: its conference does not exist
    assert "x" not in srv.service.conferences
    page = await RawPage.join(srv.base_url, "x", srv.session("admin"))
    assert page.welcome is not None and page.welcome["code"] == "no_conference"
    assert await page.wait_closed() == 4404
    await page.close()
    await still_serves(srv)


async def test_a_frame_over_64_kib_closes_with_1009(server: StartServer) -> None:
    srv = await server(seed="small")
    page = await RawPage.join(srv.base_url, srv.conference, srv.session("secretary"))
    try:
        await page.settle()
        before = all_seqs(srv)
        await page.send({"type": "add_note", "key": "big", "note_id": "big", "text": "a" * (64 * 1024)})
        assert await page.wait_closed() == 1009
        assert all_seqs(srv) == before
    finally:
        await page.close()
    # just under the limit is read, and refused by the domain for its length
    page = await RawPage.join(srv.base_url, srv.conference, srv.session("secretary"))
    try:
        reply = await page.reply_to({"type": "add_note", "key": "big2", "note_id": "big2", "text": "a" * 60_000})
        assert reply is not None and reply["code"] == "invalid_command"
    finally:
        await page.close()
    await still_serves(srv)


async def test_a_flood_is_rate_limited_then_closed_with_4429(server: StartServer) -> None:
    srv = await server(seed="small")
    page = await RawPage.join(srv.base_url, srv.conference, srv.session("observer"))
    try:
        await page.settle()
        before = all_seqs(srv)
        n = 0
        while not page.ws.closed and n < 2000:
            await page.send({"type": "add_note", "key": f"f{n}", "note_id": f"f{n}", "text": "spam"})
            n += 1
        close = await page.wait_closed()
        assert close == 4429
        codes = [m.get("code") for m in page.others if m["type"] == "error"]
        burst = codes.index("rate_limited")
        assert burst >= 55 and set(codes[:burst]) == {"forbidden"}   # the burst is decided (and refused)...
        assert set(codes[burst:]) <= {"rate_limited", "forbidden"}   # ...then mostly refused for rate
        # at most 200 refusals are answered (the page's patience, recovering one a second), then 4429
        assert codes.count("rate_limited") > len(codes) // 3 and len(codes) <= 200
        assert all_seqs(srv) == before
    finally:
        await page.close()
    await still_serves(srv)


async def test_a_flood_of_valid_commands_records_only_what_the_rate_allows(server: StartServer) -> None:
    """A site hammering valid check-ins: the first burst is recorded, the rest refused."""
    srv = await server(seed="small")
    await srv.go_live()
    page = await RawPage.join(srv.base_url, srv.conference, await srv.site_token("X-CHAU"))
    try:
        await page.settle()
        start = srv.hub().seq
        for n in range(150):
            await page.send({"type": "check_in", "key": f"c{n}", "site": "X-CHAU", "headcount": n})
        while len([m for m in page.others if m["type"] in ("ack", "error")]) < 150:
            assert await page.next_other() is not None
        acks = [m for m in page.others if m["type"] == "ack"]
        limited = [m for m in page.others if m.get("code") == "rate_limited"]
        assert len(acks) + len(limited) == 150
        assert 50 <= len(acks) <= 100 and len(limited) >= 50
        assert {m["ref"] for m in limited} <= {f"c{n}" for n in range(150)}   # each names the command refused
        assert len({m["ref"] for m in limited} | {m["key"] for m in acks}) == 150
        assert srv.hub().seq - start == len(acks)
    finally:
        await page.close()
