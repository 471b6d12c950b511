"""Who receives what: a pure function of the control state.

The forwarder keeps the chair's decisions (program, floor holders, mutes,
audio-only sites, whether chosen or forced by a poor link, preview walls) in a :class:`ControlState`, and each connected
site's slot counts. :func:`plan` says which publisher feeds each slot of each
site; :func:`publish_hints` says what each site should be sending at all. No
I/O, no clock: the tests call them directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from .layout import SlotRole


class VideoSend(StrEnum):
    OFF = "off"
    PREVIEW = "preview"
    """Low rate: a small, slow picture for the chair's wall (e.g. 320x180, 5 fps, 150 kbit/s)."""
    FULL = "full"


@dataclass(frozen=True)
class PublishHint:
    """What a site should send. The server relays it; the page applies it with
    ``RTCRtpSender.setParameters`` (``active``, ``maxBitrate``, ``scaleResolutionDownBy``,
    ``maxFramerate``) — no renegotiation."""

    audio: bool
    video: VideoSend


@dataclass(frozen=True)
class ControlState:
    program: str | None = None
    speakers: tuple[str, ...] = ()
    muted: frozenset[str] = frozenset()
    audio_only: frozenset[str] = frozenset()
    """Sites that chose to receive no video."""
    poor_links: frozenset[str] = frozenset()
    """Sites the forwarder put on audio only because their link loses too much."""
    previews: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class PeerSlots:
    speaker_slots: int
    preview_slots: int


SlotKey = tuple[SlotRole, int, str]
"""(role, number, kind): ("main", 0, "video") is the program video slot."""


def subscriber_plan(subscriber: str, slots: PeerSlots, state: ControlState) -> dict[SlotKey, str]:
    """Which publisher feeds each of this subscriber's slots (absent: nothing)."""
    out: dict[SlotKey, str] = {}
    video = subscriber not in state.audio_only and subscriber not in state.poor_links
    program = state.program
    if program is not None and program != subscriber:
        if program not in state.muted:
            out[(SlotRole.MAIN, 0, "audio")] = program
        if video:
            out[(SlotRole.MAIN, 0, "video")] = program
    for i, speaker in enumerate(state.speakers[: slots.speaker_slots]):
        if speaker == subscriber:
            continue  # nobody hears or sees themselves
        if speaker not in state.muted:
            out[(SlotRole.SPEAKER, i, "audio")] = speaker
        if video:
            out[(SlotRole.SPEAKER, i, "video")] = speaker
    if video:
        for i, peer in enumerate(state.previews.get(subscriber, ())[: slots.preview_slots]):
            out[(SlotRole.PREVIEW, i, "video")] = peer
    return out


def plan(state: ControlState, peers: Mapping[str, PeerSlots]) -> dict[str, dict[SlotKey, str]]:
    return {peer: subscriber_plan(peer, slots, state) for peer, slots in peers.items()}


def publish_hint(peer: str, state: ControlState) -> PublishHint:
    on_air = peer == state.program or peer in state.speakers
    audio = on_air and peer not in state.muted
    if on_air:
        video = VideoSend.FULL
    elif any(
        peer in shown and viewer not in state.audio_only and viewer not in state.poor_links
        for viewer, shown in state.previews.items()
    ):
        video = VideoSend.PREVIEW
    else:
        video = VideoSend.OFF
    return PublishHint(audio=audio, video=video)


def publish_hints(state: ControlState, peers: set[str] | frozenset[str]) -> dict[str, PublishHint]:
    return {peer: publish_hint(peer, state) for peer in peers}
