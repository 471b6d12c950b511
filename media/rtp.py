"""Sans-I/O RTP/RTCP helpers of the media plane: bytes in, facts or bytes out.

Nothing here does I/O or keeps a clock; the forwarder's hot loop inlines the
few lines it needs from :func:`header_length` and :func:`vp8_frame_info`, and
the tests check both against each other.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiortc.rtp import (
    RTCP_PSFB_APP,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpSdesPacket,
    RtcpSenderInfo,
    RtcpSourceInfo,
    RtcpSrPacket,
    pack_remb_fci,
)

RTCP_PSFB = 206
RTCP_RTPFB = 205
PSFB_PLI = 1
PSFB_FIR = 4
RTPFB_NACK = 1

_PLI = struct.Struct("!BBHII")
_FIR_FCI = struct.Struct("!IB3x")


def is_rtcp(data: bytes) -> bool:
    """RFC 5761 demultiplexing: RTCP packet types 192..223 in the second byte."""
    return len(data) >= 2 and 192 <= data[1] <= 223


def header_length(data: bytes) -> int:
    """Length of the RTP header (fixed part, CSRCs and extension); ValueError if malformed."""
    n = len(data)
    if n < 12 or data[0] >> 6 != 2:
        raise ValueError("not an RTP packet")
    hlen = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:
        if n < hlen + 4:
            raise ValueError("truncated RTP header extension")
        hlen += 4 + 4 * ((data[hlen + 2] << 8) | data[hlen + 3])
    if hlen > n:
        raise ValueError("truncated RTP header")
    return hlen


def seq_newer(a: int, b: int) -> bool:
    """True if 16-bit sequence number ``a`` comes after ``b``."""
    return a != b and ((a - b) & 0xFFFF) < 0x8000


def vp8_descriptor_length(payload: bytes) -> int:
    """Length of the VP8 payload descriptor (RFC 7741 section 4.2)."""
    i = 1
    if payload[0] & 0x80:
        x = payload[1]
        i = 2
        if x & 0x80:
            i += 2 if payload[2] & 0x80 else 1
        if x & 0x40:
            i += 1
        if x & 0x30:
            i += 1
    return i


def vp8_frame_info(payload: bytes) -> tuple[bool, bool]:
    """(this packet starts a frame, the frame is a keyframe) for a VP8 RTP payload."""
    if not payload:
        return False, False
    d0 = payload[0]
    if not (d0 & 0x10) or (d0 & 0x0F):
        return False, False
    try:
        i = vp8_descriptor_length(payload)
        return True, not (payload[i] & 0x01)
    except IndexError:
        return False, False


def h264_frame_info(payload: bytes) -> tuple[bool, bool]:
    """(starts an access unit, contains an IDR/SPS) for an H.264 RTP payload (RFC 6184).

    A frame start is any single NAL, STAP-A, or the first FU-A fragment; good enough
    to find where a keyframe begins, which is all the forwarder needs.
    """
    if not payload:
        return False, False
    nal = payload[0] & 0x1F
    if 1 <= nal <= 23:
        return True, nal in (5, 7)
    if nal == 24:  # STAP-A
        pos, key = 1, False
        while pos + 3 <= len(payload):
            size = (payload[pos] << 8) | payload[pos + 1]
            if payload[pos + 2] & 0x1F in (5, 7):
                key = True
            pos += 2 + size
        return True, key
    if nal == 28 and len(payload) > 1:  # FU-A
        start = bool(payload[1] & 0x80)
        return start, start and (payload[1] & 0x1F) in (5, 7)
    return False, False


def _vp8_info_at(data: bytes, off: int, end: int) -> tuple[bool, bool]:
    """:func:`vp8_frame_info` of ``data[off:end]``, without slicing it."""
    d0 = data[off]
    if not (d0 & 0x10) or (d0 & 0x0F):
        return False, False
    i = off + 1
    if d0 & 0x80:
        x = data[off + 1]
        i = off + 2
        if x & 0x80:
            i += 2 if data[i] & 0x80 else 1
        if x & 0x40:
            i += 1
        if x & 0x30:
            i += 1
    if i >= end:
        return False, False
    return True, not (data[i] & 0x01)


def vp8_size(frame: bytes) -> tuple[int, int] | None:
    """Picture size from a VP8 keyframe header (RFC 6386 section 9.1)."""
    if len(frame) >= 10 and not frame[0] & 1 and frame[3:6] == b"\x9d\x01\x2a":
        return int.from_bytes(frame[6:8], "little") & 0x3FFF, int.from_bytes(frame[8:10], "little") & 0x3FFF
    return None


def vp8_depayload(payload: bytes) -> bytes:
    return payload[vp8_descriptor_length(payload) :]


def audio_level(data: bytes, ext_id: int) -> int | None:
    """RFC 6464 level (0 = loudest, 127 = silence) from a packet's header extension."""
    if not ext_id or not data[0] & 0x10:
        return None
    pos = 12 + 4 * (data[0] & 0x0F)
    profile = (data[pos] << 8) | data[pos + 1]
    end = pos + 4 + 4 * ((data[pos + 2] << 8) | data[pos + 3])
    pos += 4
    if end > len(data):
        return None
    if profile == 0xBEDE:  # one-byte elements
        while pos < end:
            b = data[pos]
            if b == 0:
                pos += 1
                continue
            xid, length = b >> 4, (b & 0x0F) + 1
            if xid == 15:
                return None
            if xid == ext_id:
                return data[pos + 1] & 0x7F
            pos += 1 + length
    elif profile & 0xFFF0 == 0x1000:  # two-byte elements
        while pos + 1 < end:
            xid, length = data[pos], data[pos + 1]
            if xid == 0:
                pos += 1
                continue
            if xid == ext_id and length:
                return data[pos + 2] & 0x7F
            pos += 2 + length
    return None


def mid_extension(ext_id: int, mid: str) -> bytes:
    """A one-byte header extension block carrying only the MID (RFC 8843)."""
    value = mid.encode("ascii")
    if not ext_id or not 1 <= len(value) <= 16 or ext_id > 14:
        return b""
    body = bytes([(ext_id << 4) | (len(value) - 1)]) + value
    body += b"\x00" * (-len(body) % 4)
    return struct.pack("!HH", 0xBEDE, len(body) // 4) + body


# --- RTCP that the forwarder sends -------------------------------------------------


def pli(sender_ssrc: int, media_ssrc: int) -> bytes:
    """Picture Loss Indication (RFC 4585 section 6.3.1)."""
    return _PLI.pack(0x80 | PSFB_PLI, RTCP_PSFB, 2, sender_ssrc, media_ssrc)


def fir(sender_ssrc: int, media_ssrc: int, seq: int) -> bytes:
    """Full Intra Request (RFC 5104 section 4.3.1)."""
    return _PLI.pack(0x80 | PSFB_FIR, RTCP_PSFB, 4, sender_ssrc, 0) + _FIR_FCI.pack(
        media_ssrc, seq & 0xFF
    )


@dataclass
class ReceptionStats:
    """Receiver-side statistics of one incoming stream (RFC 3550 appendix A.3)."""

    clock_rate: int
    base_seq: int | None = None
    max_seq: int = 0
    cycles: int = 0
    received: int = 0
    jitter: float = 0.0
    last_transit: float | None = None
    expected_prior: int = 0
    received_prior: int = 0
    lsr: int = 0
    lsr_time: float = 0.0

    def add(self, seq: int, ts: int, arrival: float) -> None:
        self.received += 1
        if self.base_seq is None:
            self.base_seq = self.max_seq = seq
        elif seq_newer(seq, self.max_seq):
            if seq < self.max_seq:
                self.cycles += 1 << 16
            self.max_seq = seq
        transit = arrival * self.clock_rate - ts
        if self.last_transit is not None:
            d = abs(transit - self.last_transit)
            if d < self.clock_rate * 10:
                self.jitter += (d - self.jitter) / 16
        self.last_transit = transit

    @property
    def expected(self) -> int:
        if self.base_seq is None:
            return 0
        return self.cycles + self.max_seq - self.base_seq + 1

    def report(self, ssrc: int, now: float) -> RtcpReceiverInfo:
        expected = self.expected
        lost = max(0, min(expected - self.received, (1 << 23) - 1))
        exp_int = expected - self.expected_prior
        rec_int = self.received - self.received_prior
        self.expected_prior, self.received_prior = expected, self.received
        lost_int = exp_int - rec_int
        fraction = 0 if exp_int <= 0 or lost_int <= 0 else min(255, (lost_int << 8) // exp_int)
        dlsr = int((now - self.lsr_time) * 65536) if self.lsr else 0
        return RtcpReceiverInfo(
            ssrc=ssrc,
            fraction_lost=fraction,
            packets_lost=lost,
            highest_sequence=(self.cycles + self.max_seq) & 0xFFFFFFFF,
            jitter=int(self.jitter) & 0xFFFFFFFF,
            lsr=self.lsr,
            dlsr=max(0, dlsr) & 0xFFFFFFFF,
        )


def receiver_report(sender_ssrc: int, reports: list[RtcpReceiverInfo]) -> bytes:
    return bytes(RtcpRrPacket(ssrc=sender_ssrc, reports=reports[:31]))


def remb(sender_ssrc: int, bitrate: int, media_ssrcs: list[int]) -> bytes:
    """Receiver Estimated Maximum Bitrate (draft-alvestrand-rmcat-remb)."""
    return bytes(
        RtcpPsfbPacket(
            fmt=RTCP_PSFB_APP,
            ssrc=sender_ssrc,
            media_ssrc=0,
            fci=pack_remb_fci(bitrate, media_ssrcs),
        )
    )


def sender_report(
    ssrc: int, ntp: int, rtp_ts: int, packets: int, octets: int, cname: str | None = None
) -> bytes:
    out = bytes(
        RtcpSrPacket(
            ssrc=ssrc,
            sender_info=RtcpSenderInfo(
                ntp_timestamp=ntp & 0xFFFFFFFFFFFFFFFF,
                rtp_timestamp=rtp_ts & 0xFFFFFFFF,
                packet_count=packets & 0xFFFFFFFF,
                octet_count=octets & 0xFFFFFFFF,
            ),
        )
    )
    if cname:
        out += bytes(
            RtcpSdesPacket(chunks=[RtcpSourceInfo(ssrc=ssrc, items=[(1, cname.encode("utf8"))])])
        )
    return out


def round_trip(lsr: int, dlsr: int, unix_now: float) -> float | None:
    """Seconds of round trip from a report block's LSR/DLSR (RFC 3550 section 6.4.1)."""
    now_mid = (ntp_time(unix_now) >> 16) & 0xFFFFFFFF
    rtt = ((now_mid - lsr - dlsr) & 0xFFFFFFFF) / 65536
    return rtt if rtt < 60 else None


def ntp_time(unix_time: float) -> int:
    """64-bit NTP timestamp of a Unix time."""
    secs = unix_time + 2208988800
    return (int(secs) << 32) | int((secs % 1) * (1 << 32))


# --- counting what a lean receiver gets ---------------------------------------------


@dataclass
class ReceivedFrame:
    timestamp: int
    keyframe: bool
    data: bytes


@dataclass
class StreamCounter:
    """Counts packets and complete frames of one received stream, without decoding.

    A video frame is complete when its packets run without a gap from a packet that
    starts a frame to the packet with the marker bit. Audio frames are packets.
    With ``capture`` set, complete frames (depayloaded) are kept in ``captured``;
    with ``on_frame`` set, they are handed to it instead (the recorder).
    """

    kind: str
    codec: str = "VP8"
    capture: bool = False
    packets: int = 0
    octets: int = 0
    frames: int = 0
    keyframes: int = 0
    incomplete: int = 0
    gaps: int = 0
    """Times the sequence number did not follow the previous packet's."""
    first_frame_keyframe: bool | None = None
    """Whether the first frame start this receiver saw was a keyframe's."""
    last_seq: int | None = None
    captured: list[ReceivedFrame] = field(default_factory=list)
    on_frame: Callable[[ReceivedFrame], None] | None = None
    frame_gap: float = 0.0
    """The longest time between two complete frames' arrivals (seconds) since the first
    frame or :meth:`reset_frame_gap`: a freeze as a viewer would see it."""
    _frame_at: float = 0.0
    _ts: int | None = None
    _ok: bool = False
    _key: bool = False
    _parts: list[bytes] = field(default_factory=list)

    def add(self, data: bytes) -> None:
        """One received (decrypted) RTP packet. Works on offsets: nothing is copied
        unless frames are kept."""
        hlen = header_length(data)
        end = len(data)
        if data[0] & 0x20:
            end -= data[-1]
        seq = (data[2] << 8) | data[3]
        last = self.last_seq
        self.last_seq = seq
        self.packets += 1
        self.octets += len(data)
        contiguous = last is not None and seq == (last + 1) & 0xFFFF
        if last is not None and not contiguous:
            self.gaps += 1
        keep = self.capture or self.on_frame is not None
        if self.kind == "audio":
            self.frames += 1
            if keep:
                self._emit(ReceivedFrame(int.from_bytes(data[4:8], "big"), True, data[hlen:end]))
            return
        if end <= hlen:  # padding only
            return
        ts = int.from_bytes(data[4:8], "big")
        if self.codec == "VP8":
            start, key = _vp8_info_at(data, hlen, end)
        else:
            start, key = h264_frame_info(data[hlen:end])
        if ts != self._ts:
            if self._ts is not None and self._ok:
                self.incomplete += 1  # the previous frame never saw its marker
            self._ts = ts
            self._ok = start
            self._key = key
            self._parts = []
            if start and self.first_frame_keyframe is None:
                self.first_frame_keyframe = key
        elif not contiguous:
            self._ok = False
        if self._ok and keep:
            payload = data[hlen:end]
            self._parts.append(vp8_depayload(payload) if self.codec == "VP8" else payload)
        if data[1] & 0x80:  # marker: the frame's last packet
            if self._ok:
                self.frames += 1
                now = time.monotonic()
                if self._frame_at and now - self._frame_at > self.frame_gap:
                    self.frame_gap = now - self._frame_at
                self._frame_at = now
                if self._key:
                    self.keyframes += 1
                if keep:
                    self._emit(ReceivedFrame(ts, self._key, b"".join(self._parts)))
            else:
                self.incomplete += 1
            self._ts = None
            self._ok = False

    def reset_frame_gap(self) -> None:
        """Start measuring :attr:`frame_gap` again from the next frame."""
        self.frame_gap = 0.0
        self._frame_at = 0.0

    def _emit(self, frame: ReceivedFrame) -> None:
        if self.on_frame is not None:
            self.on_frame(frame)
        else:
            self.captured.append(frame)
