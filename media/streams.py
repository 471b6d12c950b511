"""Sources (what a site publishes) and outputs (what we send a site): the hot path.

One RTP packet from a publisher is parsed once in :meth:`Source.forward`; then for
each bound :class:`Output` only the 12-byte header (plus an optional MID
extension) is rewritten — payload type, sequence number, timestamp, SSRC — the
packet is SRTP-protected in place and sent. Nothing is decoded, re-packetized or
queued. Sequence numbers and timestamps of an output stay continuous when its
source changes (a new floor holder): the output waits for the new source's next
keyframe, then continues one sequence number after the last one it sent.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable
from struct import Struct
from typing import TYPE_CHECKING, Any

from . import rtp
from .peering import tx_buffers

if TYPE_CHECKING:
    from .peering import Link

logger = logging.getLogger(__name__)

_HDR = Struct("!BBHII")
_SEQ_TS_SSRC = Struct("!HII")
_BUF, _LEN, _VIEW, _PROTECT = tx_buffers()
HISTORY = 1024  # packets kept per source to answer NACKs
MAX_PAYLOAD = 1800
monotonic = time.monotonic


class Source:
    """One stream published by a peer (its microphone or its camera, m0/m1)."""

    __slots__ = (
        "peer_id", "kind", "link", "pt", "clock_rate", "is_video", "frame_info",
        "rtcp_ssrc", "ssrc", "outputs", "max_seq", "max_ts", "last_arrival",
        "packets", "octets", "frames", "keyframes", "dropped", "malformed",
        "history", "rx", "enabled", "level_ext", "level",
        "kf_last", "kf_timer", "kf_requests", "kf_interval", "pending",
        "fwd_packets", "fwd_octets", "fwd_frames",
        "sr_ntp", "sr_rtp", "sr_at", "taps", "kf_pending", "up_loss",
    )  # fmt: skip

    def __init__(
        self,
        peer_id: str,
        kind: str,
        link: Link,
        pt: int,
        clock_rate: int,
        codec: str,
        rtcp_ssrc: int,
        level_ext: int = 0,
        kf_interval: float = 0.3,
    ) -> None:
        self.peer_id = peer_id
        self.kind = kind
        self.link = link
        self.pt = pt
        self.clock_rate = clock_rate
        self.is_video = kind == "video"
        self.frame_info: Callable[[Any], tuple[bool, bool]] = (
            rtp.vp8_frame_info if codec == "VP8" else rtp.h264_frame_info
        )
        self.rtcp_ssrc = rtcp_ssrc
        self.ssrc: int | None = None
        self.outputs: list[Output] = []  # in step with this source
        self.pending: list[Output] = []  # waiting for its next keyframe (video) or packet (audio)
        self.up_loss = 0  # fraction lost on the way from the publisher (1/256), as last reported
        self.fwd_packets = 0  # what went through the fan-out; outputs count from these
        self.fwd_octets = 0
        self.fwd_frames = 0
        self.max_seq = 0
        self.max_ts = 0
        self.last_arrival = 0.0
        self.packets = 0
        self.octets = 0
        self.frames = 0
        self.keyframes = 0
        self.dropped = 0
        self.malformed = 0
        self.history: list[bytes | None] = [None] * HISTORY
        self.rx = rtp.ReceptionStats(clock_rate)
        self.enabled = True
        self.level_ext = level_ext
        self.level = 128  # loudest RFC 6464 level seen since the last report; 128 = none
        self.kf_last = -1e9
        self.kf_timer: Any = None
        self.kf_requests = 0
        self.kf_interval = kf_interval
        self.sr_ntp = 0
        self.sr_rtp = 0
        self.sr_at = 0.0
        self.taps: list[Callable[[bytes], None]] = []  # the recorder
        self.kf_pending = False

    # -- the hot path ------------------------------------------------------------

    def forward(self, data: bytes) -> None:
        if not self.enabled:
            self.dropped += 1
            return
        n = len(data)
        b0 = data[0]
        hlen = 12 + ((b0 & 0x0F) << 2)
        if b0 & 0x10:
            if n < hlen + 4:
                self.malformed += 1
                return
            hlen += 4 + (((data[hlen + 2] << 8) | data[hlen + 3]) << 2)
        plen = n - hlen
        if plen < 0 or plen > MAX_PAYLOAD:
            self.malformed += 1
            return
        seq, ts, ssrc = _SEQ_TS_SSRC.unpack_from(data, 2)
        now = monotonic()
        if ssrc != self.ssrc:
            self._new_stream(ssrc, seq, ts, now)
        self.packets += 1
        self.octets += n
        self.rx.add(seq, ts, now)
        if ((seq - self.max_seq) & 0xFFFF) < 0x8000:
            self.max_seq = seq
            self.max_ts = ts
            self.last_arrival = now
        self.history[seq & 1023] = data
        payload = memoryview(data)[hlen:]
        if self.is_video:
            start, key = self.frame_info(payload) if plen else (False, False)
            if start:
                self.frames += 1
                if key:
                    self.keyframes += 1
                    self.kf_pending = False
        else:
            start = key = True
            self.frames += 1
            if self.level_ext:
                level = rtp.audio_level(data, self.level_ext)
                if level is not None and level < self.level:
                    self.level = level
        if self.taps:
            for tap in self.taps:
                tap(data)
        if self.pending:
            if key:
                self._start_pending(seq, ts, now)
            else:
                for o in self.pending:
                    o.held += 1
        outputs = self.outputs
        if not outputs:
            return
        self.fwd_packets += 1
        self.fwd_octets += plen
        self.fwd_frames += start
        b1m = data[1] & 0x80
        pbit = b0 & 0x20
        view = _VIEW
        protect = _PROTECT
        buf = _BUF
        lenp = _LEN
        pack_into = _HDR.pack_into
        for o in outputs:
            pack_into(
                view, 0, o.b0 | pbit, b1m | o.pt,
                (seq + o.seq_off) & 0xFFFF, (ts + o.ts_off) & 0xFFFFFFFF, o.ssrc,
            )  # fmt: skip
            h = o.hlen
            if h > 12:
                view[12:h] = o.ext
            m = h + plen
            view[h:m] = payload
            lenp[0] = m
            if protect(o.srtp, buf, lenp):
                o.errors += 1
                continue
            try:
                o.sendto(view[: lenp[0]], o.addr)
            except OSError:
                o.errors += 1

    # -- everything else ----------------------------------------------------------

    def _start_pending(self, seq: int, ts: int, now: float) -> None:
        """The packet that lets waiting outputs start (a keyframe's first, or any audio)."""
        started = self.pending
        self.pending = []
        for o in started:
            o.start(seq, ts, now)
        self.outputs = [*self.outputs, *started]

    def _new_stream(self, ssrc: int, seq: int, ts: int, now: float) -> None:
        """First packet, or the publisher restarted its stream: every output re-syncs."""
        if self.ssrc is not None:
            logger.info("%s %s: new SSRC %d", self.peer_id, self.kind, ssrc)
            for o in list(self.outputs):
                o.hold(now)
        self.ssrc = ssrc
        self.max_seq = (seq - 1) & 0xFFFF
        self.max_ts = ts
        self.last_arrival = now
        self.rx = rtp.ReceptionStats(self.clock_rate)
        self.history = [None] * HISTORY
        if self.is_video and self.pending:
            self.request_keyframe()

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe: PLI to its media SSRC, at most once per
        ``kf_interval``; a request inside the interval is sent when it ends."""
        if not self.is_video or self.ssrc is None:
            return
        now = monotonic()
        wait = self.kf_last + self.kf_interval - now
        if wait <= 0:
            self._send_pli(now)
            return
        self.kf_pending = True
        if self.kf_timer is None:
            self.kf_timer = asyncio.get_running_loop().call_later(wait, self._kf_timer_fired)

    def _kf_timer_fired(self) -> None:
        """A request came inside the interval: send it now, unless a keyframe has
        arrived meanwhile (it served that request too)."""
        self.kf_timer = None
        if self.kf_pending:
            self._send_pli(monotonic())

    def _send_pli(self, now: float) -> None:
        if self.ssrc is None:
            return
        self.kf_pending = False
        self.kf_last = now
        self.kf_requests += 1
        self.link.send_rtcp(rtp.pli(self.rtcp_ssrc, self.ssrc))

    def on_sender_report(self, ntp: int, rtp_ts: int) -> None:
        self.sr_ntp = ntp
        self.sr_rtp = rtp_ts
        self.sr_at = monotonic()
        self.rx.lsr = (ntp >> 16) & 0xFFFFFFFF
        self.rx.lsr_time = self.sr_at

    def rtp_time_at(self, now: float) -> int:
        """This source's RTP clock at monotonic time ``now``: from the publisher's last
        sender report when there is a recent one (it carries the publisher's own
        audio/video alignment, so lip sync survives forwarding), else from the last packet."""
        if self.sr_at and now - self.sr_at < 10.0:
            return (self.sr_rtp + int((now - self.sr_at) * self.clock_rate)) & 0xFFFFFFFF
        return (self.max_ts + int((now - self.last_arrival) * self.clock_rate)) & 0xFFFFFFFF

    def packet(self, seq: int) -> bytes | None:
        data = self.history[seq & 1023]
        if data is not None and ((data[2] << 8) | data[3]) == seq:
            return data
        return None

    def detach(self) -> None:
        if self.kf_timer is not None:
            self.kf_timer.cancel()
            self.kf_timer = None
        rebind([(o, None) for o in [*self.outputs, *self.pending]])

    def stats(self) -> dict[str, Any]:
        return {
            "ssrc": self.ssrc,
            "packets": self.packets,
            "octets": self.octets,
            "frames": self.frames,
            "keyframes": self.keyframes,
            "dropped": self.dropped,
            "malformed": self.malformed,
            "keyframe_requests_sent": self.kf_requests,
            "subscribers": len(self.outputs) + len(self.pending),
            "jitter": int(self.rx.jitter),
            "lost": max(0, self.rx.expected - self.rx.received),
        }


class Output:
    """One stream we send to a peer: a slot (m-line) of its connection.

    An output is either in step with its source (in ``source.outputs``) or waiting
    (in ``source.pending``) for the packet it may start on. Its sent counts are not
    incremented per packet: they are the source's fan-out counters since it started.
    """

    __slots__ = (
        "peer_id", "slot", "kind", "mid", "ssrc", "pt", "clock_rate", "b0", "ext", "hlen",
        "srtp", "sendto", "addr", "link", "source", "waiting", "waiting_since",
        "seq_off", "ts_off", "start_seq", "last_seq", "last_ts", "last_wall",
        "done_packets", "done_octets", "done_frames", "base_packets", "base_octets", "base_frames",
        "held", "errors", "keyframe_requests", "nacks", "retransmits", "switches",
        "loss", "rtt", "remb", "on_waiting",
    )  # fmt: skip

    def __init__(
        self,
        peer_id: str,
        slot: str,
        kind: str,
        mid: str,
        ssrc: int,
        pt: int,
        clock_rate: int,
        mid_ext_id: int,
        link: Link,
        on_waiting: Callable[[Output, bool], None],
    ) -> None:
        self.peer_id = peer_id
        self.slot = slot
        self.kind = kind
        self.mid = mid
        self.ssrc = ssrc
        self.pt = pt
        self.clock_rate = clock_rate
        self.ext = rtp.mid_extension(mid_ext_id, mid)
        self.b0 = 0x90 if self.ext else 0x80
        self.hlen = 12 + len(self.ext)
        self.link = link
        self.srtp: Any = None
        self.sendto: Any = None
        self.addr: Any = None
        self.source: Source | None = None
        self.waiting = False
        self.waiting_since = 0.0
        self.seq_off = 0
        self.ts_off = 0
        self.start_seq = 0
        self.last_seq = random.randrange(0, 0x8000)
        self.last_ts = random.randrange(0, 1 << 32)
        self.last_wall = monotonic()
        self.done_packets = self.done_octets = self.done_frames = 0
        self.base_packets = self.base_octets = self.base_frames = 0
        self.held = 0
        self.errors = 0
        self.keyframe_requests = 0
        self.nacks = 0
        self.retransmits = 0
        self.switches = 0
        self.loss = 0
        self.rtt: float | None = None
        self.remb: int | None = None
        self.on_waiting = on_waiting

    def connect(self) -> None:
        self.srtp, self.sendto, self.addr = self.link.send_fn()

    @property
    def active(self) -> bool:
        return self.source is not None and not self.waiting

    # -- state changes (never on the per-packet path, except start) --

    def bind(self, source: Source | None) -> None:
        """Point this output at another source (or none); no renegotiation."""
        rebind([(self, source)])

    def hold(self, now: float) -> None:
        """From in step to waiting, on the same source (its stream restarted)."""
        src = self.source
        if src is None or self.waiting:
            return
        self._stop(now)
        src.outputs = [o for o in src.outputs if o is not self]
        src.pending = [*src.pending, self]
        self.waiting_since = now
        self._set_waiting(True)

    def _stop(self, now: float) -> None:
        """Leave the source's stream: remember where our numbering and counts stand."""
        src = self.source
        assert src is not None
        self.done_packets += src.fwd_packets - self.base_packets
        self.done_octets += src.fwd_octets - self.base_octets
        self.done_frames += src.fwd_frames - self.base_frames
        if src.ssrc is not None:
            self.last_seq = (src.max_seq + self.seq_off) & 0xFFFF
            self.last_ts = (src.max_ts + self.ts_off) & 0xFFFFFFFF
            self.last_wall = src.last_arrival

    def start(self, seq: int, ts: int, now: float) -> None:
        """First packet from the (new) source: continue our numbering from here."""
        src = self.source
        assert src is not None
        self.seq_off = (self.last_seq + 1 - seq) & 0xFFFF
        gap = int((now - self.last_wall) * self.clock_rate)
        gap = max(1, min(gap, self.clock_rate * 30))
        self.ts_off = (self.last_ts + gap - ts) & 0xFFFFFFFF
        self.start_seq = seq
        self.base_packets, self.base_octets, self.base_frames = src.fwd_packets, src.fwd_octets, src.fwd_frames
        self._set_waiting(False)

    def _set_waiting(self, on: bool) -> None:
        if on != self.waiting:
            self.waiting = on
            self.on_waiting(self, on)

    # -- figures --

    def sent(self) -> tuple[int, int, int]:
        """(packets, payload octets, frames) sent so far."""
        src = self.source
        p, o, f = self.done_packets, self.done_octets, self.done_frames
        if src is not None and not self.waiting:
            p += src.fwd_packets - self.base_packets
            o += src.fwd_octets - self.base_octets
            f += src.fwd_frames - self.base_frames
        return max(0, p - self.errors), o, f

    @property
    def packets(self) -> int:
        return self.sent()[0]

    @property
    def octets(self) -> int:
        """Payload octets sent (as RTCP sender reports count them)."""
        return self.sent()[1]

    @property
    def frames(self) -> int:
        return self.sent()[2]

    def resend(self, out_seq: int) -> bool:
        """Answer a NACK from the source's history, if the packet is ours to resend."""
        src = self.source
        if src is None or self.waiting or self.srtp is None:
            return False
        in_seq = (out_seq - self.seq_off) & 0xFFFF
        if ((in_seq - self.start_seq) & 0xFFFF) >= 0x8000:
            return False
        data = src.packet(in_seq)
        if data is None:
            return False
        b0 = data[0]
        hlen = 12 + ((b0 & 0x0F) << 2)
        if b0 & 0x10:
            hlen += 4 + (((data[hlen + 2] << 8) | data[hlen + 3]) << 2)
        ts = _SEQ_TS_SSRC.unpack_from(data, 2)[1]
        header = _HDR.pack(
            self.b0 | (b0 & 0x20), (data[1] & 0x80) | self.pt, out_seq,
            (ts + self.ts_off) & 0xFFFFFFFF, self.ssrc,
        ) + self.ext  # fmt: skip
        if self.link.send_rtp(header, memoryview(data)[hlen:]):
            self.retransmits += 1
            return True
        return False

    def rtp_time_at(self, now: float) -> int | None:
        src = self.source
        if src is None or self.waiting or src.ssrc is None:
            return None
        return (src.rtp_time_at(now) + self.ts_off) & 0xFFFFFFFF

    def stats(self) -> dict[str, Any]:
        packets, octets, frames = self.sent()
        return {
            "kind": self.kind,
            "mid": self.mid,
            "source": self.source.peer_id if self.source else None,
            "waiting_keyframe": self.waiting and self.kind == "video",
            "packets": packets,
            "octets": octets,
            "frames": frames,
            "held_before_keyframe": self.held,
            "errors": self.errors,
            "keyframe_requests_received": self.keyframe_requests,
            "nacks_received": self.nacks,
            "retransmits": self.retransmits,
            "switches": self.switches,
            "fraction_lost": self.loss,
            "rtt": self.rtt,
            "remb": self.remb,
        }


def rebind(moves: Iterable[tuple[Output, Source | None]]) -> None:
    """Point many outputs at other sources (or none) at once, without renegotiation.

    Each source's lists are rebuilt once however many of its outputs move, so a floor
    change (every site's speaker slot moves from one publisher to another) costs
    O(outputs moved), not O(outputs moved x outputs per source). The lists are
    replaced, never changed in place: :meth:`Source.forward` may be iterating one.
    A moved output waits for its new source's next keyframe (video; one request per
    source) or next packet (audio).
    """
    now = monotonic()
    leaving: dict[Source, set[Output]] = {}
    leaving_pending: dict[Source, set[Output]] = {}
    joining: dict[Source, list[Output]] = {}
    for out, source in moves:
        old = out.source
        if old is source:
            continue
        if old is not None:
            if out.waiting:
                leaving_pending.setdefault(old, set()).add(out)
            else:
                out._stop(now)
                leaving.setdefault(old, set()).add(out)
            out._set_waiting(False)
        out.source = source
        if source is not None:
            out.switches += 1
            out.waiting_since = now
            joining.setdefault(source, []).append(out)
            out._set_waiting(True)
    for src, gone in leaving.items():
        src.outputs = [o for o in src.outputs if o not in gone]
    for src, gone in leaving_pending.items():
        src.pending = [o for o in src.pending if o not in gone]
    for src, new in joining.items():
        src.pending = [*src.pending, *new]
        if src.is_video:
            src.request_keyframe()
