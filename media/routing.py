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
    share: bool = False
    """Send the screen share (m-line 2): this site presents."""


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
    share: str | None = None
    """The presenter: its screen share goes to every site's share slot."""


@dataclass(frozen=True)
class PeerSlots:
    speaker_slots: int
    preview_slots: int


SlotKey = tuple[SlotRole, int, str]
"""(role, number, kind): ("main", 0, "video") is the program video slot."""
SHARE_KEY: SlotKey = (SlotRole.SHARE, 0, "video")


def source_name(key: SlotKey) -> str:
    """Which of the publisher's sources feeds a slot: ``audio``, ``video`` or ``share``."""
    return "share" if key[0] is SlotRole.SHARE else key[2]


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
        if state.share is not None and state.share != subscriber:
            out[SHARE_KEY] = state.share  # only a site that offered the share slot has this output
    return out


def plan(state: ControlState, peers: Mapping[str, PeerSlots]) -> dict[str, dict[SlotKey, str]]:
    return {peer: subscriber_plan(peer, slots, state) for peer, slots in peers.items()}


def previewed(state: ControlState) -> frozenset[str]:
    """Sites some video-receiving viewer shows in a preview slot."""
    return frozenset(
        peer
        for viewer, shown in state.previews.items()
        if viewer not in state.audio_only and viewer not in state.poor_links
        for peer in shown
    )


def on_air(state: ControlState) -> frozenset[str]:
    """The program and the floor holders."""
    return frozenset(state.speakers) | ({state.program} if state.program is not None else frozenset())


def publish_hint(peer: str, state: ControlState, shown: frozenset[str] | None = None) -> PublishHint:
    """What ``peer`` should send; ``shown`` is :func:`previewed` of ``state`` when the
    caller already has it (hints for many peers at once)."""
    live = peer == state.program or peer in state.speakers
    audio = live and peer not in state.muted
    if live:
        video = VideoSend.FULL
    elif peer in (previewed(state) if shown is None else shown):
        video = VideoSend.PREVIEW
    else:
        video = VideoSend.OFF
    return PublishHint(audio=audio, video=video, share=peer == state.share)


def publish_hints(state: ControlState, peers: set[str] | frozenset[str]) -> dict[str, PublishHint]:
    shown = previewed(state)
    return {peer: publish_hint(peer, state, shown) for peer in peers}


@dataclass(frozen=True)
class ControlChange:
    """What a change of the control state touches (see :func:`control_change`)."""

    everyone: bool
    """Every subscriber's plan may change: the program or the floor changed, or an on-air
    site was muted or unmuted."""
    subscribers: frozenset[str]
    """Otherwise, only these subscribers' plans may change."""
    muted: frozenset[str]
    """Publishers whose audio is now dropped on arrival, or no longer."""
    hints: frozenset[str]
    """Sites whose publish hint may change."""


def control_change(old: ControlState, new: ControlState) -> ControlChange:
    """Diff two control states, in time proportional to what changed (plus the preview
    walls when those changed): steering a conference never replans every site for a
    change that concerns one."""
    air_old, air_new = on_air(old), on_air(new)
    muted = old.muted ^ new.muted
    everyone = (old.program != new.program or old.speakers != new.speakers or old.share != new.share
                or bool(muted & (air_old | air_new)))
    video = (old.audio_only ^ new.audio_only) | (old.poor_links ^ new.poor_links)
    walls: set[str] = set()
    if old.previews is not new.previews:
        walls = {v for v in old.previews.keys() | new.previews.keys() if old.previews.get(v) != new.previews.get(v)}
    subscribers = frozenset(video | walls)
    hints = (air_old ^ air_new) | muted
    if old.share != new.share:
        hints |= {p for p in (old.share, new.share) if p is not None}
    if walls or video & (old.previews.keys() | new.previews.keys()):
        hints |= previewed(old) ^ previewed(new)
    return ControlChange(everyone, subscribers, frozenset(muted), frozenset(hints))
