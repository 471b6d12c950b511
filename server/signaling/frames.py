"""Server-to-client WebSocket frames built once and written to many sockets.

A frame from server to client is not masked, so the same bytes serve every page: the
fan-out encodes an event once per conference and hands the bytes to each transport.
"""

from __future__ import annotations

import struct

PING_FRAME = b"\x89\x00"     # FIN + ping, no payload, unmasked (server to client)


def text_frame(payload: str) -> bytes:
    data = payload.encode()
    n = len(data)
    if n < 126:
        header = bytes((0x81, n))
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 127, n)
    return header + data
