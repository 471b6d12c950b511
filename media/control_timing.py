"""How long the forwarder's control changes take: the benchmark's figure, kept in the stats."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass
class ControlTiming:
    """Time spent applying control changes (rerouting and hints), in seconds, and until
    the event loop had run everything that was ready when a change was made ("back to
    idle"); the last ``RECENT`` changes are kept with what made them (``steer``,
    ``previews``, ``links``, ...)."""

    RECENT: ClassVar[int] = 256
    calls: int = 0
    total: float = 0.0
    largest: float = 0.0
    recent: deque[tuple[str, float]] = field(default_factory=lambda: deque(maxlen=ControlTiming.RECENT))
    to_idle: deque[tuple[str, float]] = field(default_factory=lambda: deque(maxlen=ControlTiming.RECENT))

    def add(self, what: str, started: float, seconds: float) -> None:
        self.calls += 1
        self.total += seconds
        self.largest = max(self.largest, seconds)
        self.recent.append((what, seconds))
        with contextlib.suppress(RuntimeError):  # no running loop: nothing to wait for
            asyncio.get_running_loop().call_soon(self._idle, what, started)

    def _idle(self, what: str, started: float) -> None:
        self.to_idle.append((what, time.perf_counter() - started))

    def figures(self) -> dict[str, Any]:
        return {"calls": self.calls, "total_s": round(self.total, 6), "largest_s": round(self.largest, 6),
                "recent_s": [[w, round(x, 6)] for w, x in self.recent],
                "recent_to_idle_s": [[w, round(x, 6)] for w, x in self.to_idle]}
