"""When a site's link is too poor for video: the automatic audio-only fallback.

The forwarder learns how its packets fare on the way to each site from the site's
RTCP feedback: the fraction lost in its receiver reports (minus what was already
lost on the way in from the publisher, which is not this site's link's fault) and
its REMB estimate when it sends one. :class:`LinkGuard` turns those readings into
a decision, with hysteresis so a link near the edge does not flap:

- **fall back** to audio only after ``poor_reports`` poor readings in a row (loss
  at or above ``poor_loss``, or a REMB estimate under ``min_video_bitrate``);
- **come back** to video once no poor reading came for ``recover_after`` seconds;
- a link that falls back again soon after coming back (within twice the wait)
  waits twice as long the next time, up to ``max_recover_after``.

Pure: no I/O, the clock is passed in; the forwarder calls :meth:`LinkGuard.observe`
once per RTCP interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class QualityPolicy:
    poor_loss: float = 0.10
    poor_reports: int = 2
    min_video_bitrate: int = 150_000
    recover_after: float = 10.0
    max_recover_after: float = 120.0

    def __post_init__(self) -> None:
        if not 0 < self.poor_loss <= 1:
            raise ValueError("poor_loss must be in (0, 1]")
        if self.poor_reports < 1:
            raise ValueError("poor_reports must be at least 1")
        if not 0 < self.recover_after <= self.max_recover_after:
            raise ValueError("recover_after must be positive and at most max_recover_after")


@dataclass(frozen=True)
class Reading:
    """What one site reported since the last look: the worst fraction lost on its
    downlink (0..1) and its lowest REMB estimate (bits/s), each None if not reported."""

    loss: float | None = None
    remb: int | None = None

    @property
    def empty(self) -> bool:
        return self.loss is None and self.remb is None


@dataclass
class LinkGuard:
    policy: QualityPolicy = field(default_factory=QualityPolicy)
    audio_only: bool = False
    reason: str = ""
    """Why the link is on audio only: ``"loss"`` or ``"bandwidth"``."""
    loss: float = 0.0
    """The last loss reading (0..1)."""
    fallbacks: int = 0
    _poor_in_row: int = 0
    _last_poor: float = 0.0
    _recovered_at: float | None = None
    _wait: float = 0.0

    def poor(self, reading: Reading) -> str:
        """Why this reading is poor ("" when it is not)."""
        if reading.loss is not None and reading.loss >= self.policy.poor_loss:
            return "loss"
        if reading.remb is not None and reading.remb < self.policy.min_video_bitrate:
            return "bandwidth"
        return ""

    def observe(self, now: float, reading: Reading) -> bool | None:
        """Take one reading; return the new audio-only state when it changes, else None."""
        if reading.loss is not None:
            self.loss = reading.loss
        why = self.poor(reading)
        if why:
            self._poor_in_row += 1
            self._last_poor = now
        elif not reading.empty:
            self._poor_in_row = 0
        if not self.audio_only:
            if self._poor_in_row < self.policy.poor_reports:
                return None
            soon = self._recovered_at is not None and now - self._recovered_at < 2 * self._wait
            base = self.policy.recover_after
            self._wait = min(self._wait * 2, self.policy.max_recover_after) if soon else base
            self.audio_only, self.reason = True, why
            self.fallbacks += 1
            self._poor_in_row = 0
            return True
        if now - self._last_poor < self._wait:
            return None
        self.audio_only, self.reason = False, ""
        self._recovered_at = now
        return False


__all__ = ["LinkGuard", "QualityPolicy", "Reading"]
