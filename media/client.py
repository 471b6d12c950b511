"""A lean Python site: real ICE + DTLS-SRTP, the documented m-line layout, no decoding.

:class:`SiteClient` offers exactly what a browser site offers (docs/media.md),
publishes encoded frames from :mod:`media.testsrc` sources through aiortc's
packetizer (no encoding in the send path), and counts what it receives at the
socket: packets and complete frames per slot, without decoding. Like a browser, it
sends receiver reports (fraction lost, jitter) for what it receives, once a second.
Many fit in one process; it is the benchmark's subscriber and the core of the
headless bridge. ``rx_loss`` emulates a poor downlink: that fraction of incoming
RTP packets (chosen by sequence number, so retransmissions are lost too) is dropped.

``signal`` is the one thing it needs from the outside: a coroutine that takes the
offer SDP and returns the answer SDP (HTTP, the server's WebSocket, or a direct
``Forwarder.accept_offer`` call in tests).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcrtpsender import RTCEncodedFrame
from aiortc.rtp import (
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpSrPacket,
)
from aiortc.sdp import SessionDescription

from .config import MediaConfig
from .errors import ErrorCode, MediaError
from .layout import Slot, SlotRole, mark_share, offer_directions
from .peering import Link, new_peer_connection, restrict_gathering
from .rtp import ReceptionStats, StreamCounter, receiver_report, round_trip
from .testsrc import EncodedSource

logger = logging.getLogger(__name__)

Signal = Callable[[str], Awaitable[str]]


class _Placeholder(MediaStreamTrack):
    """Marks a sender as having something to send; frames come from a source."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    async def recv(self) -> Any:  # pragma: no cover - never called
        raise RuntimeError("frames come from the attached source")


def attach_source(sender: RTCRtpSender, source: EncodedSource) -> None:
    """Feed ``sender`` encoded frames from ``source``: aiortc packetizes, never encodes."""
    sender.replaceTrack(_Placeholder(source.kind))
    picture_id = [0]

    async def next_encoded_frame(codec: Any) -> RTCEncodedFrame | None:
        frame = await source.next_frame()
        if source.kind == "video":
            payloads = Vp8Encoder._packetize(frame.data, picture_id[0])
            picture_id[0] = (picture_id[0] + 1) % (1 << 15)
        else:
            payloads = [frame.data]
        # aiortc wants the level in dBov (<= 0) and negates it into the RFC 6464 field
        level = -frame.audio_level if frame.audio_level is not None else None
        return RTCEncodedFrame(payloads, frame.timestamp, level)  # type: ignore[arg-type,unused-ignore]

    sender._next_encoded_frame = next_encoded_frame  # type: ignore[method-assign]


def slot_name(slot: Slot) -> str:
    if slot.role is SlotRole.MAIN:
        stream = "program"
    elif slot.role is SlotRole.SHARE:
        stream = "share"
    else:
        stream = f"{slot.role.value}-{slot.number}"
    return f"{stream}/{slot.kind}"


class SiteClient:
    """One site's peer connection to the forwarder (see the module docstring)."""

    def __init__(
        self,
        config: MediaConfig,
        signal: Signal,
        *,
        speaker_slots: int = 1,
        preview_slots: int = 0,
        audio: EncodedSource | None = None,
        video: EncodedSource | None = None,
        capture: bool = False,
        name: str = "site",
        rcvbuf: int = 0,
        rx_loss: float = 0.0,
        share: EncodedSource | None = None,
        share_slot: bool = False,
    ) -> None:
        """``share``: a screen-share source this site may present (m-line 2, sendrecv);
        ``share_slot``: receive the presenter's share without presenting (m-line 2, recvonly)."""
        if config.video_codec != "VP8" and video is not None:
            raise ValueError("Python publishers send VP8 only")
        self.config = config
        self.signal = signal
        self.name = name
        self.audio, self.video = audio, video
        self.speaker_slots = speaker_slots
        self.preview_slots = preview_slots
        self.share = share
        share_dir = "sendrecv" if share is not None else "recvonly" if share_slot else None
        self.has_share = share_dir is not None
        self.directions = offer_directions(speaker_slots, preview_slots, publish=bool(audio or video),
                                           share=share_dir)  # fmt: skip
        self.counters: dict[str, StreamCounter] = {}
        self._by_ssrc: dict[int, StreamCounter] = {}
        self._capture = capture
        self.pc: RTCPeerConnection | None = None
        self.link: Link | None = None
        self.connected = asyncio.Event()
        self.closed = asyncio.Event()
        self.keyframe_requests = 0
        self.share_keyframe_requests = 0
        self.unknown_packets = 0
        self._video_ssrc = 0
        self._share_ssrc = 0
        self._rcvbuf = rcvbuf
        self.rx_loss = rx_loss
        self.dropped = 0
        self._rx: dict[int, ReceptionStats] = {}
        self._rtcp_ssrc = random.randrange(1, 1 << 32)
        self._reports: asyncio.Task[None] | None = None
        self._sent_ssrcs: set[int] = set()
        self.rx_bytes = 0               # RTP bytes received (after the emulated loss)
        self.rtts: collections.deque[float] = collections.deque(maxlen=32)
        """Round trips in seconds, from the server's receiver reports on what we send (newest last)."""
        self.up_loss: float | None = None   # fraction of what we send that the server did not get
        self.last_rx = 0.0
        """Loop time of the last RTP packet from the forwarder (0: none yet)."""

    async def connect(self, timeout: float = 10.0) -> None:
        """Offer, get the answer through ``signal``, wait until media can flow.
        On any failure the connection is closed and the error raised."""
        try:
            await self._connect(timeout)
        except BaseException:
            await self.close()
            raise

    async def _connect(self, timeout: float) -> None:
        pc = new_peer_connection(self.config)
        self.pc = pc
        link = Link(pc, rcvbuf=self._rcvbuf)
        self.link = link
        for kind, direction in self.directions:
            t = pc.addTransceiver(kind, direction=direction)
            want = f"{kind}/{'opus' if kind == 'audio' else self.config.video_codec}".lower()
            caps = RTCRtpSender.getCapabilities(kind)
            t.setCodecPreferences([c for c in caps.codecs if c.mimeType.lower() == want])
        transceivers = pc.getTransceivers()
        keep = set()
        own = [(transceivers[0], self.audio), (transceivers[1], self.video)]
        if self.share is not None:
            own.append((transceivers[2], self.share))
        for t, source in own:
            if source is not None:
                attach_source(t.sender, source)
                keep.add(t.sender)
                self._sent_ssrcs.add(t.sender._ssrc)
        link.take_over(keep_senders=keep)
        self._video_ssrc = transceivers[1].sender._ssrc
        self._share_ssrc = transceivers[2].sender._ssrc if self.has_share else 0
        link.on_rtp = self._on_rtp
        link.on_rtcp = self._on_rtcp
        link.on_state = self._on_state
        restrict_gathering(pc, self.config)
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp
        answer = await self.signal(mark_share(offer) if self.has_share else offer)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        self._map_answer(answer)
        try:
            await asyncio.wait_for(self.connected.wait(), timeout)
        except TimeoutError:
            raise MediaError(ErrorCode.PEER_CLOSED, f"{self.name}: no connection within {timeout}s") from None

    def _map_answer(self, answer: str) -> None:
        desc = SessionDescription.parse(answer)
        first = 3 if self.has_share else 2  # the first speaker slot's m-line
        for i, media in enumerate(desc.media):
            kind = media.kind
            if i < 2:
                role, number = SlotRole.MAIN, 0
            elif i < first:
                role, number = SlotRole.SHARE, 0
            elif i < first + 2 * self.speaker_slots:
                role, number = SlotRole.SPEAKER, (i - first) // 2
            else:
                role, number = SlotRole.PREVIEW, i - first - 2 * self.speaker_slots
            slot = Slot(i, str(media.rtp.muxId), kind, role, number, self.directions[i][1])
            counter = StreamCounter(kind, self.config.video_codec, capture=self._capture)
            self.counters[slot_name(slot)] = counter
            for ssrc in media.ssrc:
                self._by_ssrc[ssrc.ssrc] = counter

    def _on_state(self, state: str) -> None:
        if state == "connected":
            self.connected.set()
            if self._reports is None:
                self._reports = asyncio.get_running_loop().create_task(self._send_reports())
        elif state in ("failed", "closed"):
            self.closed.set()

    def _on_rtp(self, data: bytes) -> None:
        ssrc = int.from_bytes(data[8:12], "big") if len(data) >= 12 else 0
        counter = self._by_ssrc.get(ssrc)
        if counter is None:
            self.unknown_packets += 1
            return
        seq = (data[2] << 8) | data[3]
        if self.rx_loss and ((seq * 40503) & 0xFFFF) < self.rx_loss * 0x10000:
            self.dropped += 1
            return
        rx = self._rx.get(ssrc)
        if rx is None:
            rx = self._rx[ssrc] = ReceptionStats(90000 if counter.kind == "video" else 48000)
        now = self.last_rx = asyncio.get_running_loop().time()
        rx.add(seq, int.from_bytes(data[4:8], "big"), now)
        self.rx_bytes += len(data)
        try:
            counter.add(data)
        except ValueError:
            self.unknown_packets += 1

    async def _send_reports(self) -> None:
        """A receiver report for every stream received, about once a second (RFC 3550)."""
        loop = asyncio.get_running_loop()
        while self.link is not None and not self.closed.is_set():
            await asyncio.sleep(random.uniform(0.5, 1.5))
            now = loop.time()
            reports = [rx.report(ssrc, now) for ssrc, rx in self._rx.items()]
            if reports and self.link.connected:
                self.link.send_rtcp(receiver_report(self._rtcp_ssrc, reports))

    def _on_rtcp(self, data: bytes) -> None:
        try:
            packets = RtcpPacket.parse(data)
        except ValueError:
            return
        for p in packets:
            if isinstance(p, RtcpRrPacket | RtcpSrPacket):   # the server's reports on what we send
                for block in p.reports:
                    if block.ssrc in self._sent_ssrcs:
                        self.up_loss = block.fraction_lost / 256
                        rtt = round_trip(block.lsr, block.dlsr, time.time()) if block.lsr else None
                        if rtt is not None:
                            self.rtts.append(rtt)
            if isinstance(p, RtcpPsfbPacket) and p.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
                target = p.media_ssrc if p.fmt == RTCP_PSFB_PLI else int.from_bytes(p.fci[:4] or b"\0", "big")
                if target == self._video_ssrc and self.video is not None:
                    self.keyframe_requests += 1
                    self.video.request_keyframe()
                elif target == self._share_ssrc and self.share is not None:
                    self.share_keyframe_requests += 1
                    self.share.request_keyframe()

    def reception(self) -> tuple[int, int]:
        """(packets expected, packets received) over every stream received so far."""
        return sum(rx.expected for rx in self._rx.values()), sum(rx.received for rx in self._rx.values())

    async def bytes_sent(self) -> int:
        """RTP bytes sent so far by this client's publishing senders."""
        total = 0
        for t in self.pc.getTransceivers()[:2] if self.pc else []:
            if t.sender._ssrc in self._sent_ssrcs:
                for stat in (await t.sender.getStats()).values():
                    total += getattr(stat, "bytesSent", 0) or 0
        return total

    def counter(self, slot: str) -> StreamCounter:
        return self.counters[slot]

    def stats(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.link.state if self.link else "new",
            "received": {
                slot: {"packets": c.packets, "frames": c.frames, "keyframes": c.keyframes, "incomplete": c.incomplete}
                for slot, c in self.counters.items()
            },
            "sent": {
                kind: {"frames": s.frames_sent, "keyframes": s.keyframes_sent}
                for kind, s in (("audio", self.audio), ("video", self.video), ("share", self.share))
                if s is not None
            },
            "keyframe_requests": self.keyframe_requests,
            "dropped_as_poor_link": self.dropped,
        }

    async def close(self) -> None:
        if self._reports is not None:
            self._reports.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reports
        if self.link is not None:
            await self.link.close()
        self.closed.set()
