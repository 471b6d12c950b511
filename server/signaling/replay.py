"""The events a reconnecting page missed, framed once per conference.

After a restart every page of a conference comes back within a few seconds with nearly the
same ``last_seq``: reading the store and encoding the same events again for each of them
(10,000 reads and 100,000 frames) is what a storm costs. A :class:`Replay` keeps the frames of
the conference's latest events (a contiguous range, at most ``MAX_FRAMES``), reads the store
only for what it does not hold, and hands each page the same bytes — in one write.
"""

from __future__ import annotations

import weakref
from typing import Any

from ..service.hub import StreamHub
from .fanout import EventFrames

MAX_FRAMES = 1024


class Replay:
    def __init__(self) -> None:
        self.frames: dict[int, EventFrames] = {}
        self.lo = 1          # the frames held are lo..hi
        self.hi = 0

    _of: weakref.WeakKeyDictionary[StreamHub[Any], Replay] = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, hub: StreamHub[Any]) -> Replay:
        replay = cls._of.get(hub)
        if replay is None:
            replay = cls._of[hub] = cls()
        return replay

    async def since(self, hub: StreamHub[Any], last: int) -> list[EventFrames]:
        """The frames of the events after ``last`` up to the hub's seq (call it under the
        hub's lock, so that no event is applied meanwhile)."""
        seq = hub.seq
        if last >= seq:
            return []
        if seq - last > MAX_FRAMES:     # far behind (no snapshot asked): not worth holding
            return [EventFrames.of_record(r.seq, r.data) for r in await hub.store.read(hub.name, last)]
        if not self.frames or not self.lo <= last + 1 <= self.hi + 1:
            self.frames, self.lo, self.hi = {}, last + 1, last
        for rec in await hub.store.read(hub.name, self.hi, limit=seq - self.hi) if self.hi < seq else ():
            self.frames[rec.seq] = EventFrames.of_record(rec.seq, rec.data)
            self.hi = rec.seq
        while len(self.frames) > MAX_FRAMES:
            del self.frames[self.lo]
            self.lo += 1
        return [self.frames[s] for s in range(last + 1, self.hi + 1)]
