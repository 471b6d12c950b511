"""A Python client of bridgeconf: the WebSocket protocol (``websockets`` package) and the
REST API (aiohttp). Used by the tests, the benchmarks and the headless bridge.

The client folds the events it receives into a :class:`ConferenceState` with the domain's
own ``evolve``, reconnects by itself after a drop (resuming from ``last_seq``), and resends
commands that were not acknowledged with their original idempotency keys.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import websockets
from websockets.asyncio.client import ClientConnection, connect

from scheduling import ConferenceState, event_from_dict, evolve
from scheduling.visibility import SITE_STRIPPED

log = logging.getLogger(__name__)


TRANSIENT = frozenset({"rate_limited", "busy"})   # errors after which a command is sent again


class CommandRefused(Exception):
    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.ref = code, message, ref


@dataclass(frozen=True)
class Ack:
    key: str
    seq: int
    replayed: bool


class BridgeClient:
    def __init__(self, base_url: str, conference: str, token: str, *, reconnect: bool = True,
                 on_message: Callable[[dict[str, Any]], None] | None = None, keepalive_s: float = 3.0) -> None:
        self.ws_url = base_url.replace("http://", "ws://").replace("https://", "wss://").rstrip("/") + "/ws"
        self.conference = conference
        self.token = token
        self.reconnect = reconnect
        self.on_message = on_message
        self.keepalive_s = keepalive_s
        """A ping this often, and a link dead when one is not answered within twice it: as the
        browser's page (``conn.js``), the client finds out by itself that its link died (a
        server that dropped it over that dead link cannot tell it)."""
        self.state: ConferenceState | None = None
        self.presence: dict[str, str] = {}
        """Each site's live connection (welcome and ``presence`` messages): the log records
        only its first coming online, going offline and coming back."""
        self.last_seq = 0
        self.welcome: dict[str, Any] | None = None
        self.connected = asyncio.Event()
        self.closed = False
        self.reconnects = 0
        self._ws: ClientConnection | None = None
        self._pending: dict[str, tuple[dict[str, Any], asyncio.Future[Ack]]] = {}
        self._changed = asyncio.Condition()
        self._runner: asyncio.Task[None] | None = None
        self._replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._answers: collections.deque[asyncio.Future[str]] = collections.deque()
        """The offers sent on this /ws, answered in order (as the page's ``media_signal.js``): an
        offer given up on keeps its place, so its late answer is not taken for the next one's."""
        self._retries: set[asyncio.Task[None]] = set()

    # -- life ------------------------------------------------------------------------------
    async def connect(self, timeout: float = 10.0) -> BridgeClient:
        self._runner = asyncio.create_task(self._run())
        await asyncio.wait_for(self.connected.wait(), timeout)
        return self

    async def close(self) -> None:
        self.closed = True
        for task in self._retries:
            task.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner

    async def drop(self) -> None:
        """Cut the connection abruptly, as a network failure would (the client reconnects)."""
        if self._ws is not None:
            self._ws.transport.abort()

    async def __aenter__(self) -> BridgeClient:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _run(self) -> None:
        delay = 0.1
        while not self.closed:
            try:
                async with connect(self.ws_url, max_size=2**24, compression=None, open_timeout=10,
                                   ping_interval=self.keepalive_s, ping_timeout=2 * self.keepalive_s) as ws:
                    self._ws = ws
                    await ws.send(json.dumps({"type": "hello", "conference": self.conference, "token": self.token,
                                              "last_seq": self.last_seq, "snapshot": False}))
                    await self._read(ws)
            except (TimeoutError, OSError, websockets.ConnectionClosed) as exc:
                log.debug("connection lost: %s", exc)
            except Fatal as exc:
                self._fail_all(exc.error)
                self.closed = True
                self.connected.set()
                return
            finally:
                self.connected.clear()
                self._ws = None
                self._unanswered(CommandRefused("disconnected", "the connection closed before the answer"))
            if not self.reconnect or self.closed:
                self._fail_all(CommandRefused("disconnected", "the connection closed"))
                return
            self.reconnects += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            msg = json.loads(raw)
            kind = msg.get("type")
            if self.on_message is not None:
                self.on_message(msg)
            if kind == "welcome":
                self.welcome = msg
                self.presence.update(msg.get("presence") or {})
                if msg["seq"] < self.last_seq:   # the server's log is shorter (restored from a backup):
                    self.state, self.last_seq = None, 0   # it sends all of it; start over
                self.connected.set()
                for _key, (cmd, fut) in list(self._pending.items()):   # resend what was not acknowledged
                    if not fut.done():
                        await ws.send(json.dumps(cmd))
            elif kind == "event":
                await self._event(msg)
            elif kind == "presence":
                self.presence.update(msg["sites"])
                async with self._changed:
                    self._changed.notify_all()
            elif kind == "ack":
                self._settle(msg["key"], Ack(msg["key"], msg["seq"], msg.get("replayed", False)))
            elif (kind == "answer" or (kind == "error" and msg.get("ref") == "offer")) and self._answers:
                offered = self._answers.popleft()
                if offered.done():         # given up on (timed out, the connection replaced): dropped
                    continue
                if kind == "answer":
                    offered.set_result(str(msg["sdp"]))
                else:
                    offered.set_exception(CommandRefused(msg["code"], msg["message"], "offer"))
            elif kind == "error":
                if msg.get("ref") == "hello":
                    raise Fatal(CommandRefused(msg["code"], msg["message"], "hello"))
                ref = msg.get("ref")
                if msg.get("code") in TRANSIENT:
                    # refused unread or unrecorded: send it again in a while (all pending ones when
                    # the server could not tell which); their keys make a second copy harmless
                    self._resend_later([ref] if ref in self._pending else list(self._pending))
                if ref in self._pending and msg.get("code") not in TRANSIENT:
                    self._settle(ref, CommandRefused(msg["code"], msg["message"], ref))
                elif ref not in self._pending:
                    await self._replies.put(msg)
            else:
                await self._replies.put(msg)

    async def _event(self, msg: dict[str, Any]) -> None:
        seq = msg["seq"]
        if seq <= self.last_seq:
            return
        if seq != self.last_seq + 1:
            raise RuntimeError(f"gap in the event stream: {self.last_seq} -> {seq}")
        data = msg["event"]
        if data.get("type") == "connection_changed":
            self.presence[data["site"]] = data["connection"]
        if data.get("type") != "redacted":
            for name in SITE_STRIPPED.get(data.get("type", ""), ()):   # a site's copy lacks these
                data.setdefault(name, {})
            self.state = evolve(self.state, event_from_dict(data))
        self.last_seq = seq
        async with self._changed:
            self._changed.notify_all()

    def _resend_later(self, keys: list[str], delay: float = 1.0) -> None:
        async def resend() -> None:
            await asyncio.sleep(delay)
            ws = self._ws
            for key in keys:
                entry = self._pending.get(key)
                if entry is not None and not entry[1].done() and ws is not None and self.connected.is_set():
                    with contextlib.suppress(websockets.ConnectionClosed):
                        await ws.send(json.dumps(entry[0]))
        task = asyncio.create_task(resend())
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    def _settle(self, key: str, result: Ack | CommandRefused) -> None:
        entry = self._pending.pop(key, None)
        if entry is None or entry[1].done():
            return
        if isinstance(result, Ack):
            entry[1].set_result(result)
        else:
            entry[1].set_exception(result)

    def _fail_all(self, exc: Exception) -> None:
        for key in list(self._pending):
            self._settle(key, exc if isinstance(exc, CommandRefused) else CommandRefused("failed", str(exc)))

    # -- use -------------------------------------------------------------------------------
    async def command(self, type_: str, *, key: str | None = None, timeout: float = 30.0, **fields: Any) -> Ack:
        """Send a conference command; wait for its ack (resent after a reconnect).
        Raises CommandRefused with the server's error code."""
        cmd = {"type": type_, "key": key or uuid.uuid4().hex, **fields}
        fut: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._pending[cmd["key"]] = (cmd, fut)
        if self._ws is not None and self.connected.is_set():
            with contextlib.suppress(websockets.ConnectionClosed):
                await self._ws.send(json.dumps(cmd))
        ack = await asyncio.wait_for(fut, timeout)
        await self.wait_seq(ack.seq, timeout)
        return ack

    async def offer(self, sdp: str, timeout: float = 20.0) -> str:
        """Send a WebRTC offer; return the server's answer SDP (the media plane's signal).
        Answers come in the order of the offers: this one's, not a late answer to an offer
        given up on before it."""
        await self.connected.wait()
        answered: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._answers.append(answered)
        try:
            await self.send_raw({"type": "offer", "sdp": sdp})
        except BaseException:      # not sent: no answer will come for it
            with contextlib.suppress(ValueError):
                self._answers.remove(answered)
            raise
        return await asyncio.wait_for(answered, timeout)

    def _unanswered(self, why: CommandRefused) -> None:
        """The /ws closed: the offers sent on it will never be answered."""
        while self._answers:
            offered = self._answers.popleft()
            if not offered.done():
                offered.set_exception(why)

    async def send_raw(self, data: str | dict[str, Any]) -> None:
        assert self._ws is not None
        await self._ws.send(data if isinstance(data, str) else json.dumps(data))

    async def reply(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next message that is neither an event, an ack nor an offer's answer (error, pong, ...)."""
        return await asyncio.wait_for(self._replies.get(), timeout)

    def connection(self, site: str) -> str:
        """A site's connection as a page shows it: live, else as the log says."""
        if site in self.presence:
            return self.presence[site]
        return self.state.attendance[site].connection.value if self.state else "offline"

    async def wait_seq(self, seq: int, timeout: float = 10.0) -> None:
        await self.wait_for(lambda _: self.last_seq >= seq, timeout)

    async def wait_for(self, predicate: Callable[[ConferenceState | None], bool], timeout: float = 10.0) -> None:
        async def wait() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self.state))
        await asyncio.wait_for(wait(), timeout)


def link_parts(link: str) -> tuple[str, str, str]:
    """(server base URL, conference id, token) of a join link ``BASE/join/TOKEN``."""
    base, sep, token = link.strip().rpartition("/join/")
    if not sep or not token:
        raise ValueError("a join link looks like http://HOST:PORT/join/TOKEN")
    body = token.split(".")[0]
    try:
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        raise ValueError("the join link's token is malformed") from None
    return base, str(claims.get("c", "")), token


class Fatal(Exception):
    def __init__(self, error: CommandRefused) -> None:
        super().__init__(str(error))
        self.error = error


class ApiClient:
    """The REST API with a bearer token (a session token or a site's join-link token)."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base = base_url.rstrip("/") + "/api/v1"
        self.token = token
        self._http = aiohttp.ClientSession()

    @classmethod
    async def login(cls, base_url: str, account: str, password: str) -> ApiClient:
        client = cls(base_url)
        data = await client.call("POST", "/session", {"account": account, "password": password})
        client.token = data["token"]
        return client

    async def call(self, method: str, path: str, body: Any = None, *, raw: str | None = None,
                   content_type: str = "application/json") -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        kwargs: dict[str, Any] = {}
        if raw is not None:
            kwargs["data"] = raw.encode()
            headers["Content-Type"] = content_type
        elif body is not None:
            kwargs["json"] = body
        async with self._http.request(method, self.base + path, headers=headers, **kwargs) as resp:
            text = await resp.text()
            data = json.loads(text) if resp.content_type == "application/json" else text
            if resp.status >= 400:
                err = data.get("error", {}) if isinstance(data, dict) else {}
                raise CommandRefused(err.get("code", str(resp.status)), err.get("message", text[:200]))
            return data

    async def upload(self, path: str, data: bytes, content_type: str = "application/pdf") -> Any:
        """POST a file as the body (a slide deck); the JSON answer, or CommandRefused."""
        headers = {"Content-Type": content_type}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        async with self._http.post(self.base + path, data=data, headers=headers) as resp:
            text = await resp.text()
            body = json.loads(text) if resp.content_type == "application/json" else text
            if resp.status >= 400:
                err = body.get("error", {}) if isinstance(body, dict) else {}
                raise CommandRefused(err.get("code", str(resp.status)), err.get("message", text[:200]))
            return body

    async def download(self, path: str) -> bytes:
        """A file the API serves (a recording, a document), whole."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self._http.get(self.base + path, headers=headers) as resp:
            if resp.status >= 400:
                raise CommandRefused(str(resp.status), (await resp.text())[:200])
            return await resp.read()

    async def close(self) -> None:
        await self._http.close()
