"""The aiortc surgery shared by the forwarder and the Python peers.

aiortc keeps doing SDP, ICE, DTLS and the SRTP key exchange. Once a peer
connection is negotiated, :class:`Link` takes its RTP and RTCP away from aiortc:

* aiortc's RTP senders and receivers are never started (no decoder threads, no
  encoder loops, no per-sender polling task);
* decrypted RTP/RTCP is handed to ``on_rtp`` / ``on_rtcp`` callbacks, first through
  the DTLS transport's dispatch and, once the ICE pair is known, straight from the
  UDP socket's ``datagram_received`` (no queue, no task switch);
* :meth:`Link.send_rtp` writes header + payload into one buffer, SRTP-protects it
  in place with libsrtp and ``sendto``\\ s it on the nominated pair's socket.

Every private aiortc/aioice attribute we touch is touched here, so an aiortc
upgrade has one file to check (aiortc 1.16, aioice 0.13, pylibsrtp 1.0).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

from aioice.candidate import Candidate
from aiortc import RTCPeerConnection
from aiortc.rtcdtlstransport import RTCDtlsTransport
from pylibsrtp import Session
from pylibsrtp._binding import ffi, lib

from .config import MediaConfig

logger = logging.getLogger(__name__)

_TX_BUF = ffi.new("char[]", 2048)
_TX_LEN = ffi.new("int *")
_TX_VIEW = memoryview(ffi.buffer(_TX_BUF))
_RX_BUF = ffi.new("char[]", 2048)
_RX_LEN = ffi.new("int *")
_RX_VIEW = memoryview(ffi.buffer(_RX_BUF))
_srtp_protect = lib.srtp_protect
_srtp_unprotect = lib.srtp_unprotect

MAX_PAYLOAD = 1900
CLOSE_TIMEOUT_S = 5.0
DRAIN_BATCH = 32  # extra datagrams read per readiness callback


def srtp_handle(session: Session) -> Any:
    """The raw ``srtp_t`` of a pylibsrtp session, for in-place protect/unprotect."""
    return session._srtp[0]


def unprotect(handle: Any, data: bytes) -> bytes | None:
    """SRTP-unprotect one packet; None if libsrtp refuses it (auth, replay)."""
    n = len(data)
    if n > 2000:
        return None
    _RX_VIEW[0:n] = data
    _RX_LEN[0] = n
    if _srtp_unprotect(handle, _RX_BUF, _RX_LEN):
        return None
    return bytes(_RX_VIEW[: _RX_LEN[0]])


# --- one DTLS certificate per process ------------------------------------------------

_CERT: tuple[float, Any] | None = None
CERT_LIFETIME = 24 * 3600.0  # aiortc's certificates are valid 30 days; renew daily


def new_peer_connection(config: MediaConfig) -> RTCPeerConnection:
    """An RTCPeerConnection with our ICE servers (possibly none), max-bundle, and the
    process's shared DTLS certificate: aiortc would otherwise generate an ECDSA key
    and sign a certificate for every connection (~8 ms each, when 200 sites join)."""
    global _CERT
    from aiortc import RTCCertificate

    pc = RTCPeerConnection(config.rtc_configuration())
    now = time.monotonic()
    if _CERT is None or now - _CERT[0] > CERT_LIFETIME:
        _CERT = (now, RTCCertificate.generateCertificate())
    pc._RTCPeerConnection__certificates = [_CERT[1]]  # type: ignore[attr-defined]
    return pc


# --- ICE: where we gather, what we announce ------------------------------------------


def restrict_gathering(pc: RTCPeerConnection, config: MediaConfig) -> None:
    """Make every ICE gatherer of ``pc`` bind to ``config.gather_addresses`` only and
    announce ``config.announced_address`` (1:1 NAT) in its host candidates.

    Call after the transceivers exist and before ``setLocalDescription``.
    """
    seen: set[int] = set()
    for t in pc.getTransceivers():
        conn = t.receiver.transport.transport._connection
        if id(conn) in seen:
            continue
        seen.add(id(conn))
        if config.gather_addresses or config.announced_address:
            conn.gather_candidates = _make_gather(conn, config)  # type: ignore[method-assign]


def _make_gather(conn: Any, config: MediaConfig) -> Callable[[], Any]:
    async def gather_candidates() -> None:
        if conn._local_candidates_start:
            return
        conn._local_candidates_start = True
        if config.gather_addresses:
            addresses = list(config.gather_addresses)
        else:
            from aioice.ice import get_host_addresses

            addresses = get_host_addresses(use_ipv4=conn._use_ipv4, use_ipv6=conn._use_ipv6)
        candidates = []
        for component in sorted(conn._components):
            candidates += await conn.get_component_candidates(
                component=component, addresses=addresses
            )
        if config.announced_address:
            for proto in conn._protocols:
                c = proto.local_candidate
                if c.type == "host":
                    proto.local_candidate = Candidate(
                        foundation=c.foundation,
                        component=c.component,
                        transport=c.transport,
                        priority=c.priority,
                        host=config.announced_address,
                        port=c.port,
                        type=c.type,
                    )
            candidates = [p.local_candidate for p in conn._protocols]
        conn._local_candidates += candidates
        conn._local_candidates_end = True

    return gather_candidates


# --- taking RTP away from aiortc -----------------------------------------------------


async def _not_started(*args: object, **kwargs: object) -> None:
    return None


def dtls_of(pc: RTCPeerConnection) -> RTCDtlsTransport:
    transceivers = pc.getTransceivers()
    if not transceivers:
        raise RuntimeError("peer connection has no transceivers")
    return transceivers[0].receiver.transport


class Link:
    """One negotiated peer connection whose media we move ourselves.

    ``on_rtp(data)`` and ``on_rtcp(data)`` receive decrypted packets;
    ``on_state(state)`` gets ``"connected"``, ``"failed"`` or ``"closed"``.
    """

    def __init__(self, pc: RTCPeerConnection, rcvbuf: int = 0) -> None:
        self.pc = pc
        self.rcvbuf = rcvbuf
        self.on_rtp: Callable[[bytes], None] = lambda data: None
        self.on_rtcp: Callable[[bytes], None] = lambda data: None
        self.on_state: Callable[[str], None] = lambda state: None
        self.state = "new"
        self.dtls: RTCDtlsTransport | None = None
        self._tx_handle: Any = None
        self._tx_session: Session | None = None
        self._rx_handle: Any = None
        self._sock: socket.socket | None = None
        self._sendto: Callable[[Any, Any], Any] | None = None
        self._addr: tuple[str, int] | None = None
        self._pair: Any = None
        self.send_errors = 0
        self.rx_errors = 0
        pc.on("connectionstatechange", self._on_pc_state)

    # -- setup --

    def take_over(self, keep_senders: set[Any] | frozenset[Any] = frozenset()) -> None:
        """Silence aiortc's senders/receivers and intercept the DTLS transport's RTP.

        Senders in ``keep_senders`` keep aiortc's send loop (a Python publisher).
        Call once the transceivers exist (after the remote or local description is
        set) and before the transport connects.
        """
        for t in self.pc.getTransceivers():
            t.receiver.receive = _not_started  # type: ignore[method-assign]
            if t.sender not in keep_senders:
                t.sender.send = _not_started  # type: ignore[method-assign]
        dtls = dtls_of(self.pc)
        self.dtls = dtls

        async def handle_rtp_data(data: bytes, arrival_time_ms: int) -> None:
            self.on_rtp(data)

        async def handle_rtcp_data(data: bytes) -> None:
            self.on_rtcp(data)

        dtls._handle_rtp_data = handle_rtp_data  # type: ignore[method-assign]
        dtls._handle_rtcp_data = handle_rtcp_data  # type: ignore[method-assign]

    def _on_pc_state(self) -> None:
        state = self.pc.connectionState
        if state == "connected" and self.state != "connected":
            try:
                self._resolve_path()
            except Exception:  # pragma: no cover - defensive: aiortc internals moved
                logger.exception("cannot set up the fast media path")
                state = "failed"
        if state in ("connected", "failed", "closed") and state != self.state:
            self.state = state
            self.on_state(state)

    def _resolve_path(self) -> None:
        dtls = self.dtls
        assert dtls is not None
        self._tx_session = dtls._tx_srtp
        self._tx_handle = srtp_handle(dtls._tx_srtp)
        self._rx_handle = srtp_handle(dtls._rx_srtp)
        conn = dtls.transport._connection
        pair = conn._nominated.get(1)
        if pair is None:
            raise RuntimeError("no nominated ICE pair")
        self._pair = pair
        self._addr = pair.remote_addr
        transport = pair.protocol.transport
        sock = getattr(transport, "_sock", None)
        if isinstance(sock, socket.socket):
            self._sock = sock
            self._sendto = sock.sendto
            if self.rcvbuf:  # room for bursts while the loop is busy fanning out
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        else:  # a TURN relay or another transport: go through it
            self._sendto = transport.sendto
        self._install_fast_receive(pair.protocol)

    def path_changed(self) -> bool:
        """If ICE moved to another candidate pair (the controlling side renominated),
        take the new pair's socket and address; True when it did."""
        if self.state != "connected" or self.dtls is None:
            return False
        pair = self.dtls.transport._connection._nominated.get(1)
        if pair is None or pair is self._pair:
            return False
        self._resolve_path()
        return True

    def _install_fast_receive(self, protocol: Any) -> None:
        """Decrypt SRTP/SRTCP straight from the socket callback, skipping aioice's queue
        and the DTLS reader task. STUN and DTLS still go the normal way."""
        if getattr(protocol, "_bridgeconf_fast", False):
            return
        protocol._bridgeconf_fast = True
        original = protocol.datagram_received
        rx = self._rx_handle
        assert self.dtls is not None
        rx_session: Session = self.dtls._rx_srtp

        def handle(data: bytes, addr: tuple[Any, ...]) -> None:
            b = data[0]
            if 127 < b < 192:
                if 192 <= data[1] <= 223:
                    try:
                        plain = rx_session.unprotect_rtcp(data)
                    except Exception:
                        self.rx_errors += 1
                        return
                    self.on_rtcp(plain)
                else:
                    pkt = unprotect(rx, data)
                    if pkt is None:
                        self.rx_errors += 1
                        return
                    self.on_rtp(pkt)
            else:
                original(data, addr)

        sock = getattr(protocol.transport, "_sock", None)
        recvfrom = sock.recvfrom if isinstance(sock, socket.socket) else None

        def datagram_received(data: bytes, addr: tuple[Any, ...]) -> None:
            handle(data, addr)
            if recvfrom is None:
                return
            # A busy process finds several datagrams waiting: take them in one go
            # instead of one per event-loop iteration.
            for _ in range(DRAIN_BATCH):
                try:
                    data, addr = recvfrom(2048)
                except (BlockingIOError, InterruptedError):
                    return
                except OSError:
                    return
                handle(data, addr)

        protocol.datagram_received = datagram_received
        # Datagrams already queued for the DTLS reader would arrive after newer ones
        # taken by the fast path: handle the media ones now, in order.
        queue = self.dtls.transport._connection._queue if self.dtls else None
        if queue is not None:
            keep = []
            while not queue.empty():
                item = queue.get_nowait()
                if item is not None and 127 < item[0][0] < 192:
                    handle(item[0], ("", 0))
                else:
                    keep.append(item)
            for item in keep:
                queue.put_nowait(item)

    # -- sending --

    @property
    def connected(self) -> bool:
        return self.state == "connected" and self._sendto is not None

    def send_rtp(self, header: bytes, payload: bytes | memoryview) -> int:
        """Protect ``header + payload`` and send it; returns bytes sent, 0 if dropped."""
        h = len(header)
        n = h + len(payload)
        if n > MAX_PAYLOAD or self._sendto is None:
            return 0
        _TX_VIEW[0:h] = header
        _TX_VIEW[h:n] = payload
        _TX_LEN[0] = n
        if _srtp_protect(self._tx_handle, _TX_BUF, _TX_LEN):
            self.send_errors += 1
            return 0
        try:
            self._sendto(_TX_VIEW[: _TX_LEN[0]], self._addr)
        except (BlockingIOError, InterruptedError):
            self.send_errors += 1
            return 0
        except OSError:
            self.send_errors += 1
            return 0
        return n

    def send_rtcp(self, data: bytes) -> None:
        if self._tx_session is None or self._sendto is None:
            return
        try:
            self._sendto(self._tx_session.protect_rtcp(data), self._addr)
        except Exception:
            self.send_errors += 1

    def send_fn(self) -> tuple[Any, Callable[[Any, Any], Any], tuple[str, int]]:
        """(srtp handle, sendto, address) for a caller that inlines :meth:`send_rtp`."""
        assert self._sendto is not None and self._addr is not None
        return self._tx_handle, self._sendto, self._addr

    async def close(self) -> None:
        self.on_rtp = lambda data: None
        self.on_rtcp = lambda data: None
        try:  # aiortc's close can wait for ever on an ICE task already cancelled: bounded
            await asyncio.wait_for(self.pc.close(), CLOSE_TIMEOUT_S)
        except TimeoutError:
            logger.warning("a peer connection did not close within %.0f s", CLOSE_TIMEOUT_S)
        except Exception:  # pragma: no cover - closing must not raise
            logger.exception("error closing a peer connection")
        if self.state != "closed":
            self.state = "closed"


def tx_buffers() -> tuple[Any, Any, memoryview, Any]:
    """The module's send buffer (cdata, length cell, view, protect function), for the
    forwarder's inlined hot loop. Single-threaded use only."""
    return _TX_BUF, _TX_LEN, _TX_VIEW, _srtp_protect


def loop_time() -> float:
    return asyncio.get_running_loop().time()
