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
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from scheduling import (
    STAFF_ROLES,
    Actor,
    ActorKind,
    Command,
    ConferenceState,
    DomainError,
    Role,
    roles_in,
)

from .. import protocol as p
from ..errors import (
    WS_CLOSE_BAD_HELLO,
    WS_CLOSE_FLOOD,
    WS_CLOSE_FORBIDDEN,
    WS_CLOSE_NOT_FOUND,
    WS_CLOSE_TOO_SLOW,
    WS_CLOSE_UNAUTHORIZED,
)
from ..service import read_models
from ..service.hub import StreamHub
from ..service.identity import AuthError
from ..service.keys import COOKIE, MEDIA, METRICS, PRESENCE, SERVICE
from ..service.service import Service
from ..store import StoreError
from .closes import ClosingSocket
from .fanout import EventFrames, Page, PageFanout
from .liveness import LIVENESS

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


async def handle_ws(request: web.Request) -> web.StreamResponse:
    config = request.app[SERVICE].config
    origin = request.headers.get("Origin")
    if origin is not None and not _origin_ok(request, origin, config.allowed_origins):
        raise web.HTTPForbidden(text="cross-origin WebSocket refused")
    ws = ClosingSocket(autoping=False, max_msg_size=config.max_frame, compress=False)
    await ws.prepare(request)
    metrics = request.app[METRICS]
    metrics.connections.inc()
    try:
        await Connection(request, ws).run()
    finally:
        metrics.connections.dec()
        metrics.ws_closed(ws.why_closed)
    return ws


def _origin_ok(request: web.Request, origin: str, allowed: tuple[str, ...]) -> bool:
    host = request.headers.get("Host", "")
    return origin in allowed or origin.split("://", 1)[-1] == host


@dataclass
class Session:
    """What a connection is once its ``hello`` was accepted: who, in which conference, and
    where its events are written."""

    conf_id: str
    actor: Actor
    hub: StreamHub[ConferenceState | None]
    page: Page
    fanout: PageFanout
    peer_id: str = ""


class Connection:
    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        self.request = request
        self.ws = ws
        self.service = request.app[SERVICE]
        self.config = self.service.config
        self.bucket = TokenBucket(rate=20, burst=60)
        self.patience = TokenBucket(rate=1.0, burst=200)   # refusals a page may earn before it is closed
        self.session: Session | None = None

    async def send(self, msg: p.ServerMessage) -> None:
        if not self.ws.closed:
            await self.ws.send_str(p.encode(msg))

    async def run(self) -> None:
        try:
            session = await self._hello()
            if session is None:
                return
            self.session = session
            watchdog = asyncio.create_task(self._watch_slow(session.page))
            try:
                await self._loop(session)
            finally:
                watchdog.cancel()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            if self.session is not None:
                await self._leave(self.session)

    async def _watch_slow(self, page: Page) -> None:
        await page.too_slow.wait()
        await self.ws.close(code=WS_CLOSE_TOO_SLOW, message=b"too far behind: reconnect with last_seq")

    # -- hello -----------------------------------------------------------------------------
    async def _hello(self) -> Session | None:
        try:
            msg = await self.ws.receive(timeout=HELLO_TIMEOUT_S)
        except TimeoutError:
            await self.ws.close(code=WS_CLOSE_BAD_HELLO, message=b"no hello")
            return None
        if msg.type is not WSMsgType.TEXT:
            await self.ws.close(code=WS_CLOSE_BAD_HELLO, message=b"expected a hello text frame")
            return None
        try:
            hello = _parse(msg.data)
        except (p.ProtocolError, DomainError) as exc:
            await self.send(p.Error(code=getattr(exc, "code", "bad_message"), message=exc.message, ref="hello"))
            await self.ws.close(code=WS_CLOSE_BAD_HELLO, message=b"bad hello")
            return None
        if not isinstance(hello, p.Hello):
            await self.send(p.Error(code="hello_first", message="the first message must be hello", ref="hello"))
            await self.ws.close(code=WS_CLOSE_BAD_HELLO, message=b"hello first")
            return None
        token = hello.token or self.request.cookies.get(COOKIE, "")
        try:
            if not token:
                raise AuthError("unauthorized", "a join-link token or a signed-in session is needed")
            conf_id, actor = self.service.identity.actor_for(token, hello.conference)
            hub = await self.service.conference_hub(conf_id or hello.conference)
        except AuthError as exc:
            await self.send(p.Error(code=exc.code, message=exc.message, ref="hello"))
            await self.ws.close(code=WS_CLOSE_FORBIDDEN if exc.code == "forbidden" else WS_CLOSE_UNAUTHORIZED,
                                message=exc.code.encode())
            return None
        except DomainError as exc:
            await self.send(p.Error(code=exc.code, message=exc.message, ref="hello"))
            await self.ws.close(code=WS_CLOSE_NOT_FOUND, message=b"no such conference")
            return None
        state = hub.state
        assert state is not None
        roles = roles_in(state, actor)
        if not roles:
            await self.send(p.Error(code="forbidden", message="you have no role in this conference", ref="hello"))
            await self.ws.close(code=WS_CLOSE_FORBIDDEN, message=b"no role")
            return None
        page = Page(self.ws, self.request.transport, site_view=not roles & STAFF_ROLES,
                    buffer_limit=self.config.send_buffer_limit)
        session = Session(state.conference_id, actor, hub, page, PageFanout.of(hub))
        await self._welcome(session, hello, roles)
        media = self.request.app.get(MEDIA)
        if media is not None:
            session.peer_id = media.new_peer_id(actor.kind, actor.id)
            await media.attach(session.conf_id, session.peer_id, actor.id if actor.kind is ActorKind.SITE else None,
                               roles, self.send)
        if actor.kind is ActorKind.SITE:
            presence = self.request.app[PRESENCE]
            presence.add_kicker(session.conf_id, actor.id, self._kick)
            await presence.connected(session.conf_id, actor.id)
        return session

    def _kick(self) -> None:
        """The join link this page came in with was revoked or re-issued."""
        asyncio.get_running_loop().create_task(
            self.ws.close(code=WS_CLOSE_UNAUTHORIZED, message=b"join link revoked"))

    async def _welcome(self, session: Session, hello: p.Hello, roles: frozenset[Role]) -> None:
        hub, page, actor = session.hub, session.page, session.actor
        async with hub.lock:
            state = hub.state
            assert state is not None
            seq = hub.seq
            last = hello.last_seq if 0 <= hello.last_seq <= seq else 0
            use_snapshot = hello.snapshot and (last == 0 or seq - last > self.config.snapshot_after)
            snapshot = read_models.snapshot(hub, roles, self.service.clock(), self.service.names) if use_snapshot else None
            you = p.You(kind=actor.kind.value, id=actor.id, roles=sorted(r.value for r in roles),
                        name=_name(self.service, state, actor))
            await self.send(p.Welcome(conference=session.conf_id, seq=seq, you=you,
                                      server_time=self.service.clock().isoformat(),
                                      heartbeat_s=self.config.heartbeat_s,
                                      ice_servers=[dict(s) for s in self.config.media.ice_servers],
                                      snapshot=snapshot))
            if not use_snapshot:
                for rec in await hub.store.read(hub.name, last):
                    frames = EventFrames.of_record(rec.seq, rec.data)
                    await self.ws.send_str(frames.site_text() if page.site_view else frames.text)
            session.fanout.pages.add(page)

    # -- messages --------------------------------------------------------------------------
    async def _loop(self, session: Session) -> None:
        liveness = self.request.app[LIVENESS]
        liveness.pages.add(session.page)
        try:
            async for msg in self.ws:
                session.page.last_heard = time.monotonic()
                if msg.type is WSMsgType.TEXT:
                    await self._message(session, msg.data)
                elif msg.type is WSMsgType.PING:
                    await self.ws.pong(msg.data)
                elif msg.type is WSMsgType.PONG:
                    pass
                elif msg.type is WSMsgType.BINARY:
                    await self._refuse("bad_message", "binary frames are not accepted", None)
                else:
                    break
        finally:
            liveness.pages.discard(session.page)

    async def _refuse(self, code: str, message: str, ref: str | None) -> None:
        """Answer a refused message; a page that keeps earning refusals (a flood of bad or
        too many messages: more than 200, recovering one a second) is closed 4429."""
        self.request.app[METRICS].errors.labels(code=code).inc()
        if not self.patience.take():
            await self.ws.close(code=WS_CLOSE_FLOOD, message=b"flood")
            return
        await self.send(p.Error(code=code, message=message, ref=ref))

    async def _message(self, session: Session, raw: str) -> None:
        if not self.bucket.take():
            await self._refuse("rate_limited", "too many messages: slow down", p.key_of(raw))
            return
        try:
            msg = _parse(raw, session.conf_id)
        except (p.ProtocolError, DomainError) as exc:
            await self._refuse(str(exc.code), exc.message, None)
            return
        if isinstance(msg, Command):
            await self._command(session, msg)
        elif isinstance(msg, p.Ping):
            await self.send(p.Pong(t=msg.t))
        elif isinstance(msg, p.Hello):
            await self._refuse("already_welcome", "hello was already accepted on this connection", "hello")
        else:
            await self._media(session, msg)

    async def _command(self, session: Session, cmd: Command) -> None:
        try:
            outcome = await self.service.run_conference(session.conf_id, cmd, session.actor)
        except DomainError as exc:
            await self._refuse(str(exc.code), exc.message, cmd.key)
            return
        except StoreError as exc:   # the store is down: nothing recorded; the page may retry with the key
            log.warning("command %s not recorded: %s", cmd.key, exc)
            await self.send(p.Error(code="busy", message="the server cannot record commands now: try again", ref=cmd.key))
            return
        await self.send(p.Ack(key=cmd.key, seq=outcome.seq, replayed=outcome.replayed))

    async def _media(self, session: Session, msg: p.ClientControl) -> None:
        media = self.request.app.get(MEDIA)
        if media is None:
            await self._refuse("media_unavailable", "this server runs without a media plane", _tag(msg))
            return
        reply = await media.handle(session.conf_id, session.peer_id, msg)
        if isinstance(reply, p.Error):
            await self._refuse(reply.code, reply.message, reply.ref)
        elif reply is not None:
            await self.send(reply)

    async def _leave(self, session: Session) -> None:
        session.fanout.pages.discard(session.page)
        media = self.request.app.get(MEDIA)
        if media is not None and session.peer_id:
            await media.detach(session.conf_id, session.peer_id)
        if session.actor.kind is ActorKind.SITE:
            presence = self.request.app[PRESENCE]
            presence.remove_kicker(session.conf_id, session.actor.id, self._kick)
            await presence.disconnected(session.conf_id, session.actor.id)


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


def _tag(msg: p.ClientControl) -> str:
    return str(msg.__struct_config__.tag)


def _name(service: Service, state: ConferenceState, actor: Actor) -> str:
    if actor.kind is ActorKind.SITE:
        site = state.sites.get(actor.id)
        return site.name if site else actor.id
    acc = service.accounts.state.accounts.get(actor.id)
    return acc.name if acc else actor.id
