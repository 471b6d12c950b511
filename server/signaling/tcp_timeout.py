"""A page's dead link dropped by its own kernel: Linux's ``TCP_USER_TIMEOUT``.

While events flow to a page its socket has data in flight, and a link that dies leaves that
data unacknowledged. With ``TCP_USER_TIMEOUT`` set, the kernel closes such a socket once data
stays unacknowledged that long (the transport is lost with ``ETIMEDOUT``: the page is dropped
like one aborted by ``liveness.py``). So a page that events were written to within the
heartbeat needs no ping to show a dead link: nothing to write, no pong to read, no syscall
(``liveness.py`` vouches for it from the time of that write). It proves the peer's *kernel*
is there, not the page: ``liveness.py`` still asks the page itself for a pong every two
intervals, and never lets a write answer for a ping.

Only where the socket ends at the browser: behind a proxy the ACKs are the proxy's, so a page
that came through one (``Forwarded``, ``X-Forwarded-For``, ``Via``) is not given the timeout
and is pinged. Elsewhere than Linux, or on any error, neither: the page is pinged as before.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Mapping
from typing import Any

PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "Via")
TCP_USER_TIMEOUT = getattr(socket, "TCP_USER_TIMEOUT", 18)     # include/uapi/linux/tcp.h


def drop_unacked_after(transport: Any, headers: Mapping[str, str], seconds: float) -> bool:
    """Have the kernel close the page's socket when data it was sent stays unacknowledged for
    ``seconds``; False (nothing set) where that would not be the page's own link, or cannot
    be set."""
    if not sys.platform.startswith("linux") or any(h in headers for h in PROXY_HEADERS):
        return False
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
        return False
    try:
        sock.setsockopt(socket.IPPROTO_TCP, TCP_USER_TIMEOUT, max(1, round(seconds * 1000)))
    except OSError:
        return False
    return True

