"""Hypothesis throws generated garbage and valid-but-hostile messages at a live server, from a
site's connection; afterwards the server still serves normal clients, logged no error, and
nothing changed that this site may not change.

The server runs in a thread of its own (its own event loop), so that hypothesis drives a plain
synchronous WebSocket client (``websockets.sync``) example after example.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import typing
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

import scheduling

SITE, OTHERS = "P-AN", ("P-BINH", "X-CHAU", "X-DUNG", "X-EM", "TRU-SO", "KHONG-CO")
pytestmark = pytest.mark.usefixtures("no_server_errors")


@dataclass
class LiveServer:
    base_url: str
    loop: asyncio.AbstractEventLoop
    app: Any
    conference: str
    site_token: str
    chair_token: str

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    @property
    def service(self) -> Any:
        from server.service.keys import SERVICE
        return self.app[SERVICE]


@pytest.fixture
def live_server(tmp_path: Path, seeds: dict[str, Any]) -> Iterator[LiveServer]:
    from aiohttp import web

    from scheduling import Actor, parse_command
    from server.app import create_app
    from server.config import Config, MediaSettings
    from server.service.keys import SERVICE

    ready: Future[LiveServer] = Future()
    stop = threading.Event()

    async def main() -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = Config(port=port, data_dir=tmp_path / "data", media=MediaSettings(enabled=False))
        app = create_app(config)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        svc = app[SERVICE]
        seeded = await seeds["small"](svc)
        in_an_hour = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        chair = Actor.account("chutri")
        for n, (type_, extra) in enumerate((("open_conference", {}), ("start_item", {"item_id": "muc-1"}),
                                             ("open_roll_call", {"round_id": "r1",
                                                                 "deadline": in_an_hour}))):
            await svc.run_conference(seeded.conference, parse_command({"type": type_, "key": f"p{n}", **extra}), chair)
        await svc.run_conference(seeded.conference, parse_command({
            "type": "create_action_item", "key": "p-a1", "action_id": "a1", "title": "Việc", "assignees": [SITE, "P-BINH"],
            "due": "2099-01-01"}), Actor.account("thuky"))
        tokens = await svc.ensure_links(seeded.conference, [SITE])
        ready.set_result(LiveServer(config.base_url, asyncio.get_running_loop(), app, seeded.conference,
                                    tokens[SITE], svc.identity.login("chutri", seeded.password)))
        while not stop.is_set():
            await asyncio.sleep(0.05)
        await runner.cleanup()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    thread = threading.Thread(target=run, name="hostile-server", daemon=True)
    thread.start()
    server = ready.result(30)
    yield server
    stop.set()
    thread.join(30)


# -- what to throw ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)
texts = st.text(max_size=40) | st.sampled_from(["", " ", "\x00", "ễ" * 300, "<script>alert(1)</script>",
                                                 "'; DROP TABLE events; --", "../../../etc/passwd"])
site_codes = st.sampled_from((SITE, *OTHERS)) | st.text(max_size=10)


def value_for(hint: Any) -> st.SearchStrategy[Any]:
    """A value of roughly the right type for a command field: valid often, hostile always."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, __import__("types").UnionType):
        return st.one_of(*(value_for(a) for a in args))
    if origin is typing.Literal:
        return st.sampled_from(args) | st.text(max_size=8)
    if origin in (tuple, list):
        return st.lists(value_for(args[0]) if args else json_values, max_size=5)
    if hint is type(None):
        return st.none()
    if isinstance(hint, type) and issubclass(hint, Enum):
        return st.sampled_from([m.value for m in hint]) | st.text(max_size=8)
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(-10, 500) | st.integers()
    if hint is str:
        return site_codes | st.sampled_from(["muc-1", "muc-2", "r1", "a1", "n1"]) | texts
    if hint is datetime:
        return st.sampled_from(["2099-01-01T08:00:00+07:00", "2000-01-01T00:00:00+00:00",
                                "2099-01-01T08:00:00", "not a date"])
    if hint is date:
        return st.sampled_from(["2099-01-01", "1999-12-31", "2099-13-45"])
    if isinstance(hint, type) and hasattr(hint, "__dataclass_fields__"):
        return st.fixed_dictionaries({f.name: value_for(typing.get_type_hints(hint)[f.name]) for f in fields(hint)})
    return json_values


@st.composite
def commands(draw: st.DrawFn) -> dict[str, Any]:
    cls = draw(st.sampled_from(sorted(scheduling.COMMANDS.values(), key=lambda c: c.TYPE)))
    hints = typing.get_type_hints(cls)
    data: dict[str, Any] = {"type": cls.TYPE,
                            "key": draw(st.from_regex(r"[A-Za-z0-9_.:-]{1,20}", fullmatch=True) | texts)}
    for f in fields(cls):
        if f.name in ("key",) or draw(st.integers(0, 9)) == 0:     # now and then a field is missing
            continue
        data[f.name] = draw(value_for(hints[f.name]))
    if draw(st.integers(0, 5)) == 0:
        data[draw(st.sampled_from(["conference", "actor", "admin", "seq", "at"]))] = draw(json_values)
    return data


controls = st.one_of(
    st.fixed_dictionaries({"type": st.just("hello"), "conference": st.sampled_from(["hop-nho", "hop-khac", "x"]),
                           "token": texts}),
    st.fixed_dictionaries({"type": st.just("ping"), "t": json_values}),
    st.fixed_dictionaries({"type": st.sampled_from(["offer", "candidate", "media_prefs"]), "sdp": texts}),
    st.fixed_dictionaries({"type": texts}),
)
garbage = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    json_values.map(json.dumps),
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),         # deep nesting
    st.integers(1, 3000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.sampled_from(['{"type": "check_in"', '{"type": "check_in", "type": "ping"}', "1e999999",
                     '{"type": "ping", "t": 1e400}', '{"type": null}', "\x00" * 50]),
)
messages = st.lists(st.one_of(commands().map(json.dumps), controls.map(json.dumps), garbage), min_size=1,
                    max_size=12)


# -- the checks ----------------------------------------------------------------------------------

def protected_view(state: Any) -> dict[str, Any]:
    """What a site may not change: everything but its own attendance, floor request, mute,
    roll-call answer and progress reports."""
    from scheduling.codec import to_plain
    plain = to_plain(state)
    for key in ("version", "results"):
        plain.pop(key, None)
    plain["attendance"] = {c: {k: v for k, v in a.items() if k not in ("connection", "first_joined", "last_left")}
                           for c, a in plain["attendance"].items() if c != SITE}
    plain["floor"]["queue"] = [r for r in plain["floor"]["queue"] if r["site"] != SITE]
    plain["floor"]["muted"] = sorted(m for m in plain["floor"]["muted"] if m != SITE)
    for rc in plain["roll_calls"].values():
        rc["answers"] = {c: v for c, v in rc["answers"].items() if c != SITE}
    for a in plain["actions"].values():
        a["updates"] = [p for p in a["updates"] if p["site"] != SITE]
        a.pop("status", None)
    return plain


ALLOWED_CLOSE = {1009, 4429}       # too big; flood


def throw(server: LiveServer, batch: list[str | bytes]) -> None:
    url = server.base_url.replace("http://", "ws://") + "/ws"
    with connect(url, max_size=None, compression=None, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "hello", "conference": server.conference, "token": server.site_token,
                            "last_seq": 10**9}))    # unknown to the server: gets everything
        assert json.loads(ws.recv(10))["type"] == "welcome"
        try:
            for message in batch:
                ws.send(message)
            ws.send(json.dumps({"type": "ping", "t": -1.5}))
            while True:
                raw = ws.recv(10)
                msg = json.loads(raw)
                assert isinstance(msg, dict) and msg.get("type") in ("event", "ack", "error", "pong"), raw[:200]
                if msg["type"] == "error":
                    assert isinstance(msg["code"], str) and msg["code"] and isinstance(msg["message"], str)
                if msg["type"] == "pong" and msg.get("t") == -1.5:
                    return
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            assert code in ALLOWED_CLOSE, f"closed with {code} ({exc})"


def test_garbage_and_hostile_messages_never_hurt_the_server(live_server: LiveServer) -> None:
    server = live_server
    hub = server.service.conferences[server.conference]

    async def snapshot() -> tuple[dict[str, Any], int]:   # on the server's loop: its state moves
        return protected_view(hub.state), hub.seq

    before, start = server.call(snapshot())

    @settings(max_examples=120, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                     HealthCheck.data_too_large])
    @given(batch=messages)
    def example(batch: list[str | bytes]) -> None:
        thrown.append(len(batch))
        throw(server, batch)

    thrown: list[int] = []
    example()
    assert len(thrown) >= 100                      # examples really ran

    # nothing changed that this site may not change; every new event is its own or the server's
    assert server.call(snapshot())[0] == before
    new = [json.loads(r.data) for r in server.call(hub.store.read(hub.name, start))]
    assert {e["actor"] for e in new} <= {f"site:{SITE}", "system:server"}
    assert all(e.get("site", SITE) == SITE for e in new)

    # and it still serves a normal client: the chair's command, and a page that loads the log
    url = server.base_url.replace("http://", "ws://") + "/ws"
    with connect(url, compression=None) as chair:
        chair.send(json.dumps({"type": "hello", "conference": server.conference, "token": server.chair_token,
                               "last_seq": 0, "snapshot": False}))
        assert json.loads(chair.recv(10))["type"] == "welcome"
        chair.send(json.dumps({"type": "edit_agenda_item", "key": "after-1", "item_id": "muc-3", "title": "Mục 3"}))
        seqs, ack = [], None
        while ack is None:
            msg = json.loads(chair.recv(10))
            if msg["type"] == "event":
                seqs.append(msg["seq"])
            elif msg["type"] == "ack":
                ack = msg
        assert ack["key"] == "after-1" and seqs == list(range(1, ack["seq"] + 1))
