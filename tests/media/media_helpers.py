"""Helpers of the media tests: a forwarder on loopback and Python sites around it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import av

from media.client import SiteClient
from media.config import MediaConfig
from media.forwarder import Forwarder
from media.testsrc import PatternSource, ToneSource

LOOPBACK = MediaConfig(gather_addresses=("127.0.0.1",), keyframe_interval=0.2, keyframe_retry=0.5)


def signal_to(fwd: Forwarder, peer_id: str) -> Callable[[str], object]:
    async def signal(offer: str) -> str:
        return await fwd.accept_offer(peer_id, offer)

    return signal


def site(fwd: Forwarder, peer_id: str, *, publish: bool = True, speaker_slots: int = 1,
         preview_slots: int = 0, capture: bool = True, keep: int = 400, tone: float = 440.0) -> SiteClient:  # fmt: skip
    audio = ToneSource(tone, keep=keep) if publish else None
    video = PatternSource(peer_id, width=160, height=96, fps=15, bitrate=150_000, keep=keep) if publish else None
    return SiteClient(
        fwd.config, signal_to(fwd, peer_id), speaker_slots=speaker_slots, preview_slots=preview_slots,
        audio=audio, video=video, capture=capture, name=peer_id,
    )  # fmt: skip


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def decode_vp8(data: bytes) -> list[av.VideoFrame]:
    """Decode one frame with a fresh decoder: only a keyframe decodes from scratch."""
    codec = av.CodecContext.create("libvpx", "r")
    return list(codec.decode(av.Packet(data)))
