"""A log that cannot be grown at will: a storm of reconnects from one join link adds at most a
bounded number of events (presence is live state; only meaningful transitions are recorded),
and the reconnect limits per link and per address refuse the excess with 4429."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from wshelp import RawPage, eventually

StartServer = Callable[..., Awaitable[Any]]
STORM = 200
WINDOW_S = 10.0


async def _storm(base_url: str, conference: str, token: str, count: int, window_s: float) -> dict[str, int]:
    """``count`` pages of one link, each opened, welcomed (or refused) and closed at once,
    within ``window_s``: what answered their hellos."""
    answers: dict[str, int] = {}
    deadline = time.monotonic() + window_s
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        page = await RawPage.join(base_url, conference, token)
        kind = (page.welcome or {}).get("type") if (page.welcome or {}).get("type") == "welcome" \
            else (page.welcome or {}).get("code", "closed")
        answers[str(kind)] = answers.get(str(kind), 0) + 1
        await page.close()
    return answers


async def test_a_reconnect_storm_from_one_link_adds_a_bounded_number_of_events(server: StartServer) -> None:
    srv = await server(seed="small", offline_after_s=2.0)
    await srv.go_live()
    site = srv.seeded.sites[0]
    token = await srv.site_token(site)
    chair = await srv.client(srv.session("chair"))
    before = srv.hub().seq
    started = time.monotonic()
    answers = await _storm(srv.base_url, srv.conference, token, STORM, WINDOW_S)
    took = time.monotonic() - started
    assert sum(answers.values()) == STORM and took <= WINDOW_S + 1, (answers, took)
    # each welcomed page came and went; the log got the site's first coming online, nothing per page
    added = [json_type(r) for r in await srv.hub().store.read(srv.hub().name, before)]
    assert added.count("connection_changed") <= 1, added
    assert len(added) <= 2, added
    assert answers.get("welcome", 0) >= 100                             # the link's burst was let in...
    assert answers.get("too_many_reconnects", 0) >= STORM - 120 - int(took) - 5   # ...the rest refused
    # when the storm is over the site goes offline past the threshold: one event more, once
    await eventually(lambda: chair.connection(site) == "offline", timeout=10)
    after = [json_type(r) for r in await srv.hub().store.read(srv.hub().name, before)]
    assert after.count("connection_changed") == 2, after                # online once, offline once
    # the chair saw it live all along: online, reconnecting, offline
    assert srv.state().attendance[site].connection == "offline"


async def test_the_per_address_limit_refuses_before_the_token_is_read(server: StartServer) -> None:
    srv = await server(seed="small", reconnects_per_address=30)
    codes: dict[str, int] = {}
    for i in range(40):
        page = await RawPage.join(srv.base_url, srv.conference, f"not-a-token-{i}")
        code = (page.welcome or {}).get("code", "?")
        codes[code] = codes.get(code, 0) + 1
        close = await page.wait_closed(timeout=5)
        assert close == (4429 if code == "too_many_reconnects" else 4401), (code, close)
        await page.close()
    assert codes == {"bad_token": 30, "too_many_reconnects": 10}


async def test_a_page_refused_for_reconnecting_too_often_gets_in_later(server: StartServer) -> None:
    srv = await server(seed="small", reconnects_per_link=3)
    site = srv.seeded.sites[1]
    token = await srv.site_token(site)
    answers = await _storm(srv.base_url, srv.conference, token, 5, 5.0)
    assert answers == {"welcome": 3, "too_many_reconnects": 2}
    await asyncio.sleep(1.1)                                              # one more a second
    page = await RawPage.join(srv.base_url, srv.conference, token)
    try:
        assert page.welcome is not None and page.welcome["type"] == "welcome"
    finally:
        await page.close()


def json_type(rec: Any) -> str:
    return str(json.loads(rec.data)["type"])


async def test_live_presence_crosses_processes_without_events(server: StartServer, redis_url: str) -> None:
    """A site on process A reloads its page: the chair on process B sees it reconnecting and
    back online (the Redis board, looked at every heartbeat), and the log records nothing."""
    a = await server(store="redis", redis=redis_url, seed="small", heartbeat_s=0.3, offline_after_s=3.0)
    b = await server(store="redis", redis=redis_url, seed="small", heartbeat_s=0.3, offline_after_s=3.0)
    site = a.seeded.sites[2]
    token = await a.site_token(site)
    chair = await b.client(b.session("chair"))
    shown: list[str] = []

    def watch() -> bool:
        now = chair.connection(site)
        if not shown or shown[-1] != now:
            shown.append(now)
        return False

    first = await a.client(token, reconnect=False)
    await eventually(lambda: watch() or chair.connection(site) == "online")
    seq = b.hub().seq
    await first.close()
    await eventually(lambda: watch() or chair.connection(site) == "reconnecting", timeout=5)
    await a.client(token, reconnect=False)
    await eventually(lambda: watch() or chair.connection(site) == "online", timeout=5)
    assert shown[-3:] == ["online", "reconnecting", "online"]
    await asyncio.sleep(3.5)                                      # past offline_after_s: it stayed online
    assert chair.connection(site) == "online"
    assert b.hub().seq == seq and a.hub().seq == seq              # nothing recorded for the reload


async def test_pages_coming_back_get_exactly_what_they_missed_from_the_shared_replay(server: StartServer) -> None:
    """A storm's pages come back with nearly the same last_seq: the replay (signaling/replay.py)
    frames those events once; pages further behind, or after new events, still get exactly the
    events after their own last_seq, in order, a site's redacted."""
    srv = await server(seed="small")
    secretary = await srv.client(srv.session("secretary"))
    token = await srv.site_token(srv.seeded.sites[0])
    await (await RawPage.join(srv.base_url, srv.conference, token)).close()   # the site's first coming online
    await secretary.command("add_note", note_id="n1", text="Ghi chép nội bộ")
    seq = srv.hub().seq
    stored = {r.seq: json.loads(r.data) for r in await srv.service.store.read(srv.hub().name)}

    async def back(last_seq: int, who: str) -> list[dict[str, Any]]:
        page = await RawPage.join(srv.base_url, srv.conference, token if who == "site" else srv.session(who),
                                  last_seq=last_seq)
        try:
            await page.settle()
            return page.events
        finally:
            await page.close()

    for last_seq, who in [(seq - 2, "chair"), (seq - 2, "site"), (seq - 5, "chair"), (seq - 1, "site"), (seq, "chair")]:
        events = await back(last_seq, who)
        assert [e["seq"] for e in events] == list(range(last_seq + 1, seq + 1)), (last_seq, who)
        for e in events:
            if who == "chair" or stored[e["seq"]]["type"] != "note_added":
                assert e["event"] == stored[e["seq"]]
            else:
                assert e["event"]["type"] == "redacted"
    ack = await secretary.command("add_note", note_id="n2", text="Thêm một ghi chép")   # new events after the replay
    events = await back(seq - 3, "site")
    assert [e["seq"] for e in events] == list(range(seq - 2, ack.seq + 1))
    assert events[-1]["event"]["type"] == "redacted"
