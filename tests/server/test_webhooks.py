"""Outgoing webhooks against a real HTTP receiver on 127.0.0.1: configured by the admin only
(URL checked), signed (Bridgeconf-Signature: t=..,v1=..), retried with a doubling wait after
the receiver answers 500, shown in the delivery log, and delivered after a kill -9 and a
restart, both when an attempt had failed before and when none had been made yet."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from scheduling.outbox import verify_signature
from server.service.keys import WEBHOOKS
from server.tools import demo
from server.tools.client import ApiClient, BridgeClient, CommandRefused

StartServer = Callable[..., Awaitable[Any]]
SECRET = "bi-mat-cua-he-thong-van-ban-2025"


async def recorded(admin: Any, hook: str, timeout: float = 10.0) -> dict[str, Any]:
    """The hook's one delivery, once its log shows it delivered."""
    deadline = time.monotonic() + timeout
    while True:
        (d,) = (await admin.call("GET", f"/webhooks/deliveries?hook={hook}"))["deliveries"]
        if d["status"] == "delivered" or time.monotonic() > deadline:
            assert d["status"] == "delivered", d
            return dict(d)
        await asyncio.sleep(0.05)


def verified(received: Any) -> dict[str, Any]:
    assert verify_signature(SECRET, received.headers["Bridgeconf-Signature"], received.body, now=int(time.time()))
    body = json.loads(received.body)
    assert body["id"] == received.headers["Bridgeconf-Delivery"] and body["type"] == received.headers["Bridgeconf-Event"]
    return body


async def test_signed_delivery_retried_after_500_with_backoff(server: StartServer, receiver: Any,
                                                              no_server_errors: None) -> None:
    srv = await server(seed="small", webhook_retry_s=0.3)
    admin = srv.api(srv.session("admin"))
    created = await admin.call("POST", "/webhooks", {"hook_id": "van-ban", "url": receiver.url, "secret": SECRET,
                                                     "events": ["conference.opened", "conference.ended"]})
    assert created["hook_id"] == "van-ban"
    receiver.answers = [500, 503]
    await srv.go_live()
    got = await receiver.wait_for(lambda r: any(x.answered == 200 for x in r))
    assert [r.answered for r in got] == [500, 503, 200]
    bodies = [verified(r) for r in got]
    assert bodies[0] == bodies[1] == bodies[2]                       # one delivery, sent three times
    assert bodies[0]["type"] == "conference.opened" and bodies[0]["data"]["conference_id"] == srv.conference
    assert got[1].at - got[0].at >= 0.3 * 0.9 and got[2].at - got[1].at >= 0.6 * 0.9   # the wait doubles
    d = await recorded(admin, "van-ban")      # the attempt is recorded once the receiver has answered
    assert [a["status_code"] for a in d["attempts"]] == [500, 503, 200]
    assert d["delivery_id"] == bodies[0]["id"]
    listed = (await admin.call("GET", "/webhooks"))["webhooks"]
    assert listed[0]["counts"] == {"pending": 0, "delivered": 1, "gave_up": 0}
    assert SECRET not in json.dumps(listed) and listed[0]["secret_hint"] == "…" + SECRET[-4:]
    # a type the hook did not ask for is not sent; the one it did is
    await srv.run("chair", "end_conference")
    got = await receiver.wait_for(lambda r: len(r) == 4)
    assert verified(got[3])["type"] == "conference.ended"
    await asyncio.sleep(0.5)
    assert len(receiver.received) == 4                                # each delivered once


async def test_only_the_admin_configures_and_urls_are_checked(server: StartServer, receiver: Any) -> None:
    srv = await server(seed="small")
    admin = srv.api(srv.session("admin"))
    chair = srv.api(srv.session("chair"))
    hook = {"hook_id": "h1", "url": receiver.url, "secret": SECRET, "events": ["minutes.approved"]}
    for api, path in ((chair, "/webhooks"), (chair, "/webhooks/deliveries")):
        with pytest.raises(CommandRefused) as err:
            await api.call("GET", path)
        assert err.value.code == "forbidden"
    with pytest.raises(CommandRefused) as err:
        await chair.call("POST", "/webhooks", hook)
    assert err.value.code == "forbidden"
    for url in ("ftp://127.0.0.1/x", "http://user:pass@127.0.0.1/hook", "javascript:alert(1)", "http://"):
        with pytest.raises(CommandRefused) as err:
            await admin.call("POST", "/webhooks", {**hook, "url": url})
        assert err.value.code == "invalid_command"
    with pytest.raises(CommandRefused):
        await admin.call("POST", "/webhooks", {**hook, "events": ["everything"]})
    await admin.call("POST", "/webhooks", hook)
    await admin.call("PATCH", "/webhooks/h1", {"active": False})
    assert (await admin.call("GET", "/webhooks"))["webhooks"][0]["active"] is False
    await admin.call("DELETE", "/webhooks/h1")
    assert (await admin.call("GET", "/webhooks"))["webhooks"] == []
    with pytest.raises(CommandRefused):
        await admin.call("DELETE", "/webhooks/h1")


async def test_no_delivery_is_lost_to_kill_9(bridgeconf_proc: Callable[..., Any], receiver: Any) -> None:
    proc = bridgeconf_proc(demo=True, extra=("--webhook-retry", "0.3"))
    admin = await ApiClient.login(proc.base_url, "admin", proc.password)
    await admin.call("POST", "/webhooks", {"hook_id": "lanh-dao", "url": receiver.url, "secret": SECRET,
                                           "events": ["conference.opened", "conference.ended"]})
    await admin.close()
    receiver.answers = [500] * 1000
    chair_api = await ApiClient.login(proc.base_url, "chutri", proc.password)
    chair = await BridgeClient(proc.base_url, demo.CONFERENCE, chair_api.token).connect()
    await chair.command("open_conference")
    await receiver.wait_for(lambda r: len(r) >= 2)                    # failed twice, retrying
    await chair.close()
    await chair_api.close()
    proc.kill9()
    receiver.answers = []
    first_id = receiver.received[0].headers["Bridgeconf-Delivery"]
    proc.start()
    got = await receiver.wait_for(lambda r: r[-1].answered == 200)
    assert verified(got[-1])["type"] == "conference.opened" and got[-1].headers["Bridgeconf-Delivery"] == first_id

    # the conference ends and the server is killed at once: the fact is still there after the restart
    chair_api = await ApiClient.login(proc.base_url, "chutri", proc.password)
    chair = await BridgeClient(proc.base_url, demo.CONFERENCE, chair_api.token).connect()
    await chair.command("end_conference")
    proc.kill9()
    await chair.close()
    await chair_api.close()
    proc.start()
    got = await receiver.wait_for(lambda r: any(x.headers.get("Bridgeconf-Event") == "conference.ended"
                                                and x.answered == 200 for x in r))
    ended = [x for x in got if x.headers.get("Bridgeconf-Event") == "conference.ended"]
    assert {x.headers["Bridgeconf-Delivery"] for x in ended} == {ended[0].headers["Bridgeconf-Delivery"]}
    admin = await ApiClient.login(proc.base_url, "admin", proc.password)
    deadline = time.monotonic() + 10
    while True:   # the last attempt is recorded once the receiver has answered
        log = (await admin.call("GET", "/webhooks/deliveries"))["deliveries"]
        if all(d["status"] == "delivered" for d in log) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    await admin.close()
    assert sorted((d["event"], d["status"]) for d in log) == [("conference.ended", "delivered"),
                                                              ("conference.opened", "delivered")]


async def test_an_idle_reactor_sleeps(server: StartServer) -> None:
    """With nothing to send the reactor wakes only for its minute's check (no busy loop)."""
    srv = await server(seed="small")
    await asyncio.sleep(0.2)
    reactor: Any = srv.app[WEBHOOKS]
    assert reactor.next_wake_s() > 30
