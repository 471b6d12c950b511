"""The m-line layout every site offers, and its strict validation.

A site's offer (browser or Python peer) has, in this order::

    m0  audio  sendrecv   own microphone  -> server;  program audio  -> site
    m1  video  sendrecv   own camera      -> server;  program video  -> site
    optionally, right after m1, the share slot (marked ``a=content:slides``, RFC 4796):
        video  sendrecv   own screen share -> server; the presenter's share -> site
               recvonly   (a site that shows shares but never presents)
    then S >= 0 speaker slots, each a pair:
        audio  recvonly   floor holder i's audio
        video  recvonly   floor holder i's video
    then P >= 0 preview slots:
        video  recvonly   a site's camera, for the chair's wall

``m0``/``m1`` may also be ``sendonly``, ``recvonly`` or ``inactive`` (a page that
only watches offers ``recvonly``). All m-lines are in one BUNDLE group; no data
channel. See docs/media.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from aiortc import sdp

from .config import MediaConfig
from .errors import ErrorCode, MediaError

AUDIO_CODEC = "opus"


class SlotRole(StrEnum):
    MAIN = "main"
    """m0/m1: the site's own media up, the program down."""
    SPEAKER = "speaker"
    PREVIEW = "preview"
    SHARE = "share"
    """The screen share: a presenter's second video stream up, the presenter's share down."""


@dataclass(frozen=True)
class Slot:
    index: int
    """m-line index in the offer."""
    mid: str
    kind: str
    role: SlotRole
    number: int
    """Position within its role: speaker slot 0, 1...; preview slot 0, 1...; 0 for main."""
    direction: str
    """Direction as the site offered it."""

    @property
    def site_sends(self) -> bool:
        return self.direction in ("sendrecv", "sendonly")

    @property
    def site_receives(self) -> bool:
        return self.direction in ("sendrecv", "recvonly")


@dataclass(frozen=True)
class Layout:
    slots: tuple[Slot, ...]

    @property
    def speaker_slots(self) -> int:
        return sum(1 for s in self.slots if s.role is SlotRole.SPEAKER and s.kind == "video")

    @property
    def preview_slots(self) -> int:
        return sum(1 for s in self.slots if s.role is SlotRole.PREVIEW)

    @property
    def share(self) -> Slot | None:
        return next((s for s in self.slots if s.role is SlotRole.SHARE), None)

    def main(self, kind: str) -> Slot:
        return self.slots[0 if kind == "audio" else 1]


SHARE_MARK = "a=content:slides"


def offer_directions(speaker_slots: int, preview_slots: int, publish: bool = True,
                     share: str | None = None) -> list[tuple[str, str]]:
    """(kind, direction) of each transceiver a Python peer adds, in order; ``share``:
    ``"sendrecv"`` (may present) or ``"recvonly"`` adds the share slot (m2)."""
    own = "sendrecv" if publish else "recvonly"
    out = [("audio", own), ("video", own)]
    if share is not None:
        out.append(("video", share))
    for _ in range(speaker_slots):
        out += [("audio", "recvonly"), ("video", "recvonly")]
    out += [("video", "recvonly")] * preview_slots
    return out


def _marked_slides(text: str) -> set[int]:
    """Indexes of the m-sections that carry ``a=content:slides`` (aiortc's parser drops it)."""
    sections = text.replace("\r\n", "\n").split("\nm=")[1:]
    return {i for i, section in enumerate(sections) if SHARE_MARK in section.split("\n")}


def mark_share(offer: str, index: int = 2) -> str:
    """Put ``a=content:slides`` in m-section ``index`` of an SDP text (what a page does to its
    offer before sending it: browsers and aiortc do not write it themselves)."""
    eol = "\r\n" if "\r\n" in offer else "\n"
    head, *sections = offer.split(eol + "m=")
    sections[index] = sections[index].rstrip(eol) + eol + SHARE_MARK + (eol if sections[index].endswith(eol) else "")
    return (eol + "m=").join([head, *sections])


def _has_codec(media: sdp.MediaDescription, name: str) -> bool:
    return any(c.name.lower() == name.lower() for c in media.rtp.codecs)


def parse_offer(text: object, config: MediaConfig) -> tuple[sdp.SessionDescription, Layout]:
    """Parse and check an offer; raise :class:`MediaError` with a precise code."""
    if not isinstance(text, str) or not text.strip():
        raise MediaError(ErrorCode.BAD_SDP, "the offer is empty or not text")
    if len(text.encode("utf-8", "replace")) > config.max_sdp_bytes:
        raise MediaError(ErrorCode.BAD_SDP, f"the offer is larger than {config.max_sdp_bytes} bytes")
    if not text.lstrip().startswith("v=0"):
        raise MediaError(ErrorCode.BAD_SDP, "the offer does not start with v=0")
    try:
        desc = sdp.SessionDescription.parse(text)
    except Exception as exc:  # aiortc's parser raises anything from ValueError to IndexError
        raise MediaError(ErrorCode.BAD_SDP, f"the offer is not valid SDP ({type(exc).__name__})") from None

    media = desc.media
    if len(media) < 2:
        raise MediaError(ErrorCode.BAD_LAYOUT, "an offer needs at least an audio and a video m-line")
    mids: list[str] = []
    for i, m in enumerate(media):
        if m.kind not in ("audio", "video"):
            raise MediaError(ErrorCode.BAD_LAYOUT, f"m-line {i} is {m.kind!r}; only audio and video are used")
        if m.port == 0:
            raise MediaError(ErrorCode.BAD_LAYOUT, f"m-line {i} is rejected (port 0)")
        if not m.rtp.muxId:
            raise MediaError(ErrorCode.BAD_SDP, f"m-line {i} has no a=mid")
        if m.ice is None or not m.ice.usernameFragment or not m.ice.password:
            raise MediaError(ErrorCode.BAD_SDP, f"m-line {i} has no ICE credentials")
        if m.dtls is None or not m.dtls.fingerprints:
            raise MediaError(ErrorCode.BAD_SDP, f"m-line {i} has no DTLS fingerprint")
        if not m.rtcp_mux:
            raise MediaError(ErrorCode.BAD_SDP, f"m-line {i} does not use rtcp-mux")
        if m.direction not in sdp.DIRECTIONS:
            raise MediaError(ErrorCode.BAD_SDP, f"m-line {i} has no valid direction")
        mids.append(m.rtp.muxId)
    directions = [str(m.direction) for m in media]
    if len(set(mids)) != len(mids):
        raise MediaError(ErrorCode.BAD_SDP, "the offer repeats a mid")
    bundles = [g for g in desc.group if g.semantic == "BUNDLE"]
    if not bundles or set(map(str, bundles[0].items)) != set(mids):
        raise MediaError(ErrorCode.BAD_LAYOUT, "all m-lines must be in one BUNDLE group (use bundlePolicy max-bundle)")

    if media[0].kind != "audio" or media[1].kind != "video":
        raise MediaError(ErrorCode.BAD_LAYOUT, "m-line 0 must be audio and m-line 1 video")
    slots = [
        Slot(0, mids[0], "audio", SlotRole.MAIN, 0, directions[0]),
        Slot(1, mids[1], "video", SlotRole.MAIN, 0, directions[1]),
    ]
    i = 2
    if len(media) > 2 and media[2].kind == "video" and 2 in _marked_slides(text):
        if directions[2] not in ("sendrecv", "sendonly", "recvonly", "inactive"):
            raise MediaError(ErrorCode.BAD_LAYOUT, "the share slot m-line 2 has no valid direction")
        slots.append(Slot(2, mids[2], "video", SlotRole.SHARE, 0, directions[2]))
        i = 3
    elif any(n != 2 for n in _marked_slides(text)):
        raise MediaError(ErrorCode.BAD_LAYOUT, "only m-line 2, a video m-line, may be the share slot (a=content:slides)")
    speaker = 0
    while i < len(media) and media[i].kind == "audio":
        if i + 1 >= len(media) or media[i + 1].kind != "video":
            raise MediaError(ErrorCode.BAD_LAYOUT, f"speaker slot audio m-line {i} must be followed by its video")
        for j in (i, i + 1):
            if media[j].direction not in ("recvonly", "inactive"):
                raise MediaError(ErrorCode.BAD_LAYOUT, f"speaker slot m-line {j} must be recvonly")
        slots.append(Slot(i, mids[i], "audio", SlotRole.SPEAKER, speaker, directions[i]))
        slots.append(Slot(i + 1, mids[i + 1], "video", SlotRole.SPEAKER, speaker, directions[i + 1]))
        speaker += 1
        i += 2
    preview = 0
    while i < len(media):
        if media[i].kind != "video":
            raise MediaError(ErrorCode.BAD_LAYOUT, f"m-line {i}: preview slots are video only and come last")
        if media[i].direction not in ("recvonly", "inactive"):
            raise MediaError(ErrorCode.BAD_LAYOUT, f"preview slot m-line {i} must be recvonly")
        slots.append(Slot(i, mids[i], "video", SlotRole.PREVIEW, preview, directions[i]))
        preview += 1
        i += 1
    if speaker > config.max_speaker_slots:
        raise MediaError(ErrorCode.BAD_LAYOUT, f"at most {config.max_speaker_slots} speaker slots")
    if preview > config.max_preview_slots:
        raise MediaError(ErrorCode.BAD_LAYOUT, f"at most {config.max_preview_slots} preview slots")

    for slot in slots:
        m = media[slot.index]
        wanted = AUDIO_CODEC if slot.kind == "audio" else config.video_codec
        if not _has_codec(m, wanted):
            raise MediaError(ErrorCode.NO_CODEC, f"m-line {slot.index} ({slot.kind}) does not offer {wanted}")
    return desc, Layout(tuple(slots))
