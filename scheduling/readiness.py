"""Readiness: the connectivity check a site runs before the conference opens (kiểm tra kết
nối). Its page (or a headless bridge) measures its camera, its microphone and the link to the
media server, and reports the figures; the domain judges them (``assess``) and keeps the last
report of each site, so the chair's wall can show who is ready, who needs a look, and who has
not checked yet. A site may run it again as often as it likes; every run stays in the log.

Rules:
- a site reports only for itself, and only while it is invited;
- only before the conference opens: while it is scheduled or in rehearsal;
- the verdict is the domain's (the figures are the site's): ``ready`` when nothing is wrong,
  ``needs_check`` with the list of problems otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from .actors import require_self_or
from .base import Command, Event, check_code, check_range, check_text, command, event
from .errors import ValidationError
from .rules import Ctx, decides, evolves
from .state import ConferenceState, Phase, Readiness

CHECK_PHASES = (Phase.SCHEDULED, Phase.REHEARSAL)
RTT_WEAK_MS = 400          # a round trip above this: speech overlaps, the chair waits for answers
LOSS_WEAK_PCT = 5.0        # more lost than this: video breaks up (the forwarder falls back at 10 %)
BITRATE_WEAK_KBPS = 300    # less than this: no room for the camera, only sound
MIC_SILENT_LEVEL = 2       # a microphone peaking under 2 % of full scale heard nothing
Via = Literal["browser", "bridge"]


class ReadinessStatus(StrEnum):
    READY = "ready"
    NEEDS_CHECK = "needs_check"


class Problem(StrEnum):
    NO_CAMERA = "no_camera"
    NO_MICROPHONE = "no_microphone"
    SILENT_MICROPHONE = "silent_microphone"
    NO_MEDIA_PATH = "no_media_path"      # no connection to the media server at all
    HIGH_RTT = "high_rtt"
    HIGH_LOSS = "high_loss"
    LOW_BITRATE = "low_bitrate"


WEAK_LINK = frozenset({Problem.HIGH_RTT, Problem.HIGH_LOSS, Problem.LOW_BITRATE})
"""Problems of the link: the page advises the audio-only mode for them."""


@command
@dataclass(frozen=True, kw_only=True)
class ReportReadiness(Command):
    """The figures of one check. ``None``: not measured (no connection to measure it on)."""

    TYPE = "report_readiness"
    site: str
    camera: bool
    microphone: bool
    mic_level: int | None = None        # peak level heard, 0..100 % of full scale
    rtt_ms: int | None = None           # round trip to the media server
    loss_pct: float | None = None       # packets lost, the worse of the two directions
    bitrate_kbps: int | None = None     # achievable bitrate to the media server
    relay: bool = False                 # the connection went through a TURN relay
    via: Via = "browser"
    agent: str = ""                     # what ran it: the browser, or "bridgeconf bridge"

    def check(self) -> None:
        check_code("site", self.site)
        if self.mic_level is not None:
            check_range("mic_level", self.mic_level, 0, 100)
        if self.rtt_ms is not None:
            check_range("rtt_ms", self.rtt_ms, 0, 60_000)
        if self.loss_pct is not None and not (math.isfinite(self.loss_pct) and 0 <= self.loss_pct <= 100):
            raise ValidationError(f"loss_pct: must be between 0 and 100, got {self.loss_pct}")
        if self.bitrate_kbps is not None:
            check_range("bitrate_kbps", self.bitrate_kbps, 0, 1_000_000)
        check_text("agent", self.agent, max_len=200, required=False)


@event
@dataclass(frozen=True, kw_only=True)
class ReadinessReported(Event):
    TYPE = "readiness_reported"
    site: str
    camera: bool
    microphone: bool
    mic_level: int | None
    rtt_ms: int | None
    loss_pct: float | None
    bitrate_kbps: int | None
    relay: bool
    via: Via
    agent: str
    status: ReadinessStatus
    problems: tuple[Problem, ...]


def assess(cmd: ReportReadiness) -> tuple[ReadinessStatus, tuple[Problem, ...]]:
    """The verdict on one check's figures: what is wrong, in the order a site should fix it."""
    found: list[Problem] = []
    if not cmd.microphone:
        found.append(Problem.NO_MICROPHONE)
    elif cmd.mic_level is not None and cmd.mic_level < MIC_SILENT_LEVEL:
        found.append(Problem.SILENT_MICROPHONE)
    if not cmd.camera:
        found.append(Problem.NO_CAMERA)
    if cmd.rtt_ms is None and cmd.bitrate_kbps is None:
        found.append(Problem.NO_MEDIA_PATH)
    else:
        if cmd.rtt_ms is not None and cmd.rtt_ms > RTT_WEAK_MS:
            found.append(Problem.HIGH_RTT)
        if cmd.loss_pct is not None and cmd.loss_pct > LOSS_WEAK_PCT:
            found.append(Problem.HIGH_LOSS)
        if cmd.bitrate_kbps is not None and cmd.bitrate_kbps < BITRATE_WEAK_KBPS:
            found.append(Problem.LOW_BITRATE)
    return (ReadinessStatus.NEEDS_CHECK if found else ReadinessStatus.READY), tuple(found)


@decides(ReportReadiness)
def _report(ctx: Ctx, cmd: ReportReadiness) -> list[Event]:
    require_self_or(ctx.state, ctx.actor, cmd.site, what="report its connectivity check")
    ctx.require_phase(*CHECK_PHASES, what="run the connectivity check")
    status, problems = assess(cmd)
    return [ReadinessReported(
        site=cmd.site, camera=cmd.camera, microphone=cmd.microphone, mic_level=cmd.mic_level, rtt_ms=cmd.rtt_ms,
        loss_pct=cmd.loss_pct, bitrate_kbps=cmd.bitrate_kbps, relay=cmd.relay, via=cmd.via, agent=cmd.agent,
        status=status, problems=problems, **ctx.meta())]


@evolves(ReadinessReported)
def _reported(s: ConferenceState, ev: ReadinessReported) -> None:
    earlier = s.readiness.get(ev.site)
    s.readiness[ev.site] = Readiness(
        at=ev.at, status=ev.status.value, problems=tuple(p.value for p in ev.problems), camera=ev.camera,
        microphone=ev.microphone, mic_level=ev.mic_level, rtt_ms=ev.rtt_ms, loss_pct=ev.loss_pct,
        bitrate_kbps=ev.bitrate_kbps, relay=ev.relay, via=ev.via, runs=earlier.runs + 1 if earlier else 1)


def readiness_of(state: ConferenceState, site: str) -> str:
    """``ready`` | ``needs_check`` | ``unchecked`` (chưa kiểm tra) for one invited site."""
    report = state.readiness.get(site)
    return report.status if report is not None else "unchecked"
