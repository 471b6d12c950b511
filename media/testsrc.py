"""Encoded media for Python peers: a captioned test pattern, a tone, a looped clip.

A source hands out *encoded* frames (VP8 or Opus bytes) paced in real time; a
Python peer packetizes them with aiortc's packetizer and never re-encodes, so
what a source produced is exactly what a subscriber must reassemble. Sources can
keep what they sent (``keep``) for the no-transcoding checks.
"""

from __future__ import annotations

import asyncio
import colorsys
import fractions
import hashlib
import math
import struct
import time
from collections import deque
from dataclasses import dataclass

import av
from av.video.frame import PictureType
from PIL import Image, ImageDraw, ImageFont

VIDEO_CLOCK = 90_000
AUDIO_CLOCK = 48_000
OPUS_FRAME = 960  # 20 ms


def _relaid(src: av.video.plane.VideoPlane, dst: av.video.plane.VideoPlane) -> bytes:
    """``src``'s pixels with ``dst``'s line size (the same plane of the same size)."""
    data = bytes(src)
    if src.line_size == dst.line_size:
        return data
    out = bytearray(dst.buffer_size)
    for row in range(dst.height):
        out[row * dst.line_size:row * dst.line_size + dst.width] = \
            data[row * src.line_size:row * src.line_size + dst.width]
    return bytes(out)


@dataclass
class EncodedFrame:
    data: bytes
    timestamp: int
    """RTP-clock ticks since the source started."""
    keyframe: bool
    audio_level: int | None = None
    """RFC 6464 level (0 loud .. 127 silent) for audio."""


class Pacer:
    """Sleeps until frame ``n`` is due, ``period`` seconds apart."""

    def __init__(self, period: float) -> None:
        self.period = period
        self.start: float | None = None
        self.n = 0
        self.skipped = 0
        self.paused_frames = 0
        self._running = asyncio.Event()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    async def wait(self) -> int:
        """Frame number due next; always yields to the loop. A source that fell more
        than two frames behind (a busy machine) skips to the present instead of
        bursting, like a live camera; frames not sent while paused are skipped too
        (they are counted apart, in ``paused_frames``)."""
        if not self._running.is_set():
            before = time.monotonic()
            await self._running.wait()
            if self.start is not None:
                missed = int((time.monotonic() - before) / self.period)
                self.paused_frames += missed
                self.skipped -= missed
        now = time.monotonic()
        if self.start is None:
            self.start = now
        due = self.start + self.n * self.period
        if now - due > 2 * self.period:
            self.skipped += int((now - self.start) / self.period) - self.n
            self.n = int((now - self.start) / self.period)
            due = self.start + self.n * self.period
        await asyncio.sleep(max(0.0, due - now))
        n = self.n
        self.n += 1
        return n


class EncodedSource:
    kind = "video"
    clock_rate = VIDEO_CLOCK

    def __init__(self, keep: int = 0) -> None:
        self.sent: deque[bytes] = deque(maxlen=keep) if keep else deque(maxlen=0)
        self.frames_sent = 0
        self.keyframes_sent = 0
        self.keyframe_requests = 0

    async def next_frame(self) -> EncodedFrame:
        raise NotImplementedError

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1

    def _count(self, frame: EncodedFrame) -> EncodedFrame:
        self.frames_sent += 1
        self.keyframes_sent += frame.keyframe
        if self.sent.maxlen:
            self.sent.append(frame.data)
        return frame


def _caption_font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - old Pillow
        return ImageFont.load_default()


class PatternSource(EncodedSource):
    """Colour bars, a moving stripe, the site's caption and a clock, encoded live
    with libvpx; honours keyframe requests."""

    def __init__(
        self,
        caption: str,
        width: int = 320,
        height: int = 180,
        fps: int = 15,
        bitrate: int = 300_000,
        keep: int = 0,
    ) -> None:
        super().__init__(keep)
        self.caption = caption
        self.width, self.height, self.fps = width, height, fps
        self.pacer = Pacer(1 / fps)
        self._force_key = True
        hue = int(hashlib.sha1(caption.encode()).hexdigest()[:4], 16) / 0xFFFF
        r, g, b = colorsys.hsv_to_rgb(hue, 0.5, 0.6)
        base = Image.new("RGB", (width, height), (int(r * 255), int(g * 255), int(b * 255)))
        draw = ImageDraw.Draw(base)
        bars = [(192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0), (192, 0, 192), (192, 0, 0), (0, 0, 192)]
        bw = width / len(bars)
        for i, c in enumerate(bars):
            draw.rectangle([int(i * bw), 0, int((i + 1) * bw), height // 3], fill=c)
        draw.text((8, height // 3 + 8), caption, fill=(255, 255, 255), font=_caption_font(max(12, height // 8)))
        # Rendered once to YUV; each frame copies the planes and moves a bar in Y,
        # and the clock is re-rendered once a second: cheap enough for dozens of sites.
        first = av.VideoFrame.from_image(base).reformat(format="yuv420p")  # type: ignore[no-untyped-call]
        # laid out as the frames render() fills: PyAV 18.1.1 pads reformat()'s rows (192 bytes
        # for 160 pixels) but not a new frame's, and update() takes exactly a plane's size
        layout = av.VideoFrame(width, height, "yuv420p")
        self._planes = [_relaid(src, dst) for src, dst in zip(first.planes, layout.planes, strict=True)]
        self._stride = layout.planes[0].line_size
        self._small = _caption_font(max(10, height // 12))
        self._clock_at = -1
        self._clock = b""
        self._clock_size = (0, 0)
        cc = av.CodecContext.create("libvpx", "w")
        cc.width, cc.height = width, height
        cc.pix_fmt = "yuv420p"
        cc.bit_rate = bitrate
        cc.time_base = fractions.Fraction(1, fps)
        cc.framerate = fractions.Fraction(fps, 1)
        cc.gop_size = 10 * fps
        cc.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0", "error-resilient": "1"}
        self._codec = cc

    def request_keyframe(self) -> None:
        super().request_keyframe()
        self._force_key = True

    def render(self, n: int) -> av.VideoFrame:
        w, h, stride = self.width, self.height, self._stride
        y = bytearray(self._planes[0])
        second = n // self.fps
        if second != self._clock_at:
            self._clock_at = second
            text = f"{second // 60:02d}:{second % 60:02d}"
            box = self._small.getbbox(text)
            img = Image.new("L", (min(w - 8, int(box[2]) + 4), min(h // 3, int(box[3]) + 4)), 16)
            ImageDraw.Draw(img).text((2, 2), text, fill=235, font=self._small)
            self._clock, self._clock_size = img.tobytes(), img.size
        cw, ch = self._clock_size
        top = max(0, h - ch - 30)
        for row in range(ch):
            y[(top + row) * stride + 8 : (top + row) * stride + 8 + cw] = self._clock[row * cw : (row + 1) * cw]
        bw = max(4, w // 40)
        x = (n * max(2, w // 80)) % max(1, w - bw)
        bar = b"\xeb" * bw
        for row in range(max(0, h - h // 8), max(0, h - 4)):
            y[row * stride + x : row * stride + x + bw] = bar
        frame = av.VideoFrame(w, h, "yuv420p")
        frame.planes[0].update(bytes(y))
        frame.planes[1].update(self._planes[1])
        frame.planes[2].update(self._planes[2])
        frame.pts = n
        if self._force_key:
            frame.pict_type = PictureType.I
            self._force_key = False
        return frame

    def encode(self, n: int) -> EncodedFrame:
        packets = self._codec.encode(self.render(n))
        data = b"".join(bytes(p) for p in packets)
        key = bool(data) and not (data[0] & 0x01)
        return EncodedFrame(data, n * VIDEO_CLOCK // self.fps, key)

    async def next_frame(self) -> EncodedFrame:
        while True:
            n = await self.pacer.wait()
            frame = self.encode(n)
            if frame.data:
                return self._count(frame)


def encode_clip(width: int, height: int, fps: int, seconds: float, bitrate: int, keyint: int) -> list[tuple[bytes, bool]]:
    """Encode a moving test pattern once, for a source that loops it without encoding."""
    src = PatternSource("clip", width, height, fps, bitrate)
    src._codec.gop_size = keyint
    out = []
    for n in range(int(seconds * fps)):
        if n % keyint == 0:
            src._force_key = True
        f = src.encode(n)
        out.append((f.data, f.keyframe))
    return out


class ClipSource(EncodedSource):
    """Loops pre-encoded frames (bench publisher). A keyframe request jumps to the
    clip's next keyframe, so requests are honoured without any encoding."""

    def __init__(self, frames: list[tuple[bytes, bool]], fps: int, keep: int = 0) -> None:
        super().__init__(keep)
        if not frames or not frames[0][1]:
            raise ValueError("a clip starts with a keyframe")
        self.frames, self.fps = frames, fps
        self.pacer = Pacer(1 / fps)
        self._pos = 0
        self._jump = False

    def request_keyframe(self) -> None:
        super().request_keyframe()
        self._jump = True

    async def next_frame(self) -> EncodedFrame:
        n = await self.pacer.wait()
        if self._jump:
            self._jump = False
            while not self.frames[self._pos][1]:
                self._pos = (self._pos + 1) % len(self.frames)
        data, key = self.frames[self._pos]
        self._pos = (self._pos + 1) % len(self.frames)
        return self._count(EncodedFrame(data, n * VIDEO_CLOCK // self.fps, key))


def encode_tone(freq: float, seconds: float = 1.0, amplitude: float = 0.3) -> list[tuple[bytes, int]]:
    """Opus packets (20 ms) of a sine tone, with each packet's RFC 6464 level."""
    cc = av.CodecContext.create("libopus", "w")
    cc.sample_rate = AUDIO_CLOCK
    cc.layout = "mono"
    cc.format = "s16"
    cc.bit_rate = 32_000
    cc.time_base = fractions.Fraction(1, AUDIO_CLOCK)
    frames = int(seconds * AUDIO_CLOCK / OPUS_FRAME)
    out: list[tuple[bytes, int]] = []
    levels: list[int] = []
    for i in range(frames + 4):
        # a tone that swells and fades, so the level moves
        env = amplitude * (0.55 + 0.45 * math.sin(2 * math.pi * i / max(frames, 1)))
        samples = [
            int(32767 * env * math.sin(2 * math.pi * freq * (i * OPUS_FRAME + k) / AUDIO_CLOCK))
            for k in range(OPUS_FRAME)
        ]
        rms = math.sqrt(sum(s * s for s in samples) / OPUS_FRAME) / 32767
        levels.append(min(127, int(-20 * math.log10(max(rms, 1e-7)))))
        frame = av.AudioFrame(format="s16", layout="mono", samples=OPUS_FRAME)
        frame.planes[0].update(struct.pack(f"<{OPUS_FRAME}h", *samples))
        frame.sample_rate = AUDIO_CLOCK
        frame.pts = i * OPUS_FRAME
        frame.time_base = fractions.Fraction(1, AUDIO_CLOCK)
        for p in cc.encode(frame):
            out.append((bytes(p), levels[min(len(out), len(levels) - 1)]))
    return out[:frames]


class ToneSource(EncodedSource):
    kind = "audio"
    clock_rate = AUDIO_CLOCK

    def __init__(self, freq: float = 440.0, keep: int = 0, packets: list[tuple[bytes, int]] | None = None) -> None:
        super().__init__(keep)
        self.packets = packets if packets is not None else encode_tone(freq)
        self.pacer = Pacer(OPUS_FRAME / AUDIO_CLOCK)

    async def next_frame(self) -> EncodedFrame:
        n = await self.pacer.wait()
        data, level = self.packets[n % len(self.packets)]
        return self._count(EncodedFrame(data, n * OPUS_FRAME, True, level))
