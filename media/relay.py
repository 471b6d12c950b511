"""Relays between forwarders: a process pulls a publisher's streams from the process
that holds it, over one SRTP link per (publisher, edge process), and fans them out on
its own lean path (docs/media.md, "Relays between forwarders").

* **Origin** (:class:`RelayOut`): three :class:`~media.streams.Output` s — audio, video,
  share — bound to the publisher's sources like a subscriber's slots, whose "link" is
  the relay: the publisher's packets leave on the same hot loop as to any site (header
  rewritten, SRTP-protected in place, ``sendto``), with the relay's own SSRCs and
  numbering (continuous across a publisher's reconnection; a new source starts on a
  keyframe). Never decoded.
* **Edge** (:class:`RelayIn`): three :class:`~media.streams.Source` s fed from the socket,
  under the publisher's own peer id, so ``steer()``, ``set_share()`` and ``set_previews()``
  route them exactly like a local publisher's, and the edge's outputs keep their own
  numbering (SSRC, sequence numbers and timestamps continuous for its subscribers).
* **Packets and keys.** One UDP socket per forwarder (:class:`RelayHub`). A link's three
  stream SSRCs and its feedback SSRC derive from ``link_id`` (:func:`relay_ssrc`), so both
  sides know them without negotiation; an incoming packet is matched by SSRC, then its
  source address must be the link's ``remote``, then SRTP (AES_CM_128_HMAC_SHA1_80 with
  ``link.key``, the same 30 bytes both ways) must authenticate it. Anything else is
  dropped and counted (``dropped_unknown``).
* **Feedback** travels edge -> origin as SRTCP: PLI (the edge's :class:`Source` rate-limits
  it exactly as it does a local publisher's; the origin's source does again) and generic
  NACK. The edge NACKs a gap at once and twice more; the origin answers from its source's
  packet cache (keyframe request if the packet is gone); a gap still open after that, or
  too long to NACK, makes the edge ask for a keyframe. The origin sends sender reports
  (lip sync survives the relay).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import logging
import re
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from aiortc.rtp import (
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
)
from pylibsrtp import Policy, Session
from pylibsrtp._binding import ffi, lib  # type: ignore[import-not-found]

from . import rtp
from .checks import check_peer_id
from .config import MediaConfig
from .errors import ErrorCode, MediaError
from .peering import srtp_handle, tx_buffers
from .session import PeerState
from .streams import Output, Source, monotonic, rebind

logger = logging.getLogger(__name__)

KINDS = ("audio", "video", "share")
PAYLOAD_TYPES = {"audio": 111, "video": 96, "share": 97}
CLOCK_RATES = {"audio": 48_000, "video": 90_000, "share": 90_000}
KEY_BYTES = 30  # AES_CM_128_HMAC_SHA1_80: 16-byte master key + 14-byte salt
LINK_ID = re.compile(r"[A-Za-z0-9._:/@-]{1,128}\Z")
MAX_LINKS = 4096
SPENT_KEYS = 65536  # keys of closed links remembered, so that none is used twice
PARKED = 1024  # closed links kept, so that re-opening the very same link continues its SRTP numbering
RCVBUF = 4 << 20
DRAIN_BATCH = 32
TICK = 0.05
NACK_MAX_GAP = 128  # a longer run of lost packets is not NACKed: a keyframe is asked instead
NACK_TRIES = 3  # NACKs per lost packet before giving up on it (then: keyframe)
NACK_EVERY = 0.05  # s between two NACKs of the same packet
RESUME_GAP = 1.0  # s of silence after which a resuming video stream asks for a keyframe
LEVEL_APP = struct.Struct("!BBHI4sI")  # RTCP APP (RFC 3550 6.7) "LVL ": the publisher's audio level
SRTP_REPLAY = (9, 10)  # srtp_err_status_replay_fail, replay_old: a duplicate, not an attack

_BUF, _LEN, _VIEW, _PROTECT = tx_buffers()
_RX_BUF = ffi.new("char[]", 2048)
_RX_LEN = ffi.new("int *")
_RX_VIEW = memoryview(ffi.buffer(_RX_BUF))
_unprotect = lib.srtp_unprotect

StateCallback = Callable[[str, str], None]


def _bad(message: str) -> MediaError:
    return MediaError(ErrorCode.BAD_ARGUMENT, message)


@dataclass(frozen=True)
class RelayLink:
    """One relay link: ``peer_id``'s streams from the origin forwarder to one edge forwarder.

    ``remote`` is the *other* side's relay address (origin: the edge's; edge: the
    origin's), an IP literal and a port; ``key`` the 30-byte SRTP master key + salt,
    chosen by the edge and given to both sides by the control plane.
    """

    link_id: str
    peer_id: str
    remote: tuple[str, int]
    key: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.link_id, str) or not LINK_ID.match(self.link_id):
            raise _bad("link_id must be 1-128 characters of [A-Za-z0-9._:/@-]")
        check_peer_id(self.peer_id)
        if not isinstance(self.key, bytes) or len(self.key) != KEY_BYTES:
            raise _bad(f"key must be {KEY_BYTES} bytes")
        try:
            host, port = self.remote
            ip = ipaddress.ip_address(host)
        except (TypeError, ValueError):
            raise _bad("remote must be (IP address, port)") from None
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise _bad("remote port must be 1..65535")
        object.__setattr__(self, "remote", (str(ip), port))

    def to_json(self) -> dict[str, Any]:
        return {"link_id": self.link_id, "peer_id": self.peer_id, "remote": list(self.remote), "key": self.key.hex()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RelayLink:
        try:
            key = bytes.fromhex(data["key"])
            host, port = data["remote"]
            return cls(str(data["link_id"]), str(data["peer_id"]), (str(host), int(port)), key)
        except (KeyError, TypeError, ValueError):
            raise _bad("malformed relay link") from None


def relay_ssrc(link_id: str, what: str) -> int:
    """The SSRC of one of a link's streams (``audio``, ``video``, ``share``) or of its
    feedback (``rtcp``): both sides derive it from the link id."""
    value = int.from_bytes(hashlib.sha256(f"{link_id}\0{what}".encode()).digest()[:4], "big")
    return value or 1


def _digest(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:16]


def _session(key: bytes, outbound: bool) -> Session:
    policy = Policy(
        key=key,
        ssrc_type=Policy.SSRC_ANY_OUTBOUND if outbound else Policy.SSRC_ANY_INBOUND,
        srtp_profile=Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
    )
    policy.window_size = 1024  # retransmissions arrive late
    policy.allow_repeat_tx = True  # a NACK is answered with the same sequence number
    return Session(policy=policy)


def _rtcp(session: Session, data: bytes) -> tuple[bytes, list[Any]] | None:
    """(the plain compound packet, what aiortc parses of it), or None if it fails SRTCP."""
    try:
        plain = session.unprotect_rtcp(data)
        return plain, RtcpPacket.parse(plain)
    except Exception:
        return None


def _audio_level(plain: bytes) -> int | None:
    """The level an origin's "LVL " APP packet in this compound carries (aiortc skips APP)."""
    pos = 0
    while pos + 16 <= len(plain):
        size = (((plain[pos + 2] << 8) | plain[pos + 3]) + 1) * 4
        if plain[pos + 1] == 204 and size == 16 and plain[pos + 8 : pos + 12] == b"LVL ":
            return plain[pos + 15] & 0x7F
        pos += size
    return None


# --- the origin side ---------------------------------------------------------------------


class RelayOut:
    """Origin: the publisher's audio, video and share to one edge (see the module doc)."""

    role = "out"

    def __init__(self, link: RelayLink, hub: RelayHub, on_waiting: Callable[[Output, bool], None]) -> None:
        self.link = link
        self.hub = hub
        self.remote = link.remote
        self.tx = _session(link.key, outbound=True)
        self.tx_handle = srtp_handle(self.tx)
        self.rx = _session(link.key, outbound=False)
        self.feedback_ssrc = relay_ssrc(link.link_id, "rtcp")
        self.outputs: dict[str, Output] = {}
        self.by_ssrc: dict[int, Output] = {}
        for kind in KINDS:
            out = Output(
                f"relay:{link.link_id}", f"relay/{kind}", "audio" if kind == "audio" else "video", "",
                relay_ssrc(link.link_id, kind), PAYLOAD_TYPES[kind], CLOCK_RATES[kind], 0,
                cast(Any, self), on_waiting,
            )  # fmt: skip
            out.connect()
            self.outputs[kind] = out
            self.by_ssrc[out.ssrc] = out
        self.plis = 0
        self.nacks = 0
        self.auth_failed = 0
        self.send_errors = 0

    # the "link" an Output sends on

    def send_fn(self) -> tuple[Any, Any, tuple[str, int]]:
        assert self.hub.sock is not None
        return self.tx_handle, self.hub.sock.sendto, self.remote

    def send_rtp(self, header: bytes, payload: bytes | memoryview) -> int:
        h = len(header)
        n = h + len(payload)
        if n > 1900 or self.hub.sock is None:
            return 0
        _VIEW[0:h] = header
        _VIEW[h:n] = payload
        _LEN[0] = n
        if _PROTECT(self.tx_handle, _BUF, _LEN):
            self.send_errors += 1
            return 0
        try:
            self.hub.sock.sendto(_VIEW[: _LEN[0]], self.remote)
        except OSError:
            self.send_errors += 1
            return 0
        return n

    def send_rtcp(self, data: bytes) -> None:
        self.hub.send(self.tx.protect_rtcp(data), self.remote)

    # routing

    def bind(self, sources: dict[str, Source] | None) -> None:
        """Follow the publisher: its sources while it is connected here, else none."""
        rebind([(out, sources.get(kind) if sources else None) for kind, out in self.outputs.items()])

    def close(self) -> None:
        self.bind(None)

    # feedback from the edge

    def receive(self, data: bytes, is_rtcp: bool) -> None:
        if not is_rtcp:
            self.hub.dropped_unknown += 1  # an origin takes no media on this link
            return
        parsed = _rtcp(self.rx, data)
        if parsed is None:
            self.auth_failed += 1
            self.hub.dropped_unknown += 1
            return
        for packet in parsed[1]:
            if isinstance(packet, RtcpPsfbPacket) and packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
                out = self.by_ssrc.get(packet.media_ssrc)
                if out is not None and out.kind == "video":
                    self.plis += 1
                    out.keyframe_requests += 1
                    if out.source is not None:
                        out.source.request_keyframe()
            elif isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
                out = self.by_ssrc.get(packet.media_ssrc)
                if out is None:
                    continue
                for seq in packet.lost[:NACK_MAX_GAP]:
                    self.nacks += 1
                    out.nacks += 1
                    if not out.resend(seq) and out.kind == "video" and out.source is not None:
                        out.source.request_keyframe()  # gone from the cache: a keyframe repairs it

    def send_level(self, level: int) -> None:
        self.send_rtcp(LEVEL_APP.pack(0x80, 204, 3, self.outputs["audio"].ssrc, b"LVL ", level & 0x7F))

    def send_reports(self, now: float, unix_now: float) -> None:
        ntp = rtp.ntp_time(unix_now)
        chunks = []
        for out in self.outputs.values():
            ts = out.rtp_time_at(now)
            if ts is not None and out.packets:
                chunks.append(rtp.sender_report(out.ssrc, ntp, ts, out.packets, out.octets))
        if not chunks:  # nothing to report: a keep-alive, so the edge can tell "quiet" from "gone"
            chunks.append(bytes(RtcpRrPacket(ssrc=self.outputs["audio"].ssrc)))
        self.send_rtcp(b"".join(chunks))

    def stats(self) -> dict[str, Any]:
        streams = {}
        for kind, out in self.outputs.items():
            packets, octets, _ = out.sent()
            streams[kind] = {"packets": packets, "bytes": octets, "source": out.source is not None,
                             "waiting_keyframe": out.waiting and out.kind == "video",
                             "retransmits": out.retransmits}  # fmt: skip
        return {
            "role": "out", "peer_id": self.link.peer_id, "remote": list(self.remote), "state": "sending",
            "packets": sum(s["packets"] for s in streams.values()),
            "bytes": sum(s["bytes"] for s in streams.values()),
            "lost": 0, "nacks": self.nacks, "plis": self.plis,
            "retransmits": sum(o.retransmits for o in self.outputs.values()),
            "auth_failed": self.auth_failed, "send_errors": self.send_errors + sum(o.errors for o in self.outputs.values()),
            "streams": streams,
        }  # fmt: skip


# --- the edge side -------------------------------------------------------------------------


class InStream:
    """One relayed stream at the edge: its :class:`Source` and the gap tracking behind NACKs."""

    __slots__ = ("kind", "ssrc", "source", "highest", "missing", "last_nack", "packets", "octets",
                 "lost", "recovered", "duplicates", "nacks", "last_rx")  # fmt: skip

    def __init__(self, kind: str, ssrc: int, source: Source) -> None:
        self.kind = kind
        self.ssrc = ssrc
        self.source = source
        self.highest: int | None = None
        self.missing: dict[int, int] = {}  # sequence number -> NACKs sent for it
        self.last_nack = 0.0
        self.packets = self.octets = self.lost = self.recovered = self.duplicates = self.nacks = 0
        self.last_rx = 0.0

    def accept(self, seq: int) -> tuple[bool, list[int] | None]:
        """(forward this packet?, sequence numbers to NACK now, or None when the gap is
        too long to repair that way)."""
        if self.highest is None:
            self.highest = seq
            return True, []
        d = (seq - self.highest) & 0xFFFF
        if d == 0:
            self.duplicates += 1
            return False, []
        if d < 0x8000:
            self.highest = seq
            if d == 1:
                return True, []
            if d - 1 > NACK_MAX_GAP:
                self.lost += d - 1
                return True, None
            gap = [(seq - i) & 0xFFFF for i in range(d - 1, 0, -1)]
            for s in gap:
                self.missing[s] = 1
            return True, gap
        if self.missing.pop(seq, None) is not None:
            self.recovered += 1
            return True, []
        if self.source.packet(seq) is not None:
            self.duplicates += 1
            return False, []
        return True, []  # late, never NACKed: still useful to a jitter buffer


class RelayIn:
    """Edge: the publisher as this forwarder sees it, fed by the relay (see the module doc).
    Routing treats it like a connected :class:`~media.session.SitePeer` (``state``,
    ``sources``)."""

    role = "in"
    state = PeerState.CONNECTED

    def __init__(self, link: RelayLink, hub: RelayHub, config: MediaConfig) -> None:
        self.link = link
        self.peer_id = link.peer_id
        self.hub = hub
        self.remote = link.remote
        self.rx = _session(link.key, outbound=False)
        self.rx_handle = srtp_handle(self.rx)
        self.tx = _session(link.key, outbound=True)
        self.feedback_ssrc = relay_ssrc(link.link_id, "rtcp")
        self.sources: dict[str, Source] = {}
        self.streams: dict[int, InStream] = {}
        for kind in KINDS:
            src = Source(
                link.peer_id, "audio" if kind == "audio" else "video", cast(Any, self), PAYLOAD_TYPES[kind],
                CLOCK_RATES[kind], config.video_codec, self.feedback_ssrc, kf_interval=config.keyframe_interval,
            )  # fmt: skip
            self.sources[kind] = src
            ssrc = relay_ssrc(link.link_id, kind)
            self.streams[ssrc] = InStream(kind, ssrc, src)
        self.flow = "waiting"  # -> "flowing" <-> "stalled"
        self.opened_at = monotonic()
        self.last_rx = 0.0  # last media packet
        self.last_heard = 0.0  # last authenticated packet of any kind (media, reports, keep-alives)
        self.auth_failed = 0
        self.replays = 0
        self.plis_after_loss = 0

    def send_rtcp(self, data: bytes) -> None:
        """Feedback to the origin (the sources' PLIs come through here)."""
        self.hub.send(self.tx.protect_rtcp(data), self.remote)

    def receive(self, data: bytes, is_rtcp: bool) -> None:
        if is_rtcp:
            self._receive_rtcp(data)
            return
        n = len(data)
        if n > 2000:
            self.hub.dropped_unknown += 1
            return
        _RX_VIEW[0:n] = data
        _RX_LEN[0] = n
        status = _unprotect(self.rx_handle, _RX_BUF, _RX_LEN)
        if status:
            if status in SRTP_REPLAY:
                self.replays += 1
            else:
                self.auth_failed += 1
                self.hub.dropped_unknown += 1
            return
        plain = bytes(_RX_VIEW[: _RX_LEN[0]])
        stream = self.streams.get(int.from_bytes(plain[8:12], "big"))
        if stream is None:
            return
        now = monotonic()
        resumed = stream.last_rx != 0.0 and now - stream.last_rx > RESUME_GAP
        self.last_rx = stream.last_rx = now
        self._heard(now)
        seq = (plain[2] << 8) | plain[3]
        forward, nack = stream.accept(seq)
        if nack:
            self._nack(stream, nack, now)
        elif nack is None and stream.source.is_video:
            self.plis_after_loss += 1
            stream.source.request_keyframe()
        if not forward:
            return
        stream.packets += 1
        stream.octets += n
        stream.source.forward(plain)
        if resumed and stream.source.is_video:
            stream.source.request_keyframe()  # the origin paused: start clean

    def _heard(self, now: float) -> None:
        self.last_heard = now
        if self.flow != "flowing":
            self.flow = "flowing"
            self.hub.state_changed(self.link.link_id, "flowing")

    def _receive_rtcp(self, data: bytes) -> None:
        parsed = _rtcp(self.rx, data)
        if parsed is None:
            self.auth_failed += 1
            self.hub.dropped_unknown += 1
            return
        self._heard(monotonic())
        plain, packets = parsed
        if plain[1] == 204:
            level = _audio_level(plain)
            audio = self.sources["audio"]
            if level is not None and level < audio.level:
                audio.level = level  # reported by the edge's forwarder like a local publisher's
        for packet in packets:
            if isinstance(packet, RtcpSrPacket):
                stream = self.streams.get(packet.ssrc)
                if stream is not None:
                    info = packet.sender_info
                    stream.source.on_sender_report(info.ntp_timestamp, info.rtp_timestamp)

    def _nack(self, stream: InStream, seqs: list[int], now: float) -> None:
        stream.last_nack = now
        stream.nacks += len(seqs)
        self.send_rtcp(bytes(RtcpRtpfbPacket(fmt=RTCP_RTPFB_NACK, ssrc=self.feedback_ssrc,
                                             media_ssrc=stream.ssrc, lost=sorted(seqs))))  # fmt: skip

    def tick(self, now: float, timeout: float) -> None:
        """NACK again what is still missing, give up on what was NACKed enough (a
        keyframe then repairs video), notice a stalled origin."""
        for stream in self.streams.values():
            if not stream.missing or now - stream.last_nack < NACK_EVERY:
                continue
            again = [s for s, tries in stream.missing.items() if tries < NACK_TRIES]
            gone = [s for s, tries in stream.missing.items() if tries >= NACK_TRIES]
            for s in gone:
                del stream.missing[s]
            stream.lost += len(gone)
            if gone and stream.source.is_video:
                self.plis_after_loss += 1
                stream.source.request_keyframe()
            for s in again:
                stream.missing[s] += 1
            if again:
                self._nack(stream, again, now)
        if self.flow != "stalled" and now - (self.last_heard or self.opened_at) > timeout:
            self.flow = "stalled"
            self.hub.state_changed(self.link.link_id, "stalled")

    def close(self) -> None:
        for src in self.sources.values():
            src.detach()

    def stats(self) -> dict[str, Any]:
        streams = {
            s.kind: {"packets": s.packets, "bytes": s.octets, "lost": s.lost, "recovered": s.recovered,
                     "duplicates": s.duplicates, "nacks": s.nacks, "plis": s.source.kf_requests,
                     "subscribers": len(s.source.outputs) + len(s.source.pending)}
            for s in self.streams.values()
        }  # fmt: skip
        return {
            "role": "in", "peer_id": self.peer_id, "remote": list(self.remote), "state": self.flow,
            "packets": sum(s["packets"] for s in streams.values()),
            "bytes": sum(s["bytes"] for s in streams.values()),
            "lost": sum(s["lost"] for s in streams.values()),
            "recovered": sum(s["recovered"] for s in streams.values()),
            "nacks": sum(s["nacks"] for s in streams.values()),
            "plis": sum(s["plis"] for s in streams.values()),
            "plis_after_loss": self.plis_after_loss,
            "duplicates": sum(s["duplicates"] for s in streams.values()) + self.replays,
            "auth_failed": self.auth_failed,
            "since_last_packet": round(monotonic() - self.last_rx, 3) if self.last_rx else None,
            "streams": streams,
        }  # fmt: skip


# --- the socket and the links ------------------------------------------------------------------


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, hub: RelayHub) -> None:
        self.hub = hub

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        hub = self.hub
        hub.receive(data, addr)
        recvfrom = hub.recvfrom
        if recvfrom is None:
            return
        for _ in range(DRAIN_BATCH):  # a busy process finds several waiting: take them at once
            try:
                data, addr = recvfrom(2048)
            except OSError:  # BlockingIOError: nothing more
                return
            hub.receive(data, addr)

    def error_received(self, exc: Exception) -> None:
        self.hub.socket_errors += 1


Endpoint = RelayOut | RelayIn


class RelayHub:
    """A forwarder's relay socket and its links, both roles (see the module doc)."""

    def __init__(
        self,
        config: MediaConfig,
        on_waiting: Callable[[Output, bool], None],
        on_state: StateCallback,
    ) -> None:
        self.config = config
        self.on_waiting = on_waiting
        self.on_state = on_state
        self.sock: socket.socket | None = None
        self.recvfrom: Callable[[int], tuple[bytes, Any]] | None = None
        self.address: tuple[str, int] | None = None
        self.links: dict[str, Endpoint] = {}
        self.inbound: dict[str, RelayIn] = {}  # peer id -> the link that feeds it here
        self.out_peers: frozenset[str] = frozenset()
        """Local publishers some relay link sends (each counts as a viewer for its publish hint)."""
        self.by_ssrc: dict[int, Endpoint] = {}
        self.dropped_unknown = 0
        self.socket_errors = 0
        self._spent: dict[bytes, None] = {}  # digests of the keys of closed links, oldest first
        self._parked: dict[str, Endpoint] = {}  # closed links by id, oldest first
        self._transport: asyncio.DatagramTransport | None = None
        self._task: asyncio.Task[None] | None = None

    # lifecycle

    async def start(self) -> None:
        host = self.config.relay_host
        if host is None or self.sock is not None:
            return
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
        low, high = self.config.relay_ports
        sock = socket.socket(family, socket.SOCK_DGRAM)
        for port in range(low, high + 1):
            try:
                sock.bind((host, port))
                break
            except OSError:
                if port == high:
                    sock.close()
                    raise MediaError(ErrorCode.NOT_RUNNING, f"no free relay port in {low}-{high} on {host}") from None
        sock.setblocking(False)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), sock=sock)
        self._transport = transport
        self.sock = sock
        self.recvfrom = sock.recvfrom
        self.address = (self.config.relay_announce or host, sock.getsockname()[1])
        self._task = asyncio.create_task(self._tick(), name="relay-tick")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for link_id in list(self.links):
            self.close_link(link_id)
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        self.sock = None
        self.recvfrom = None

    def _check(self, link: RelayLink) -> None:
        if self.sock is None:
            raise _bad("relays are off here (MediaConfig.relay_host is None) or the forwarder is closed")
        if not isinstance(link, RelayLink):
            raise _bad("expected a RelayLink")
        if ipaddress.ip_address(link.remote[0]).version != (6 if self.sock.family == socket.AF_INET6 else 4):
            raise _bad("the remote relay address is not of this socket's address family")
        if link.link_id not in self.links and len(self.links) >= MAX_LINKS:
            raise _bad(f"at most {MAX_LINKS} relay links per forwarder")
        if _digest(link.key) in self._spent and link.link_id not in self.links and not self._revivable(link):
            raise _bad("this key belonged to a closed link: every link opening needs a new key "
                       "(SRTP must never restart its numbering under the same key)")

    def _register(self, endpoint: Endpoint, ssrcs: list[int]) -> None:
        taken = [s for s in ssrcs if s in self.by_ssrc]
        if taken:
            raise _bad("this link id's SSRCs collide with another link's; choose another link id")
        self.links[endpoint.link.link_id] = endpoint
        for s in ssrcs:
            self.by_ssrc[s] = endpoint
        self._count_out()

    def _count_out(self) -> None:
        self.out_peers = frozenset(e.link.peer_id for e in self.links.values() if isinstance(e, RelayOut))

    # the two roles

    def _revivable(self, link: RelayLink, role: str = "") -> bool:
        parked = self._parked.get(link.link_id)
        return parked is not None and parked.link == link and (not role or parked.role == role)

    def _revive(self, link: RelayLink, role: str) -> Endpoint | None:
        """The very same link closed earlier here: it comes back with its SRTP sessions and
        numbering (a new session under the same key would restart SRTP's index)."""
        if not self._revivable(link, role):
            return None
        return self._parked.pop(link.link_id)

    def open_out(self, link: RelayLink, sources: dict[str, Source] | None) -> bool:
        """Origin side; False when this exact link was already open (idempotent)."""
        self._check(link)
        current = self.links.get(link.link_id)
        if current is not None:
            if current.link == link and current.role == "out":
                return False
            self.close_link(link.link_id)
        out = self._revive(link, "out") or RelayOut(link, self, self.on_waiting)
        assert isinstance(out, RelayOut)
        self._register(out, [out.feedback_ssrc])
        out.bind(sources)
        return True

    def open_in(self, link: RelayLink) -> RelayIn | None:
        """Edge side; the new :class:`RelayIn`, or None when this exact link was already open."""
        self._check(link)
        current = self.links.get(link.link_id)
        if current is not None:
            if current.link == link and current.role == "in":
                return None
            self.close_link(link.link_id)
        relay = self._revive(link, "in") or RelayIn(link, self, self.config)
        assert isinstance(relay, RelayIn)
        self._register(relay, list(relay.streams))
        old = self.inbound.get(link.peer_id)
        self.inbound[link.peer_id] = relay  # the newest link feeds the peer (an origin moved)
        if old is not None:
            old.close()
        return relay

    def close_link(self, link_id: str) -> Endpoint | None:
        endpoint = self.links.pop(link_id, None)
        if endpoint is None:
            return None
        for s in [s for s, e in self.by_ssrc.items() if e is endpoint]:
            del self.by_ssrc[s]
        if isinstance(endpoint, RelayIn) and self.inbound.get(endpoint.peer_id) is endpoint:
            del self.inbound[endpoint.peer_id]
        endpoint.close()
        self._count_out()
        self._spent[_digest(endpoint.link.key)] = None
        if len(self._spent) > SPENT_KEYS:
            del self._spent[next(iter(self._spent))]
        self._parked.pop(link_id, None)
        self._parked[link_id] = endpoint
        if len(self._parked) > PARKED:
            del self._parked[next(iter(self._parked))]
        return endpoint

    def publisher_changed(self, peer_id: str, sources: dict[str, Source] | None) -> None:
        """A local publisher connected, reconnected or left: the links sending it follow."""
        for endpoint in self.links.values():
            if isinstance(endpoint, RelayOut) and endpoint.link.peer_id == peer_id:
                endpoint.bind(sources)

    def send_level(self, peer_id: str, level: int) -> None:
        """A local publisher's audio level of the interval, to the edges it is relayed to."""
        for endpoint in self.links.values():
            if isinstance(endpoint, RelayOut) and endpoint.link.peer_id == peer_id:
                endpoint.send_level(level)

    # packets

    def receive(self, data: bytes, addr: tuple[Any, ...]) -> None:
        if len(data) < 12 or data[0] & 0xC0 != 0x80:
            self.dropped_unknown += 1
            return
        is_rtcp = 192 <= data[1] <= 223
        ssrc = int.from_bytes(data[4:8] if is_rtcp else data[8:12], "big")
        endpoint = self.by_ssrc.get(ssrc)
        if endpoint is None or endpoint.remote[1] != addr[1] or endpoint.remote[0] != addr[0]:
            self.dropped_unknown += 1
            return
        endpoint.receive(data, is_rtcp)

    def send(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.sock is None:
            return
        try:
            self.sock.sendto(data, addr)
        except OSError:
            self.socket_errors += 1

    def state_changed(self, link_id: str, state: str) -> None:
        logger.info("relay %s: %s", link_id, state)
        try:
            self.on_state(link_id, state)
        except Exception:
            logger.exception("relay_state_changed callback failed")

    async def _tick(self) -> None:
        next_reports = monotonic() + self.config.rtcp_interval
        while True:
            await asyncio.sleep(TICK)
            now = monotonic()
            try:
                timeout = self.config.relay_timeout_s
                for endpoint in list(self.links.values()):
                    if isinstance(endpoint, RelayIn):
                        endpoint.tick(now, timeout)
                if now >= next_reports:
                    next_reports = now + self.config.rtcp_interval
                    unix_now = time.time()
                    for endpoint in list(self.links.values()):
                        if isinstance(endpoint, RelayOut):
                            endpoint.send_reports(now, unix_now)
            except Exception:
                logger.exception("relay tick failed")

    def stats(self) -> dict[str, Any]:
        return {
            "address": list(self.address) if self.address else None,
            "links": {link_id: e.stats() for link_id, e in self.links.items()},
            "dropped_unknown": self.dropped_unknown,
            "socket_errors": self.socket_errors,
        }
