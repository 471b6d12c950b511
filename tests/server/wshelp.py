"""Helpers of the server tests: raw WebSocket pages (to send what a well-behaved client never
would), a TCP proxy that can take a page's network down, polling, and an app served on a
free loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import socket
import struct
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from aiohttp import web


async def eventually(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02,
                     what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        await asyncio.sleep(interval)


async def until(predicate: Callable[[], Any], what: str, timeout: float = 15.0) -> None:
    """``eventually``, naming what was awaited when it times out."""
    await eventually(predicate, timeout=timeout, interval=0.05, what=what)


def watch_connections(log: list[tuple[float, str, str]], *, live: bool = True) -> Callable[[dict[str, Any]], None]:
    """An on_message hook that records (time, site, connection) of connection_changed events
    and (``live``) of presence messages: what a page shows of each site's connection."""
    def hook(msg: dict[str, Any]) -> None:
        ev = msg.get("event") or {}
        if msg.get("type") == "event" and ev.get("type") == "connection_changed":
            log.append((time.monotonic(), ev["site"], ev["connection"]))
        elif live and msg.get("type") == "presence":
            now = time.monotonic()
            log.extend((now, site, connection) for site, connection in msg["sites"].items())
    return hook


def states_of(log: list[tuple[float, str, str]], site: str) -> list[str]:
    """The states a page showed for ``site`` in turn (a state told twice in a row counts once:
    a recorded transition is also told live)."""
    out: list[str] = []
    for _, s, c in log:
        if s == site and (not out or out[-1] != c):
            out.append(c)
    return out


class RawPage:
    """A WebSocket page that sends exactly what the test says (aiohttp client, no
    reconnection, no size limit on what it sends)."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.session = session
        self.ws = ws
        self.events: list[dict[str, Any]] = []     # event messages received, in order
        self.presence: list[dict[str, Any]] = []   # live connection changes of the sites, in order
        self.others: list[dict[str, Any]] = []     # every other message, in order

    @classmethod
    async def open(cls, base_url: str, *, autoping: bool = True, headers: dict[str, str] | None = None) -> RawPage:
        session = aiohttp.ClientSession()
        try:
            ws = await session.ws_connect(base_url.rstrip("/") + "/ws", autoping=autoping, max_msg_size=0,
                                          headers=headers or {})
        except BaseException:
            await session.close()
            raise
        return cls(session, ws)

    @classmethod
    async def join(cls, base_url: str, conference: str, token: str | None, *, last_seq: int = 0,
                   snapshot: bool = False, **kw: Any) -> RawPage:
        """Open and say hello; the welcome is in ``page.welcome`` (or the error that answered)."""
        page = await cls.open(base_url, **kw)
        hello: dict[str, Any] = {"type": "hello", "conference": conference, "last_seq": last_seq, "snapshot": snapshot}
        if token is not None:
            hello["token"] = token
        await page.send(hello)
        page.welcome = await page.next_other()
        return page

    welcome: dict[str, Any] | None = None
    close_frame: int | None = None

    async def send(self, data: str | bytes | dict[str, Any]) -> None:
        if isinstance(data, bytes):
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False))

    async def _receive(self, timeout: float) -> dict[str, Any] | None:
        # one deadline for the whole wait (aiohttp restarts its own timeout after each ping)
        async with asyncio.timeout(timeout):
            msg = await self.ws.receive()
        if msg.type is aiohttp.WSMsgType.CLOSE:
            self.close_frame = int(msg.data)    # what the server said (aiohttp may then note 1006 when
            return None                         # the server has closed TCP before its reply)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            return None
        data: dict[str, Any] = json.loads(msg.data)
        kind = data.get("type")
        (self.events if kind == "event" else self.presence if kind == "presence" else self.others).append(data)
        return data

    async def next_other(self, timeout: float = 10.0) -> dict[str, Any] | None:
        """The next message that is not an event nor a presence change (None when the socket closed)."""
        deadline = time.monotonic() + timeout
        while True:
            data = await self._receive(max(0.01, deadline - time.monotonic()))
            if data is None or data.get("type") not in ("event", "presence"):
                return data

    async def wait_event(self, seq: int, timeout: float = 10.0) -> dict[str, Any]:
        """Read until the event ``seq`` has arrived; that event's message."""
        deadline = time.monotonic() + timeout
        while not any(e["seq"] == seq for e in self.events):
            if await self._receive(max(0.01, deadline - time.monotonic())) is None:
                raise AssertionError(f"the socket closed before event {seq} (code {self.ws.close_code})")
        return next(e for e in self.events if e["seq"] == seq)

    async def reply_to(self, message: str | bytes | dict[str, Any], timeout: float = 10.0) -> dict[str, Any] | None:
        await self.send(message)
        return await self.next_other(timeout)

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until the server has handled everything sent before (a ping answered; pings
        refused for rate are sent again)."""
        deadline = time.monotonic() + timeout
        while True:
            marker = time.monotonic()
            await self.send({"type": "ping", "t": marker})
            while True:
                try:
                    data = await self.next_other(min(1.0, max(0.01, deadline - time.monotonic())))
                except TimeoutError:
                    if time.monotonic() > deadline:
                        raise
                    break                               # refused for rate, most likely: again
                if data is None or (data.get("type") == "pong" and data.get("t") == marker):
                    return

    async def wait_closed(self, timeout: float = 10.0) -> int | None:
        """Read until the server closes; the close code."""
        deadline = time.monotonic() + timeout
        while not self.ws.closed and time.monotonic() < deadline:
            with contextlib.suppress(asyncio.TimeoutError):
                await self._receive(max(0.01, deadline - time.monotonic()))
        return self.close_frame if self.close_frame is not None else self.ws.close_code

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        await self.session.close()


_DROP_ALL = ctypes.create_string_buffer(struct.pack("HBBI", 0x06, 0, 0, 0))    # classic BPF: ret #0
SO_ATTACH_FILTER, SO_DETACH_FILTER = 26, 27


def kill_link(sock: Any) -> None:
    """The link of ``sock`` dies: a socket filter drops every packet that reaches it before TCP
    sees it, so its kernel acknowledges nothing (as when a cable is pulled: the peer's data
    stays unacknowledged and is retransmitted). Linux; no privilege needed."""
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", 1, ctypes.addressof(_DROP_ALL)))


def revive_link(sock: Any) -> None:
    """The link of ``sock`` is back: retransmitted packets get through again."""
    with contextlib.suppress(OSError):       # closed meanwhile, or no filter
        sock.setsockopt(socket.SOL_SOCKET, SO_DETACH_FILTER, 0)


class FlakyNetwork:
    """A TCP proxy in front of a server whose network can go down and come back.

    Down, it forwards nothing either way and its sockets acknowledge nothing (``kill_link``):
    both ends see a dead link, their data unacknowledged and retransmitted. Back up, what was
    retransmitted gets through; a side that was closed meanwhile is seen closed."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._up = asyncio.Event()
        self._up.set()
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FlakyNetwork:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def down(self) -> None:
        self._up.clear()
        for w in self._writers:
            if (sock := w.get_extra_info("socket")) is not None:
                kill_link(sock)

    def up(self) -> None:
        for w in self._writers:
            if (sock := w.get_extra_info("socket")) is not None:
                revive_link(sock)
        self._up.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._up.wait()
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while True:
                await self._up.wait()
                data = await src.read(65536)
                await self._up.wait()
                if not data:
                    break
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            dst.close()

    async def close(self) -> None:
        self._up.set()
        if self._server is not None:
            self._server.close()
        for w in self._writers:
            w.close()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def demo_access(base_url: str, password: str, conference: str = "so-ket-quy-3") -> tuple[Any, dict[str, str]]:
    """For a server seeded with the demo: the admin's API client and every invited site's
    join-link token (issued through the API, as an organizer would)."""
    from server.tools.client import ApiClient
    admin = await ApiClient.login(base_url, "admin", password)
    rows = (await admin.call("GET", f"/conferences/{conference}/links"))["links"]
    return admin, {r["site"]: r["url"].rsplit("/join/", 1)[1] for r in rows}


async def login(base_url: str, account: str, password: str) -> str:
    """A session token."""
    from server.tools.client import ApiClient
    api = await ApiClient.login(base_url, account, password)
    await api.close()
    assert api.token is not None
    return api.token


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(config: Any) -> AsyncIterator[web.Application]:
    """``create_app(config)`` listening on ``config.host:config.port`` until the block ends."""
    from server.app import create_app
    app = create_app(config)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, config.host, config.port).start()
        yield app
    finally:
        await runner.cleanup()


async def seed_demo(app: web.Application, password: str) -> tuple[Any, dict[str, str], Any]:
    """The demo conference in a served app: (its service, the sites' join tokens, its state)."""
    from server.service.keys import SERVICE
    from server.tools import demo
    service = app[SERVICE]
    await demo.seed(service, password=password)
    tokens = await service.ensure_links(demo.CONFERENCE)
    return service, tokens, service.conferences[demo.CONFERENCE].state
