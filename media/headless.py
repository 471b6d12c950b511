"""The headless bridge: a Python site for load tests, demos and kiosks.

It publishes a synthetic test pattern with the site's caption and a tone (or a
WebM/MKV file's VP8 and Opus packets, looped, without re-encoding), receives the
program and the speaker slot(s), and counts the frames and packets it gets —
without decoding (see :class:`media.client.SiteClient`). With ``share=True`` it also
offers the share slot and publishes a second, larger test pattern on it, as a page's
``getDisplayMedia`` screen would be (:func:`screen_source`); with ``share_slot=True``
it receives the presenter's share without presenting.

It needs one thing from the signaling side: ``signal(offer_sdp) -> answer_sdp``.
The server's protocol client provides it for ``bridgeconf bridge --join LINK``;
``python -m media.headless --offer-url URL`` uses a plain HTTP POST (the body is
the offer, the response the answer), as ``bench/media.py``'s hub does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import av

from .client import Signal, SiteClient
from .config import MediaConfig
from .testsrc import (
    AUDIO_CLOCK,
    VIDEO_CLOCK,
    EncodedFrame,
    EncodedSource,
    Pacer,
    PatternSource,
    ToneSource,
)

logger = logging.getLogger(__name__)


class FileSource(EncodedSource):
    """Loops one stream of a media file (VP8 video or Opus audio), packets as they are."""

    def __init__(self, path: str, kind: str, keep: int = 0) -> None:
        super().__init__(keep)
        self.kind = kind
        self.clock_rate = VIDEO_CLOCK if kind == "video" else AUDIO_CLOCK
        with av.open(path) as container:
            streams = container.streams.video if kind == "video" else container.streams.audio
            if not streams:
                raise ValueError(f"{path} has no {kind} stream")
            stream = streams[0]
            want = "vp8" if kind == "video" else "opus"
            if stream.codec_context.name != want:
                raise ValueError(f"{path}: the {kind} stream is {stream.codec_context.name}, not {want}")
            rate = stream.average_rate if kind == "video" else None
            self.packets = [(bytes(p), bool(p.is_keyframe)) for p in container.demux(stream) if p.size]
        if not self.packets:
            raise ValueError(f"{path} has no {kind} packets")
        self.period = 1 / float(rate) if kind == "video" and rate else (0.02 if kind == "audio" else 1 / 30)
        self.pacer = Pacer(self.period)
        self._pos = 0
        self._jump = False

    def request_keyframe(self) -> None:
        super().request_keyframe()
        self._jump = self.kind == "video"

    async def next_frame(self) -> EncodedFrame:
        n = await self.pacer.wait()
        if self._jump:
            self._jump = False
            while not self.packets[self._pos][1]:
                self._pos = (self._pos + 1) % len(self.packets)
        data, key = self.packets[self._pos]
        self._pos = (self._pos + 1) % len(self.packets)
        return self._count(EncodedFrame(data, int(n * self.period * self.clock_rate), key or self.kind == "audio"))


class MediaState(StrEnum):
    """How a site's media fares, apart from its signaling (reported to the chair)."""

    FLOWING = "flowing"
    """Connected, and media arrives whenever some is due."""
    STALLED = "stalled"
    """Nothing arrived for ``STALL_S`` although media is due, or the connection failed and no
    new offer has worked yet."""
    RENEGOTIATING = "renegotiating"
    """A new offer is under way."""


STALL_S = 3.0
RETRY_S = (1.0, 2.0, 4.0, 8.0)


class HeadlessBridge:
    """One simulated bridge site (see the module docstring).

    Its media outlives a connection: :meth:`renegotiate` makes a new peer connection with a new
    offer (what the signaling side calls after its WebSocket reconnected: a new socket is a new
    peer on the server), and a connection that fails is renegotiated by itself, with a back-off.
    ``on_media_state`` is called on every change of :attr:`media_state`; ``expect_media`` says
    whether media is due now (the conference's phase), so that silence is not a stall.
    """

    def __init__(
        self,
        config: MediaConfig,
        signal: Signal,
        caption: str,
        *,
        speaker_slots: int = 1,
        preview_slots: int = 0,
        size: tuple[int, int] = (320, 180),
        fps: int = 15,
        video_bitrate: int = 300_000,
        tone_hz: float | None = None,
        media_file: str | None = None,
        publish: bool = True,
        keep: int = 0,
        rx_loss: float = 0.0,
        sources: tuple[EncodedSource, EncodedSource] | None = None,
        share: bool = False,
        share_slot: bool = False,
    ) -> None:
        """``sources``: (audio, video) to publish as they are, such as a ``ClipSource`` looping
        frames encoded once for many simulated sites (no encoding per site). ``share``: offer
        the share slot and publish a test-pattern screen on it (it reaches the other sites once
        the server forwards it: ``start_share``); ``share_slot``: show the presenter's share."""
        self.caption = caption
        audio: EncodedSource | None = None
        video: EncodedSource | None = None
        if publish and sources is not None:
            audio, video = sources
        elif publish and media_file:
            video = FileSource(media_file, "video", keep)
            try:
                audio = FileSource(media_file, "audio", keep)
            except ValueError:
                audio = ToneSource(tone_hz or _tone_for(caption), keep=keep)
        elif publish:
            video = PatternSource(caption, size[0], size[1], fps, video_bitrate, keep=keep)
            audio = ToneSource(tone_hz or _tone_for(caption), keep=keep)
        self.screen: PatternSource | None = screen_source(caption, keep) if share else None
        """The test screen (``share=True``): paused until :meth:`screen_on`, as a page captures
        its screen only when its user shares."""
        if self.screen is not None:
            self.screen.pacer.pause()
        self._new_client: Callable[[], SiteClient] = lambda: SiteClient(
            config, signal, speaker_slots=speaker_slots, preview_slots=preview_slots,
            audio=audio, video=video, capture=keep > 0, name=caption, rx_loss=rx_loss,
            share=self.screen, share_slot=share_slot,
        )  # fmt: skip
        self.client = self._new_client()
        self.started_at: float | None = None
        self.connects = 0
        """Connections made: 1 after :meth:`start`, one more per renegotiation that worked."""
        self.on_media_state: Callable[[MediaState], None] | None = None
        self.expect_media: Callable[[], bool] = lambda: True
        self._state = MediaState.RENEGOTIATING
        self._renegotiating = False
        self._failures = 0
        self._retry_at = 0.0
        self._watch: asyncio.Task[None] | None = None
        self._offer: asyncio.Task[None] | None = None
        self._timeout = 15.0
        self._since = 0.0  # loop time the current connection came up

    async def start(self, timeout: float = 15.0) -> None:
        self._timeout = timeout
        await self.client.connect(timeout)
        self.connects += 1
        self._since = asyncio.get_running_loop().time()
        self.started_at = time.monotonic()
        self._watch = asyncio.create_task(self._watch_media(), name=f"media-watch-{self.caption}")

    async def stop(self) -> None:
        for task in (self._watch, self._offer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.client.close()

    def screen_on(self, on: bool) -> None:
        """Start (a keyframe first) or pause the test screen on the share slot."""
        if self.screen is None:
            return
        if on:
            self.screen.request_keyframe()
            self.screen.pacer.resume()
        else:
            self.screen.pacer.pause()

    # -- keeping the media up --------------------------------------------------------------

    @property
    def media_state(self) -> MediaState:
        if self._renegotiating:
            return MediaState.RENEGOTIATING
        client = self.client
        if client.closed.is_set() or not client.connected.is_set():
            return MediaState.STALLED
        now = asyncio.get_running_loop().time()
        if self.expect_media() and now - max(client.last_rx, self._since) > STALL_S:
            return MediaState.STALLED
        return MediaState.FLOWING

    def renegotiate(self) -> None:
        """Replace the connection with a new one (a new offer through ``signal``), in the
        background; a renegotiation already under way is given up for this one."""
        if self._offer is not None:
            self._offer.cancel()
        self._renegotiating = True
        self._report()
        self._offer = asyncio.create_task(self._renegotiate(), name=f"media-offer-{self.caption}")

    async def _renegotiate(self) -> None:
        old = self.client
        await old.close()
        client = self.client = self._new_client()
        try:
            await client.connect(self._timeout)
        except asyncio.CancelledError:
            await client.close()
            raise
        except Exception as exc:  # the server not back yet, an offer refused: try again later
            logger.info("%s: new offer failed: %s", self.caption, exc)
            self._failures += 1
            self._retry_at = asyncio.get_running_loop().time() + RETRY_S[min(self._failures, len(RETRY_S)) - 1]
        else:
            self._failures = 0
            self.connects += 1
            self._since = asyncio.get_running_loop().time()
        finally:
            if self._offer is asyncio.current_task():
                self._offer = None
                self._renegotiating = False
                self._report()

    async def _watch_media(self) -> None:
        """Twice a second: report a change of state; renegotiate a connection that failed."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0.5)
            failed = self.client.closed.is_set() or not self.client.connected.is_set()
            if failed and not self._renegotiating and loop.time() >= self._retry_at:
                self.renegotiate()
            self._report()

    def _report(self) -> None:
        state = self.media_state
        if state is self._state:
            return
        self._state = state
        if self.on_media_state is not None:
            try:
                self.on_media_state(state)
            except Exception:
                logger.exception("on_media_state callback failed")

    def report(self) -> dict[str, Any]:
        """Frames and packets received per slot (and sent), with rates since start."""
        elapsed = time.monotonic() - self.started_at if self.started_at else 0.0
        out = self.client.stats()
        out["caption"] = self.caption
        out["media_state"] = self.media_state.value if self.started_at else None
        out["connects"] = self.connects
        out["seconds"] = round(elapsed, 1)
        if elapsed > 0:
            for slot in out["received"].values():
                slot["fps"] = round(slot["frames"] / elapsed, 1)
        return out


SCREEN = (1280, 720, 5, 600_000)
"""The test screen: width, height, frames per second, bit rate (a slide-like screen share:
large, detailed, few frames; a page's share is at most 1920 px and 15 fps)."""


def screen_source(caption: str, keep: int = 0) -> PatternSource:
    """The test-pattern "screen" a headless presenter shares (live VP8, honours PLIs)."""
    width, height, fps, bitrate = SCREEN
    return PatternSource(f"Màn hình — {caption}", width, height, fps, bitrate, keep=keep)


def _tone_for(caption: str) -> float:
    return 300.0 + (sum(caption.encode()) % 40) * 15


async def simulate(
    config: MediaConfig, signal_for: Callable[[str], Signal], sites: int, prefix: str = "site", **kwargs: Any
) -> list[HeadlessBridge]:
    """Start ``sites`` headless bridges (a few at a time) and return them running."""
    bridges = [HeadlessBridge(config, signal_for(f"{prefix}-{i}"), f"{prefix}-{i}", **kwargs) for i in range(1, sites + 1)]
    gate = asyncio.Semaphore(8)

    async def start(b: HeadlessBridge) -> None:
        async with gate:
            await b.start()

    await asyncio.gather(*(start(b) for b in bridges))
    return bridges


def http_signal(url: str) -> Signal:
    """``signal`` over HTTP: POST the offer to ``url``, the response body is the answer."""

    async def signal(offer: str) -> str:
        from aiohttp import ClientSession

        async with ClientSession() as session, session.post(url, data=offer) as resp:
            text = await resp.text()
            if resp.status != 200:
                raise RuntimeError(f"offer refused ({resp.status}): {text[:200]}")
            return text

    return signal


def main() -> None:
    parser = argparse.ArgumentParser(description="Run one headless bridge site against an HTTP offer endpoint.")
    parser.add_argument("--offer-url", required=True)
    parser.add_argument("--caption", default="headless site")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--media-file", default=None, help="a WebM/MKV with VP8 (and Opus) to loop")
    parser.add_argument("--gather", default="127.0.0.1", help="local address ICE gathers on ('' for all)")
    args = parser.parse_args()
    config = MediaConfig(gather_addresses=(args.gather,) if args.gather else ())

    async def run() -> None:
        bridge = HeadlessBridge(config, http_signal(args.offer_url), args.caption, media_file=args.media_file)
        await bridge.start()
        await asyncio.sleep(args.seconds)
        print(json.dumps(bridge.report(), indent=2))
        await bridge.stop()

    asyncio.run(run())


if __name__ == "__main__":
    main()
