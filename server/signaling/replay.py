"""The events a reconnecting page missed, framed once per conference.

After a restart every page of a conference comes back within a few seconds with nearly the
same ``last_seq``: reading the store and encoding the same events again for each of them
(10,000 reads and 100,000 frames) is what a storm costs. A :class:`Replay` keeps the frames of
the conference's latest events (a contiguous range, at most ``MAX_FRAMES``), reads the store
only for what it does not hold, and hands each page the same bytes — in one write, in the same
step as its welcome and its joining the fan-out (nothing awaited in between, so no event can
fall between them and no lock is needed: 10,000 welcomes queued on the hub's lock took one
turn of the event loop each).
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

    def held(self, last: int, seq: int) -> list[EventFrames] | None:
        """The frames of the events ``last``+1 .. ``seq`` if all are held, else None."""
        if last >= seq:
            return []
        if self.lo <= last + 1 and seq <= self.hi:
            return [self.frames[s] for s in range(last + 1, seq + 1)]
        return None

    async def fill(self, hub: StreamHub[Any], last: int) -> bool:
        """Read from the store what a page at ``last`` needs and is not held (False: it is
        too far behind to be worth holding). Events may be applied meanwhile: look again."""
        seq = hub.seq
        if seq - last > MAX_FRAMES:
            return False
        if not self.frames or not self.lo <= last + 1 <= self.hi + 1:
            records = await hub.store.read(hub.name, last, limit=seq - last)
            self.frames = {r.seq: EventFrames.of_record(r.seq, r.data) for r in records}
            self.lo, self.hi = last + 1, last + len(records)
        else:
            for rec in await hub.store.read(hub.name, self.hi, limit=seq - self.hi):
                if rec.seq == self.hi + 1:      # another page's read may have gone further meanwhile
                    self.frames[rec.seq] = EventFrames.of_record(rec.seq, rec.data)
                    self.hi = rec.seq
        while len(self.frames) > MAX_FRAMES:
            del self.frames[self.lo]
            self.lo += 1
        return True
