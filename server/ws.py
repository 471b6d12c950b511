"""The WebSocket endpoint ``/ws``: one connection per page.

One task reads the socket (this handler); the conference's hub writes events to it
directly, from prebuilt frames, without awaiting (a page that falls too far behind is
dropped and resumes from its ``last_seq``). Every message is parsed by protocol.py and
every command decided by the domain; nothing here decides anything.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiohttp import WSMsgType, web

from scheduling import (
    STAFF_ROLES,
    Actor,
    ActorKind,
    Command,
    ConferenceState,
    DomainError,
    Event,
    Role,
    roles_in,
)

from . import protocol as p
from . import views
from .errors import (
    WS_CLOSE_BAD_HELLO,
    WS_CLOSE_FLOOD,
    WS_CLOSE_FORBIDDEN,
    WS_CLOSE_NOT_FOUND,
    WS_CLOSE_TOO_SLOW,
    WS_CLOSE_UNAUTHORIZED,
)
from .hub import EventFrames, StreamHub
from .keys import COOKIE, LIVENESS, MEDIA, METRICS, PRESENCE, SERVICE
from .service import AuthError
from .store import StoreError

log = logging.getLogger(__name__)
HELLO_TIMEOUT_S = 10.0


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Page:
    """A connected page, as a listener of its conference's hub."""

    def __init__(self, ws: web.WebSocketResponse, transport: Any, *, site_view: bool, buffer_limit: int) -> None:
        self.ws = ws
        self.transport = transport
        self.site_view = site_view
        self.buffer_limit = buffer_limit
        self.too_slow = asyncio.Event()
        self.last_heard = time.monotonic()
        self.pinged_at = 0.0

    def ping(self, frame: bytes) -> None:
        t = self.transport
        if t is not None and not t.is_closing():
            t.write(frame)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def deliver(self, seq: int, event: Event, frames: EventFrames) -> None:
        t = self.transport
        if self.too_slow.is_set() or t is None or t.is_closing():
            return
        if t.get_write_buffer_size() > self.buffer_limit:
            self.too_slow.set()
            return
        t.write(frames.site_frame() if self.site_view else frames.frame)


async def handle_ws(request: web.Request) -> web.StreamResponse:
    config = request.app[SERVICE].config
    origin = request.headers.get("Origin")
    if origin is not None and not _origin_ok(request, origin, config.allowed_origins):
        raise web.HTTPForbidden(text="cross-origin WebSocket refused")
    ws = web.WebSocketResponse(autoping=False, max_msg_size=config.max_frame, compress=False)
    await ws.prepare(request)
    metrics = request.app[METRICS]
    metrics.connections.inc()
    try:
        await Connection(request, ws).run()
    finally:
        metrics.connections.dec()
    return ws


def _origin_ok(request: web.Request, origin: str, allowed: tuple[str, ...]) -> bool:
    host = request.headers.get("Host", "")
    return origin in allowed or origin.split("://", 1)[-1] == host


class Connection:
    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        self.request = request
        self.ws = ws
        self.service = request.app[SERVICE]
        self.config = self.service.config
        self.bucket = TokenBucket(rate=20, burst=60)
        self.patience = TokenBucket(rate=1.0, burst=200)   # refusals a page may earn before it is closed
        self.conf_id = ""
        self.actor: Actor | None = None
        self.page: Page | None = None
        self.hub: StreamHub[ConferenceState | None] | None = None
        self.peer_id = ""

    async def send(self, msg: p.ServerMessage) -> None:
        if not self.ws.closed:
            await self.ws.send_str(p.encode(msg))

    async def run(self) -> None:
        try:
            if not await self._hello():
                return
            watchdog = asyncio.create_task(self._watch_slow())
            try:
                await self._loop()
            finally:
                watchdog.cancel()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            await self._leave()

    async def _watch_slow(self) -> None:
        assert self.page is not None
        await self.page.too_slow.wait()
        await self.ws.close(code=WS_CLOSE_TOO_SLOW, message=b"too far behind: reconnect with last_seq")

    # -- hello -----------------------------------------------------------------------------
    async def _hello(self) -> bool:
        try:
            msg = await self.ws.receive(timeout=HELLO_TIMEOUT_S)
        except TimeoutError:
            await self.ws.close(code=WS_CLOSE_BAD_HELLO, message=b"no hello")
            return False
        if msg.type is not WSMsgType.TEXT:
            await self.ws.close(code=WS_CLOSE_BAD_HELLO, message=b"expected a hello text frame")
            return False
        try:
            hello = _parse(msg.data)
        except (p.ProtocolError, DomainError) as exc:
            await self.send(p.Error(code=getattr(exc, "code", "bad_message"), message=exc.message, ref="hello"))
            await self.ws.close(code=WS_CLOSE_BAD_HELLO, message=b"bad hello")
            return False
        if not isinstance(hello, p.Hello):
            await self.send(p.Error(code="hello_first", message="the first message must be hello", ref="hello"))
            await self.ws.close(code=WS_CLOSE_BAD_HELLO, message=b"hello first")
            return False
        token = hello.token or self.request.cookies.get(COOKIE, "")
        try:
            if not token:
                raise AuthError("unauthorized", "a join-link token or a signed-in session is needed")
            conf_id, actor = self.service.actor_for(token, hello.conference)
            hub = await self.service.conference_hub(conf_id or hello.conference)
        except AuthError as exc:
            await self.send(p.Error(code=exc.code, message=exc.message, ref="hello"))
            await self.ws.close(code=WS_CLOSE_FORBIDDEN if exc.code == "forbidden" else WS_CLOSE_UNAUTHORIZED,
                                message=exc.code.encode())
            return False
        except DomainError as exc:
            await self.send(p.Error(code=exc.code, message=exc.message, ref="hello"))
            await self.ws.close(code=WS_CLOSE_NOT_FOUND, message=b"no such conference")
            return False
        state = hub.state
        assert state is not None
        roles = roles_in(state, actor)
        if not roles:
            await self.send(p.Error(code="forbidden", message="you have no role in this conference", ref="hello"))
            await self.ws.close(code=WS_CLOSE_FORBIDDEN, message=b"no role")
            return False
        self.conf_id, self.actor, self.hub = state.conference_id, actor, hub
        site_view = not roles & STAFF_ROLES
        self.page = Page(self.ws, self.request.transport, site_view=site_view,
                         buffer_limit=self.config.send_buffer_limit)
        await self._welcome(hello, roles)
        media = self.request.app.get(MEDIA)
        if media is not None:
            self.peer_id = media.new_peer_id(actor.kind, actor.id)
            await media.attach(self.conf_id, self.peer_id, actor.id if actor.kind is ActorKind.SITE else None,
                               roles, self.send)
        if actor.kind is ActorKind.SITE:
            presence = self.request.app[PRESENCE]
            presence.add_kicker(self.conf_id, actor.id, self._kick)
            await presence.connected(self.conf_id, actor.id)
        return True

    def _kick(self) -> None:
        """The join link this page came in with was revoked or re-issued."""
        asyncio.get_running_loop().create_task(
            self.ws.close(code=WS_CLOSE_UNAUTHORIZED, message=b"join link revoked"))

    async def _welcome(self, hello: p.Hello, roles: frozenset[Role]) -> None:
        hub, page, actor = self.hub, self.page, self.actor
        assert hub is not None and page is not None and actor is not None
        async with hub.lock:
            state = hub.state
            assert state is not None
            seq = hub.seq
            last = hello.last_seq if 0 <= hello.last_seq <= seq else 0
            use_snapshot = hello.snapshot and (last == 0 or seq - last > self.config.snapshot_after)
            snapshot = views.snapshot(hub, roles, self.service.clock(), self.service.names) if use_snapshot else None
            you = p.You(kind=actor.kind.value, id=actor.id, roles=sorted(r.value for r in roles),
                        name=_name(self.service, state, actor))
            await self.send(p.Welcome(conference=self.conf_id, seq=seq, you=you,
                                      server_time=self.service.clock().isoformat(),
                                      heartbeat_s=self.config.heartbeat_s,
                                      ice_servers=[dict(s) for s in self.config.media.ice_servers],
                                      snapshot=snapshot))
            if not use_snapshot:
                for rec in await hub.store.read(hub.name, last):
                    frames = EventFrames.of_record(rec.seq, rec.data)
                    await self.ws.send_str(frames.site_text() if page.site_view else frames.text)
            hub.listeners.add(page)

    # -- messages --------------------------------------------------------------------------
    async def _loop(self) -> None:
        assert self.page is not None
        liveness = self.request.app[LIVENESS]
        liveness.pages.add(self.page)
        try:
            async for msg in self.ws:
                self.page.last_heard = time.monotonic()
                if msg.type is WSMsgType.TEXT:
                    await self._message(msg.data)
                elif msg.type is WSMsgType.PING:
                    await self.ws.pong(msg.data)
                elif msg.type is WSMsgType.PONG:
                    pass
                elif msg.type is WSMsgType.BINARY:
                    await self._refuse("bad_message", "binary frames are not accepted", None)
                else:
                    break
        finally:
            liveness.pages.discard(self.page)

    async def _refuse(self, code: str, message: str, ref: str | None) -> None:
        """Answer a refused message; a page that keeps earning refusals (a flood of bad or
        too many messages: more than 200, recovering one a second) is closed 4429."""
        self.request.app[METRICS].errors.labels(code=code).inc()
        if not self.patience.take():
            await self.ws.close(code=WS_CLOSE_FLOOD, message=b"flood")
            return
        await self.send(p.Error(code=code, message=message, ref=ref))

    async def _message(self, raw: str) -> None:
        if not self.bucket.take():
            await self._refuse("rate_limited", "too many messages: slow down", p.key_of(raw))
            return
        try:
            msg = _parse(raw, self.conf_id)
        except (p.ProtocolError, DomainError) as exc:
            await self._refuse(str(exc.code), exc.message, None)
            return
        if isinstance(msg, Command):
            await self._command(msg)
        elif isinstance(msg, p.Ping):
            await self.send(p.Pong(t=msg.t))
        elif isinstance(msg, p.Hello):
            await self._refuse("already_welcome", "hello was already accepted on this connection", "hello")
        else:
            await self._media(msg)

    async def _command(self, cmd: Command) -> None:
        assert self.actor is not None
        try:
            outcome = await self.service.run_conference(self.conf_id, cmd, self.actor)
        except DomainError as exc:
            await self._refuse(str(exc.code), exc.message, cmd.key)
            return
        except StoreError as exc:   # the store is down: nothing recorded; the page may retry with the key
            log.warning("command %s not recorded: %s", cmd.key, exc)
            await self.send(p.Error(code="busy", message="the server cannot record commands now: try again", ref=cmd.key))
            return
        await self.send(p.Ack(key=cmd.key, seq=outcome.seq, replayed=outcome.replayed))

    async def _media(self, msg: p.ClientControl) -> None:
        media = self.request.app.get(MEDIA)
        if media is None:
            await self._refuse("media_unavailable", "this server runs without a media plane", msg.__struct_config__.tag)  # type: ignore[attr-defined]
            return
        assert self.actor is not None and self.hub is not None
        reply = await media.handle(self.conf_id, self.peer_id, msg)
        if isinstance(reply, p.Error):
            await self._refuse(reply.code, reply.message, reply.ref)
        elif reply is not None:
            await self.send(reply)

    async def _leave(self) -> None:
        if self.page is not None and self.hub is not None:
            self.hub.listeners.discard(self.page)
        media = self.request.app.get(MEDIA)
        if media is not None and self.peer_id:
            await media.detach(self.conf_id, self.peer_id)
        if self.actor is not None and self.actor.kind is ActorKind.SITE and self.page is not None:
            presence = self.request.app[PRESENCE]
            presence.remove_kicker(self.conf_id, self.actor.id, self._kick)
            await presence.disconnected(self.conf_id, self.actor.id)


def _parse(raw: str, conference: str | None = None) -> p.ClientControl | Command:
    """protocol.parse_client; a field check that breaks on hostile input (a bug, logged) is
    refused like any bad input instead of dropping the page."""
    try:
        return p.parse_client(raw, conference=conference)
    except (p.ProtocolError, DomainError):
        raise
    except Exception as exc:
        log.warning("a message broke the parser (a bug to fix): %.200r", raw, exc_info=True)
        raise p.ProtocolError("invalid_message", "the message could not be read") from exc


def _name(service: Any, state: ConferenceState, actor: Actor) -> str:
    if actor.kind is ActorKind.SITE:
        site = state.sites.get(actor.id)
        return site.name if site else actor.id
    acc = service.accounts.state.accounts.get(actor.id)
    return acc.name if acc else actor.id
