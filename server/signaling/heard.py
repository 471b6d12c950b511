"""A page's WebSocket that notes when the page was last heard where aiohttp parses its frames,
and keeps its pongs there.

A pong only says that the page is there. Through aiohttp's queue of messages each one woke the
page's reader task (``ws.py``'s ``Connection._loop``) to do nothing but note the time — about
half of what a ping costs the server (docs/performance.md). Here the queue itself notes the
time of every message it is fed, and a pong goes no further: no task wakes for it.

aiohttp builds that queue in ``WebSocketResponse._post_start`` with no way to pass another one,
so ``HeardSocket._post_start`` is aiohttp's own (3.14), with ``HeardQueue`` in place of
``WebSocketDataQueue``; tests/server/test_liveness_pongs.py fails if a new aiohttp no longer
fits it.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp._websocket.reader import WebSocketDataQueue
from aiohttp.helpers import DEFAULT_CHUNK_SIZE
from aiohttp.http import WebSocketReader, WebSocketWriter

from .closes import ClosingSocket


class Heard:
    """Who the queue reports to: when the page was last heard (``time.monotonic()``)."""

    __slots__ = ("last_heard",)

    def __init__(self) -> None:
        self.last_heard = time.monotonic()


class HeardQueue(WebSocketDataQueue):
    """aiohttp's queue of a socket's parsed messages, fed by its frame parser: each message
    sets ``heard.last_heard``; a pong stops here."""

    heard: Heard

    def feed_data(self, data: Any, size: int) -> None:
        self.heard.last_heard = time.monotonic()
        if data[0] is not WSMsgType.PONG:
            super().feed_data(data, size)


class HeardSocket(ClosingSocket):
    """The page's WebSocket response (``ClosingSocket``: it also remembers its close code).
    ``heard`` may be replaced (the page's own record, ``fanout.Page``) once the page is known."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.heard = Heard()

    def hear(self, heard: Heard) -> None:
        """Report to ``heard`` from now on."""
        heard.last_heard = self.heard.last_heard
        self.heard = heard
        if isinstance(self._reader, HeardQueue):
            self._reader.heard = heard

    def _post_start(self, request: web.BaseRequest, protocol: str | None, writer: WebSocketWriter) -> None:
        # aiohttp 3.14's WebSocketResponse._post_start, with a HeardQueue
        self._ws_protocol = protocol
        self._writer = writer
        self._reset_heartbeat()
        loop = self._loop
        assert loop is not None
        queue = HeardQueue(request._protocol, DEFAULT_CHUNK_SIZE, loop=loop)
        queue.heard = self.heard
        self._reader = queue
        self._parser = WebSocketReader(queue, self._max_msg_size, compress=bool(self._compress),
                                       decode_text=self._decode_text)
        cb = None if self._heartbeat is None else self._on_data_received
        request.protocol.set_parser(self._parser, data_received_cb=cb)
        request.protocol.keep_alive(False)
