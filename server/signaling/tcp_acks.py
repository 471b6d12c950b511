"""When a page's socket last had data acknowledged by its peer: Linux's ``TCP_INFO``.

A page that acknowledged the events just sent to it is reachable: pinging it as well costs a
frame written and a pong read for nothing. ``tcpi_last_ack_recv`` (milliseconds since the last
ACK was received) says so for one ``getsockopt``. It proves the peer's *kernel* is there, not
the page: a stalled page whose kernel still acknowledges is caught by the send buffer limit
(``too_slow``) or by the next ping (``liveness.py`` never lets an ACK answer for a ping).

Only where the socket ends at the browser: behind a proxy the ACKs are the proxy's, so a page
that came through one (``Forwarded``, ``X-Forwarded-For``, ``Via``) gets no reader and is pinged.
Elsewhere than Linux, or on any error, there is no reader either: the page is pinged as before.
"""

from __future__ import annotations

import socket
import struct
import sys
from collections.abc import Callable, Mapping
from typing import Any

# struct tcp_info (include/uapi/linux/tcp.h), stable since Linux 2.6: 8 one-byte fields
# (state .. the wscale and app-limited bits), then __u32s: rto, ato, snd_mss, rcv_mss, unacked,
# sacked, lost, retrans, fackets, last_data_sent, last_ack_sent, last_data_recv, last_ack_recv.
LAST_ACK_RECV_OFFSET = 8 + 12 * 4
_U32 = struct.Struct("=I")
INFO_LEN = LAST_ACK_RECV_OFFSET + _U32.size
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "Via")

AckAge = Callable[[], float | None]


def last_ack_recv_s(info: bytes) -> float | None:
    """Seconds since the last ACK, from a ``TCP_INFO`` buffer; None when it is too short."""
    if len(info) < INFO_LEN:
        return None
    ms: int = _U32.unpack_from(info, LAST_ACK_RECV_OFFSET)[0]
    return ms / 1000.0


def ack_age_reader(transport: Any, headers: Mapping[str, str]) -> AckAge | None:
    """A function giving the seconds since the page's socket last received an ACK (None when
    it cannot say), or None when this page's ACKs cannot be read or would not be its own."""
    if not sys.platform.startswith("linux") or not hasattr(socket, "TCP_INFO"):
        return None
    if any(h in headers for h in PROXY_HEADERS):
        return None
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
        return None

    def age() -> float | None:
        try:
            return last_ack_recv_s(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, INFO_LEN))
        except OSError:
            return None

    return age if age() is not None else None
