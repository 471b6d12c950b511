"""One site's connection to the forwarder: negotiation, its sources, its outputs, RTCP."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from aiortc import RTCSessionDescription
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    unpack_remb_fci,
)

from . import rtp
from .config import MediaConfig
from .errors import ErrorCode, MediaError
from .layout import Layout, Slot, SlotRole, parse_offer
from .peering import Link, new_peer_connection, restrict_gathering
from .quality import LinkGuard, Reading
from .routing import PeerSlots, SlotKey
from .streams import Output, Source, monotonic

logger = logging.getLogger(__name__)

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
RCVBUF = 1 << 20  # per site socket; the kernel caps it at net.core.rmem_max


class PeerState(StrEnum):
    NEGOTIATING = "negotiating"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    CLOSED = "closed"
    """The transport closed or failed; a new offer reconnects the site."""


def slot_stream_id(slot: Slot) -> str:
    """The msid stream id of a slot, which a page sees as ``event.streams[0].id``."""
    if slot.role is SlotRole.MAIN:
        return "program"
    if slot.role is SlotRole.SHARE:
        return "share"
    return f"{slot.role.value}-{slot.number}"


def _ext_id(transceiver: Any, uri: str) -> int:
    for ext in transceiver._headerExtensions:
        if ext.uri == uri:
            return int(ext.id)
    return 0


class SitePeer:
    """A site as the forwarder sees it: one peer connection, up to two sources
    (its microphone and camera) and one output per slot it receives."""

    def __init__(
        self,
        peer_id: str,
        config: MediaConfig,
        on_state: Callable[[SitePeer], None],
        on_waiting: Callable[[Output, bool], None],
    ) -> None:
        self.peer_id = peer_id
        self.config = config
        self.state = PeerState.NEGOTIATING
        self.layout: Layout | None = None
        self.link: Link | None = None
        self.sources: dict[str, Source] = {}
        self.outputs: dict[SlotKey, Output] = {}
        self.by_pt: dict[int, Source] = {}
        self.by_ssrc_in: dict[int, Source] = {}
        """Sources by the SSRC the offer announced: camera and share are both VP8 on one
        transport, often with the same payload type, so the SSRC tells them apart."""
        self.by_ssrc: dict[int, Output] = {}
        self.pending_candidates: list[Any] = []
        self.rtcp_ssrc = 0
        self.cname = ""
        self.unknown_packets = 0
        self.keyframe_requests_received = 0
        self.guard = LinkGuard(config.quality_policy())
        self._worst_loss: int | None = None  # since the last reading, in 1/256
        self._least_remb: int | None = None
        self._on_state = on_state
        self._on_waiting = on_waiting
        self._slots: PeerSlots | None = None

    @property
    def slots(self) -> PeerSlots:
        """Its slot counts (the layout never changes: kept once, read on every reroute)."""
        if self._slots is None:
            assert self.layout is not None
            self._slots = PeerSlots(self.layout.speaker_slots, self.layout.preview_slots)
        return self._slots

    # -- negotiation -----------------------------------------------------------

    async def negotiate(self, offer: str) -> str:
        desc, layout = parse_offer(offer, self.config)
        self.layout = layout
        pc = new_peer_connection(self.config)
        link = Link(pc, rcvbuf=RCVBUF)
        self.link = link
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        except MediaError:
            raise
        except Exception as exc:
            text = str(exc) or type(exc).__name__
            code = ErrorCode.NO_CODEC if "send parameters" in text else ErrorCode.BAD_SDP
            raise MediaError(code, f"cannot apply the offer: {text}") from None
        transceivers = pc.getTransceivers()
        if [t.mid for t in transceivers] != [s.mid for s in layout.slots]:
            raise MediaError(ErrorCode.BAD_LAYOUT, "unexpected transceivers for this offer")
        for t, slot in zip(transceivers, layout.slots, strict=True):
            wanted = "opus" if slot.kind == "audio" else self.config.video_codec
            codecs = [c for c in t._codecs if c.name.lower() == wanted.lower()][:1]
            if not codecs:
                raise MediaError(ErrorCode.NO_CODEC, f"m-line {slot.index} has no usable {wanted}")
            t._codecs = codecs
            t.direction = "sendrecv"
            stream = slot_stream_id(slot)
            t.sender._stream_id = stream
            t.sender._track_id = f"{stream}-{slot.kind}"
        link.take_over()
        restrict_gathering(pc, self.config)
        await pc.setLocalDescription(await pc.createAnswer())
        self._build(transceivers, layout, desc)
        link.on_rtp = self._on_rtp
        link.on_rtcp = self._on_rtcp
        link.on_state = self._link_state
        self.state = PeerState.CONNECTING
        return str(pc.localDescription.sdp)

    def _build(self, transceivers: list[Any], layout: Layout, desc: Any) -> None:
        assert self.link is not None
        self.rtcp_ssrc = transceivers[0].sender._ssrc
        for t, slot in zip(transceivers, layout.slots, strict=True):
            codec = t._codecs[0]
            if slot.role in (SlotRole.MAIN, SlotRole.SHARE) and slot.site_sends:
                src = Source(
                    self.peer_id, slot.kind, self.link, codec.payloadType, codec.clockRate,
                    self.config.video_codec, self.rtcp_ssrc,
                    level_ext=_ext_id(t, LEVEL_URI) if slot.kind == "audio" else 0,
                    kf_interval=self.config.keyframe_interval,
                )  # fmt: skip
                self.sources["share" if slot.role is SlotRole.SHARE else slot.kind] = src
                if slot.role is SlotRole.MAIN:
                    self.by_pt.setdefault(codec.payloadType, src)
                announced = desc.media[slot.index].ssrc
                if announced:  # the first a=ssrc is the media SSRC (no RTX is negotiated)
                    self.by_ssrc_in[announced[0].ssrc] = src
            if slot.site_receives:
                key: SlotKey = (slot.role, slot.number, slot.kind)
                out = Output(
                    self.peer_id, f"{slot_stream_id(slot)}/{slot.kind}", slot.kind, slot.mid,
                    t.sender._ssrc, codec.payloadType, codec.clockRate,
                    _ext_id(t, MID_URI), self.link, self._on_waiting,
                )  # fmt: skip
                self.outputs[key] = out
                self.by_ssrc[out.ssrc] = out

    # -- transport events --------------------------------------------------------

    def _link_state(self, state: str) -> None:
        if state == "connected" and self.state is PeerState.CONNECTING:
            for out in self.outputs.values():
                out.connect()
            self.state = PeerState.CONNECTED
        elif state in ("failed", "closed") and self.state is not PeerState.CLOSED:
            self.state = PeerState.CLOSED
        else:
            return
        self._on_state(self)

    def check_path(self) -> None:
        """Follow an ICE pair change: outputs send on the new socket/address."""
        if self.state is PeerState.CONNECTED and self.link is not None and self.link.path_changed():
            logger.info("%s: ICE moved to another candidate pair", self.peer_id)
            for out in self.outputs.values():
                out.connect()

    def detach(self) -> None:
        """Unbind everything this peer takes part in (before closing it)."""
        for src in self.sources.values():
            src.detach()
        for out in self.outputs.values():
            out.bind(None)

    async def close(self) -> None:
        self.detach()
        self.state = PeerState.CLOSED
        if self.link is not None:
            self.link.on_state = lambda state: None
            await self.link.close()

    # -- media in -----------------------------------------------------------------

    def _on_rtp(self, data: bytes) -> None:
        if len(data) < 12:
            self.unknown_packets += 1
            return
        src = None
        if self.by_ssrc_in:
            src = self.by_ssrc_in.get(int.from_bytes(data[8:12], "big"))
        if src is None:
            src = self.by_pt.get(data[1] & 0x7F)
        if src is None:
            self.unknown_packets += 1
            return
        src.forward(data)

    def _on_rtcp(self, data: bytes) -> None:
        try:
            packets = RtcpPacket.parse(data)
        except ValueError:
            return
        for packet in packets:
            try:
                self._handle_rtcp(packet)
            except Exception:  # one bad report must not break the others
                logger.debug("bad RTCP from %s", self.peer_id, exc_info=True)

    def _handle_rtcp(self, packet: Any) -> None:
        if isinstance(packet, RtcpSrPacket):
            for src in self.sources.values():
                if src.ssrc == packet.ssrc:
                    src.on_sender_report(
                        packet.sender_info.ntp_timestamp, packet.sender_info.rtp_timestamp
                    )
        if isinstance(packet, (RtcpRrPacket, RtcpSrPacket)):
            for report in packet.reports:
                out = self.by_ssrc.get(report.ssrc)
                if out is not None:
                    out.loss = report.fraction_lost
                    if out.active:  # minus what the publisher's own link lost: not this site's fault
                        down = report.fraction_lost - out.source.up_loss  # type: ignore[union-attr]
                        self._worst_loss = max(down, self._worst_loss or 0)
                    if report.lsr:
                        rtt = _rtt(report.lsr, report.dlsr)
                        if rtt is not None:
                            out.rtt = rtt
        elif isinstance(packet, RtcpPsfbPacket):
            if packet.fmt == RTCP_PSFB_PLI:
                self._keyframe_wanted(packet.media_ssrc)
            elif packet.fmt == RTCP_PSFB_FIR and len(packet.fci) >= 8:
                for i in range(0, len(packet.fci) - 7, 8):
                    self._keyframe_wanted(int.from_bytes(packet.fci[i : i + 4], "big"))
            elif packet.fmt == RTCP_PSFB_APP:
                try:
                    bitrate, ssrcs = unpack_remb_fci(packet.fci)
                except ValueError:
                    return
                for ssrc in ssrcs:
                    out = self.by_ssrc.get(ssrc)
                    if out is not None:
                        out.remb = bitrate
                        if out.active:
                            self._least_remb = min(bitrate, self._least_remb or bitrate)
        elif isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            out = self.by_ssrc.get(packet.media_ssrc)
            if out is not None:
                for seq in packet.lost[:64]:
                    out.nacks += 1
                    out.resend(seq)

    def take_reading(self) -> Reading:
        """How the link to this site fared since the last call (see :mod:`media.quality`)."""
        loss, self._worst_loss = self._worst_loss, None
        remb, self._least_remb = self._least_remb, None
        return Reading(loss=None if loss is None else max(0, loss) / 256, remb=remb)

    def _keyframe_wanted(self, ssrc: int) -> None:
        out = self.by_ssrc.get(ssrc)
        if out is None or out.kind != "video":
            return
        out.keyframe_requests += 1
        self.keyframe_requests_received += 1
        if out.source is not None:
            out.source.request_keyframe()

    # -- periodic RTCP out ----------------------------------------------------------

    def send_reports(self, now: float, unix_now: float, max_bitrate: int) -> None:
        """Sender reports for what we send this site; receiver reports and REMB for
        what it sends us. One compound packet each way."""
        if self.state is not PeerState.CONNECTED or self.link is None:
            return
        ntp = rtp.ntp_time(unix_now)
        chunks = []
        for out in self.outputs.values():
            ts = out.rtp_time_at(now)
            if ts is None or not out.packets:
                continue
            chunks.append(rtp.sender_report(out.ssrc, ntp, ts, out.packets, out.octets))
        if chunks:
            self.link.send_rtcp(b"".join(chunks))
        reports = []
        for src in self.sources.values():
            if src.ssrc is not None:
                report = src.rx.report(src.ssrc, now)
                src.up_loss = report.fraction_lost
                reports.append(report)
        if reports:
            data = rtp.receiver_report(self.rtcp_ssrc, reports)
            video = self.sources.get("video")
            if video is not None and video.ssrc is not None:
                data += rtp.remb(self.rtcp_ssrc, max_bitrate, [video.ssrc])
            self.link.send_rtcp(data)

    def stats(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "speaker_slots": self.layout.speaker_slots if self.layout else 0,
            "preview_slots": self.layout.preview_slots if self.layout else 0,
            "in": {kind: src.stats() for kind, src in self.sources.items()},
            "out": {out.slot: out.stats() for out in self.outputs.values()},
            "keyframe_requests_received": self.keyframe_requests_received,
            "link": {"audio_only": self.guard.audio_only, "reason": self.guard.reason,
                     "fraction_lost": round(self.guard.loss, 3), "fallbacks": self.guard.fallbacks},
            "unknown_packets": self.unknown_packets,
            "send_errors": self.link.send_errors if self.link else 0,
            "rx_errors": self.link.rx_errors if self.link else 0,
        }


def _rtt(lsr: int, dlsr: int) -> float | None:
    """Round-trip time from a report block's LSR/DLSR (RFC 3550 section 6.4.1)."""
    now_mid = (rtp.ntp_time(time.time()) >> 16) & 0xFFFFFFFF
    rtt = ((now_mid - lsr - dlsr) & 0xFFFFFFFF) / 65536
    return rtt if rtt < 60 else None


__all__ = ["PeerState", "SitePeer", "monotonic"]
