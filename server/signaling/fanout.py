"""The fan-out of a conference's events to the pages of this process: each event encoded
once as a WebSocket frame (and once more, redacted, for sites' pages when the event carries
what sites may not see), the same bytes written to every page's transport without awaiting.
A page that falls too far behind is dropped and resumes from its ``last_seq``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from aiohttp import web

from scheduling import Event
from scheduling.visibility import needs_redaction, redact_for_site

from ..errors import WS_CLOSE_SHUTDOWN
from ..protocol import Presence, encode, event_text
from ..service.service import Service
from .frames import PING_FRAME, text_frame
from .heard import Heard

log = logging.getLogger(__name__)


class EventFrames:
    """One event encoded once per conference: the message text and the ready WebSocket
    frame, and (made on first use) the redacted variants that sites' pages get. ``more``:
    another event of the same command follows (the page applies them together)."""

    __slots__ = ("seq", "kind", "data", "more", "text", "frame", "_site_text", "_site_frame")

    def __init__(self, seq: int, data: str, kind: str, more: bool = False) -> None:
        self.seq = seq
        self.kind = kind
        self.data = data
        self.more = more
        self.text = event_text(seq, data, more)
        self.frame = text_frame(self.text)
        self._site_text: str | None = None
        self._site_frame: bytes | None = None

    @classmethod
    def of_record(cls, seq: int, data: str) -> EventFrames:
        return cls(seq, data, json.loads(data).get("type", ""))

    def site_text(self) -> str:
        if not needs_redaction(self.kind):
            return self.text
        if self._site_text is None:
            redacted = redact_for_site(json.loads(self.data))
            self._site_text = event_text(self.seq, json.dumps(redacted, ensure_ascii=False, separators=(",", ":")),
                                         self.more)
        return self._site_text

    def site_frame(self) -> bytes:
        if not needs_redaction(self.kind):
            return self.frame
        if self._site_frame is None:
            self._site_frame = text_frame(self.site_text())
        return self._site_frame


class Page(Heard):
    """A connected page: where its conference's events are written, and what liveness knows of
    it (``last_heard`` is set where its frames are parsed, ``heard.py``)."""

    __slots__ = ("ws", "transport", "site_view", "buffer_limit", "too_slow", "slow", "pinged_at", "ping_due",
                 "written_at", "kernel_drops", "watched")

    def __init__(self, ws: web.WebSocketResponse, transport: Any, *, site_view: bool, buffer_limit: int) -> None:
        super().__init__()
        self.ws = ws
        self.transport = transport
        self.site_view = site_view
        self.buffer_limit = buffer_limit
        self.too_slow = asyncio.Event()
        self.slow = transport is None     # too far behind (or never connected): nothing more is written
        self.pinged_at = 0.0
        self.ping_due = False             # the next event written to it carries a ping (liveness.py)
        self.written_at = 0.0             # when an event was last written to it
        self.kernel_drops = False         # its kernel closes it when a write stays unacknowledged (liveness.py)
        self.watched = False              # liveness.py follows it

    def ping(self, frame: bytes) -> None:
        t = self.transport
        if t is not None and not t.is_closing():
            t.write(frame)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    async def going_away(self) -> None:
        """Closed 1001 because the server stops: the page reconnects (to another process)."""
        if not self.ws.closed:
            await self.ws.close(code=WS_CLOSE_SHUTDOWN, message=b"server going away: reconnect")

    def deliver(self, frame: bytes, now: float) -> None:
        """Write an event's frame (the page's variant of it) without awaiting, at ``now``; with
        the ping that liveness asked for, if any, in the same write."""
        t = self.transport
        if self.slow or t.is_closing():
            return
        if t.get_write_buffer_size() > self.buffer_limit:
            self.slow = True
            self.too_slow.set()
            return
        self.written_at = now
        if self.ping_due:
            self.ping_due = False
            self.pinged_at = now
            frame += PING_FRAME
        t.write(frame)


class PageFanout:
    """The pages of one conference in this process, a listener of its hub. The events of one
    command (``more``: another follows) are written to each page together, in one write."""

    def __init__(self) -> None:
        self.pages: set[Page] = set()
        self._staff: list[bytes] = []     # the frames of the command's events so far
        self._site: list[bytes] = []

    def send_staff(self, text: str) -> None:
        """A message that is not an event (``presence``), framed once, to the staff's pages
        (a site's page shows no other site's connection)."""
        frame: bytes | None = None
        for page in tuple(self.pages):
            if not page.site_view:
                frame = frame or text_frame(text)
                page.ping(frame)   # written as is, like a ping

    def deliver(self, seq: int, event: Event, data: str, more: bool) -> None:
        if not self.pages:
            return
        frames = EventFrames(seq, data, event.TYPE, more)
        self._staff.append(frames.frame)          # each made once for every page
        self._site.append(frames.site_frame())
        if more:
            return
        staff, site = b"".join(self._staff), b"".join(self._site)
        self._staff.clear()
        self._site.clear()
        now = time.monotonic()
        for page in tuple(self.pages):
            try:
                page.deliver(site if page.site_view else staff, now)
            except Exception:  # a broken page must not stop the others
                log.exception("delivery failed")
                self.pages.discard(page)


def announce_presence(service: Service, conf_id: str, sites: dict[str, str]) -> None:
    """Live connection changes (``reactors/presence.py``) to the conference's staff pages here."""
    hub = service.conferences.get(conf_id)
    if hub is not None:
        hub.listener(PageFanout).send_staff(encode(Presence(sites=sites)))
