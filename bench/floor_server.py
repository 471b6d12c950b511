"""The floor of WebSocket fan-out on this machine: a minimal plain aiohttp server to measure
bridgeconf's signaling server against, side by side (``bench/signaling.py --baseline``).

It speaks the shape the load clients expect: a page sends ``hello`` and gets a ``welcome``;
then every ``POST /event`` makes one JSON event carrying the next ``seq`` (~220 bytes, the size
of the server's check_in event), serializes it once, builds the WebSocket frame once and
writes the same bytes to every connected page's transport (no compression, no await per
socket, no liveness pings: the floor). The POST's answer is ``{"seq": N, "bytes": frame}``.

    python bench/floor_server.py --port 8765
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import raise_nofile  # noqa: E402
from server.signaling.frames import text_frame  # noqa: E402  (a WebSocket frame is a WebSocket frame)

EVENT_BYTES = 220         # the size of the server's check_in event message (223 bytes)


class Floor:
    def __init__(self, event_bytes: int) -> None:
        self.seq = 0
        self.event_bytes = event_bytes
        self.transports: set[Any] = set()

    async def ws(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(compress=False, autoping=True, max_msg_size=64 * 1024)
        await ws.prepare(request)
        msg = await ws.receive(timeout=30)
        if msg.type is not WSMsgType.TEXT or '"hello"' not in msg.data:
            await ws.close(code=4400, message=b"hello first")
            return ws
        await ws.send_str(json.dumps({"type": "welcome", "seq": self.seq}))
        transport = request.transport
        self.transports.add(transport)
        try:
            async for _ in ws:      # pongs, closes: the page's reader, as in any aiohttp server
                pass
        finally:
            self.transports.discard(transport)
        return ws

    async def event(self, request: web.Request) -> web.Response:
        self.seq += 1
        event = {"type": "site_checked_in", "site": f"ward-{self.seq % 126:03d}", "headcount": 50 + self.seq,
                 "at": "2026-11-25T08:00:00+07:00", "by": "chutri", "note": ""}
        head = json.dumps({"type": "event", "seq": self.seq, "event": event}, separators=(",", ":"))
        event["note"] = "x" * max(0, self.event_bytes - len(head))
        text = json.dumps({"type": "event", "seq": self.seq, "event": event}, separators=(",", ":"))
        frame = text_frame(text)            # serialized and framed once
        for t in tuple(self.transports):
            if not t.is_closing():
                t.write(frame)
        return web.json_response({"seq": self.seq, "bytes": len(frame)})

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "pages": len(self.transports)})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--event-bytes", type=int, default=EVENT_BYTES)
    args = parser.parse_args()
    raise_nofile()
    floor = Floor(args.event_bytes)
    app = web.Application()
    app.router.add_get("/ws", floor.ws)
    app.router.add_post("/event", floor.event)
    app.router.add_get("/healthz", floor.healthz)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None, backlog=4096,
                shutdown_timeout=1.0)


if __name__ == "__main__":
    main()
