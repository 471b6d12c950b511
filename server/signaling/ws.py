"""The WebSocket endpoint ``/ws``: one connection per page.

One task reads the socket (this handler); the conference's hub writes events to it
directly, from prebuilt frames, without awaiting (a page that falls too far behind is
dropped and resumes from its ``last_seq``). Every message is parsed by protocol.py and
every command decided by the domain; nothing here decides anything.

A page follows its actor's current rights: each command first compares the page's stamp of
rights generations (``service/rights.py``) with the current one, and a change of rights
(password changed, account disabled, signed out, join link revoked, removed from the
conference) re-checks the affected pages at once (``open_pages.py``): one that lost its
rights is taken off the fan-out and closed 4410 (``session_ended``); one that lost some of
its roles but kept others goes on with them, told ``roles_changed`` and welcomed again with a
snapshot made for what it still is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from scheduling import (
    SENT_BY_THE_SERVER,
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
    WS_CLOSE_SESSION_ENDED,
    WS_CLOSE_TOO_SLOW,
    WS_CLOSE_UNAUTHORIZED,
)
from ..service import read_models
from ..service.hub import StreamHub
from ..service.identity import AuthError
from ..service.keys import COOKIE, MEDIA, METRICS, PRESENCE, SERVICE
from ..service.rights import Stamp
from ..service.service import Service
from ..store import StoreError
from .admission import ADMISSION
from .fanout import EventFrames, Page, PageFanout
from .frames import text_frame
from .heard import HeardSocket
from .liveness import LIVENESS
from .open_pages import OPEN_PAGES
from .replay import Replay
from .tcp_timeout import drop_unacked_after

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
    ws = HeardSocket(autoping=False, max_msg_size=config.max_frame, compress=False)
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
    roles: frozenset[Role]
    hub: StreamHub[ConferenceState | None]
    page: Page
    fanout: PageFanout
    stamp: Stamp              # the rights generations the actor was checked against
    expires_at: float         # when its token expires (Unix time)
    peer_id: str = ""
    ended: bool = False       # its rights are gone: it is being closed
    present: bool = False     # counted by presence (a site's page)


class Connection:
    def __init__(self, request: web.Request, ws: HeardSocket) -> None:
        self.request = request
        self.ws = ws
        self.service = request.app[SERVICE]
        self.config = self.service.config
        self.bucket = TokenBucket(rate=20, burst=60)
        self.patience = TokenBucket(rate=1.0, burst=200)   # refusals a page may earn before it is closed
        self.session: Session | None = None
        self.token = ""

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
        identity = self.service.identity
        admission = self.request.app[ADMISSION]
        if not admission.address(self.request.remote or ""):
            await self._too_many("from this address")
            return None
        try:
            if not token:
                raise AuthError("unauthorized", "a join-link token or a signed-in session is needed")
            conf_id, actor = identity.actor_for(token, hello.conference)
            # the generations the token was checked against (before any await: a change of
            # rights meanwhile shows as a stamp out of date)
            stamp = self.service.rights.stamp(conf_id or hello.conference, actor)
            if not admission.link(conf_id or hello.conference, actor.ref):
                await self._too_many("with this join link or account")
                return None
            # one answer (forbidden) for a conference that does not exist and one not yours
            hub, roles = await self.service.conference_for(conf_id or hello.conference, actor)
        except AuthError as exc:
            await self.send(p.Error(code=exc.code, message=exc.message, ref="hello"))
            await self.ws.close(code=WS_CLOSE_FORBIDDEN if exc.code == "forbidden" else WS_CLOSE_UNAUTHORIZED,
                                message=exc.code.encode())
            return None
        except DomainError as exc:
            await self.send(p.Error(code=exc.code, message=exc.message, ref="hello"))
            await self.ws.close(code=WS_CLOSE_FORBIDDEN if exc.code == "forbidden" else WS_CLOSE_NOT_FOUND,
                                message=str(exc.code).encode())
            return None
        state = hub.state
        assert state is not None
        self.token = token
        page = Page(self.ws, self.request.transport, site_view=not roles & STAFF_ROLES,
                    buffer_limit=self.config.send_buffer_limit)
        self.ws.hear(page)
        if self.config.ack_liveness:    # its kernel drops its dead link (liveness.py)
            page.kernel_drops = drop_unacked_after(self.request.transport, self.request.headers,
                                                   self.request.app[LIVENESS].unacked_s)
        session = Session(state.conference_id, actor, roles, hub, page, hub.listener(PageFanout), stamp,
                          identity.expires_at(token))
        self.request.app[OPEN_PAGES].add(session.conf_id, actor, self)
        self.session = session   # from here on a change of rights reaches it (recheck)
        if stamp != self.service.rights.stamp(session.conf_id, actor):
            self.recheck()       # rights changed while the hello was being read
        await self._welcome(session, hello, roles)
        media = self.request.app.get(MEDIA)
        if media is not None:
            session.peer_id = media.new_peer_id(actor.kind, actor.id)
            await media.attach(session.conf_id, session.peer_id, actor.id if actor.kind is ActorKind.SITE else None,
                               roles, self.send)
        if actor.kind is ActorKind.SITE:
            session.present = True
            await self.request.app[PRESENCE].connected(session.conf_id, actor.id)
        return session

    async def _too_many(self, what: str) -> None:
        """A hello over the reconnect limits (admission.py): refused unread; the page retries
        later (the error names no ``ref``: it is not the hello's fault, it may come again)."""
        self.request.app[METRICS].errors.labels(code="too_many_reconnects").inc()
        await self.send(p.Error(code="too_many_reconnects", message=f"too many connections {what}: "
                                "try again in a few seconds"))
        await self.ws.close(code=WS_CLOSE_FLOOD, message=b"too many reconnects")

    # -- rights ----------------------------------------------------------------------------
    def recheck(self) -> bool:
        """Take the actor's current rights (after a change of rights, or before a command
        when the generations moved): the page goes on with them — downgraded in place when
        it lost some of its roles but not all (``_downgrade``) — or, its token no longer
        valid or every role lost, it is taken off the fan-out at once and closed 4410."""
        session = self.session
        if session is None or session.ended:
            return False
        try:
            _, actor = self.service.identity.actor_for(self.token, session.conf_id)
            roles = roles_in(session.hub.state, actor)
            if not roles:
                raise AuthError("forbidden", "you no longer have a role in this conference")
        except AuthError as exc:
            self._end(exc)
            return False
        lost = session.roles - roles
        session.actor, session.roles = actor, roles
        session.stamp = self.service.rights.stamp(session.conf_id, actor)
        if lost:
            self._downgrade(session, lost)
        return True

    def _downgrade(self, session: Session, lost: frozenset[Role]) -> None:
        """Some roles lost, some kept: from now on the page gets what its remaining roles may
        see (the fan-out's view is switched at once, before any further event), is told so
        (``roles_changed``) and gets a fresh welcome whose snapshot is made for them, from
        which it renders again."""
        session.page.site_view = not session.roles & STAFF_ROLES
        self.request.app[METRICS].errors.labels(code="roles_changed").inc()
        asyncio.get_running_loop().create_task(self._welcome_again(session, lost))

    async def _welcome_again(self, session: Session, lost: frozenset[Role]) -> None:
        hub = session.hub
        with contextlib.suppress(ConnectionError, RuntimeError):
            async with hub.lock:     # no event between the snapshot and what follows it
                if session.ended or self.ws.closed:
                    return
                kept = ", ".join(sorted(r.value for r in session.roles))
                await self.send(p.Error(code="roles_changed", message=f"you are no longer "
                                        f"{' or '.join(sorted(r.value for r in lost))} in this conference; "
                                        f"the page goes on as {kept}"))
                await self.send(self._welcome_message(
                    session, hub.seq, read_models.snapshot(hub, session.roles, self.service.clock(), self.service.names)))

    def _end(self, exc: AuthError) -> None:
        session = self.session
        assert session is not None
        session.ended = True
        session.fanout.pages.discard(session.page)   # nothing more reaches it, from now
        self.request.app[LIVENESS].forget(session.page)
        # a site's page is told what became of its join link; an account's that its session ended
        link_gone = session.actor.kind is ActorKind.SITE and exc.code in ("token_revoked", "token_expired")
        code = exc.code if link_gone else "session_ended"
        asyncio.get_running_loop().create_task(self._close_ended(code, f"{exc.message} ({exc.code})"))

    async def _close_ended(self, code: str, message: str) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.send(p.Error(code=code, message=message, ref="hello"))
        await self.ws.close(code=WS_CLOSE_SESSION_ENDED, message=b"session ended")

    def _current(self, session: Session) -> bool:
        """Whether the page may still act: its stamp of rights generations is the current one
        and its token has not expired (or, when either moved, the re-check keeps it)."""
        if session.ended:
            return False
        if session.stamp == self.service.rights.stamp(session.conf_id, session.actor) and \
                time.time() < session.expires_at:
            return True
        return self.recheck()

    async def _welcome(self, session: Session, hello: p.Hello, roles: frozenset[Role]) -> None:
        hub, page = session.hub, session.page
        replay = hub.listener(Replay)
        for _ in range(10):       # each look but the last waits for the store (replay.py)
            seq = hub.seq
            last = hello.last_seq if 0 <= hello.last_seq <= seq else 0
            use_snapshot = hello.snapshot and (last == 0 or seq - last > self.config.snapshot_after)
            missed = [] if use_snapshot else replay.held(last, seq)
            if missed is not None:    # from here on nothing is awaited: no event falls in between
                snapshot = read_models.snapshot(hub, roles, self.service.clock(), self.service.names) \
                    if use_snapshot else None
                welcome = text_frame(p.encode(self._welcome_message(session, seq, snapshot)))
                t = page.transport
                if t is None or t.is_closing() or self.ws.closed:
                    return
                t.write(b"".join((welcome, *(f.site_frame() if page.site_view else f.frame for f in missed))))
                if not session.ended:
                    session.fanout.pages.add(page)
                return
            if not await replay.fill(hub, last):
                break
        async with hub.lock:     # far behind, with no snapshot asked: the store's records, under the lock
            seq = hub.seq
            last = hello.last_seq if 0 <= hello.last_seq <= seq else 0
            await self.send(self._welcome_message(session, seq, None))
            for rec in await hub.store.read(hub.name, last):
                frames = EventFrames.of_record(rec.seq, rec.data)
                await self.ws.send_str(frames.site_text() if page.site_view else frames.text)
            if not session.ended:
                session.fanout.pages.add(page)

    def _welcome_message(self, session: Session, seq: int, snapshot: dict[str, Any] | None) -> p.Welcome:
        actor, state = session.actor, session.hub.state
        assert state is not None
        you = p.You(kind=actor.kind.value, id=actor.id, roles=sorted(r.value for r in session.roles),
                    name=_name(self.service, state, actor))
        return p.Welcome(conference=session.conf_id, seq=seq, you=you, server_time=self.service.clock().isoformat(),
                         heartbeat_s=self.config.heartbeat_s,
                         ice_servers=[dict(s) for s in self.config.media.ice_servers], snapshot=snapshot,
                         presence=None if session.page.site_view else self.request.app[PRESENCE].view(session.conf_id))

    # -- messages --------------------------------------------------------------------------
    async def _loop(self, session: Session) -> None:
        liveness = self.request.app[LIVENESS]
        if liveness.stopping:            # the server stops: come back on another process
            await session.page.going_away()
            return
        liveness.watch(session.page)     # from now; heard where its frames are parsed (heard.py)
        try:
            async for msg in self.ws:
                if msg.type is WSMsgType.TEXT:
                    await self._message(session, msg.data)
                elif msg.type is WSMsgType.PING:
                    await self.ws.pong(msg.data)
                elif msg.type is WSMsgType.PONG:
                    pass                 # counted and kept by heard.HeardQueue: none comes here
                elif msg.type is WSMsgType.BINARY:
                    await self._refuse("bad_message", "binary frames are not accepted", None)
                else:
                    break
        finally:
            liveness.forget(session.page)

    async def _refuse(self, code: str, message: str, ref: str | None) -> None:
        """Answer a refused message; a page that keeps earning refusals (a flood of bad or
        too many messages: more than 200, recovering one a second) is closed 4429."""
        self.request.app[METRICS].errors.labels(code=code).inc()
        if not self.patience.take():
            await self.ws.close(code=WS_CLOSE_FLOOD, message=b"flood")
            return
        await self.send(p.Error(code=code, message=message, ref=ref))

    async def _message(self, session: Session, raw: str) -> None:
        if session.ended:
            return
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
        if not self._current(session):
            return                       # closed 4410; nothing is decided for it
        if type(cmd) in SENT_BY_THE_SERVER:
            await self._refuse("forbidden", f"{cmd.TYPE} is sent by the server: upload the PDF to …/decks", cmd.key)
            return
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
        self.request.app[OPEN_PAGES].remove(session.conf_id, session.actor, self)
        media = self.request.app.get(MEDIA)
        if media is not None and session.peer_id:
            await media.detach(session.conf_id, session.peer_id)
        if session.present:
            await self.request.app[PRESENCE].disconnected(session.conf_id, session.actor.id)


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
