"""The events a reconnecting page missed, framed once per conference.

After a restart every page of a conference comes back within a few seconds with nearly the
same ``last_seq``: reading the store and encoding the same events again for each of them
(10,000 reads and 100,000 frames) is what a storm costs. A :class:`Replay` keeps the frames of
the conference's latest events (a contiguous range, at most ``MAX_FRAMES``): it follows the
hub (a listener, like the fan-out: each new event is framed once more, per conference, not per
page), reads the store only for what it does not hold — one read at a time, the pages that
need the same read waiting for it — and hands each page the same bytes, in one write, in the
same step as its welcome and its joining the fan-out (nothing awaited in between, so no event
can fall between them and no lock is needed: 10,000 welcomes queued on the hub's lock took
one turn of the event loop each).
"""

from __future__ import annotations

import asyncio
from typing import Any

from scheduling import Event

from ..service.hub import StreamHub
from .fanout import EventFrames

MAX_FRAMES = 1024


class Replay:
    def __init__(self) -> None:
        self.frames: dict[int, EventFrames] = {}
        self.lo = 1          # the frames held are lo..hi
        self.hi = 0
        self._reading: asyncio.Future[None] | None = None

    def deliver(self, seq: int, event: Event, data: str, more: bool) -> None:
        """A new event of the conference (the hub's listener): held from now on, if it follows."""
        if self.frames and seq == self.hi + 1:
            self.frames[seq] = EventFrames(seq, data, event.TYPE, more)
            self.hi = seq
            self._trim()

    def held(self, last: int, seq: int) -> list[EventFrames] | None:
        """The frames of the events ``last``+1 .. ``seq`` if all are held, else None."""
        if last >= seq:
            return []
        if self.lo <= last + 1 and seq <= self.hi:
            return [self.frames[s] for s in range(last + 1, seq + 1)]
        return None

    async def fill(self, hub: StreamHub[Any], last: int) -> bool:
        """Read from the store what a page at ``last`` needs and is not held (False: it is
        too far behind to be worth holding). One read at a time: a page that comes while
        another's read is under way waits for it, then looks again."""
        if hub.seq - last > MAX_FRAMES:
            return False
        if self._reading is not None:
            await asyncio.shield(self._reading)
            return True
        self._reading = asyncio.get_running_loop().create_future()
        try:
            seq = hub.seq
            if not self.frames or not self.lo <= last + 1 <= self.hi + 1:
                records = await hub.store.read(hub.name, last, limit=seq - last)
                if self.frames and self.lo <= last + 1 <= self.hi + 1:
                    pass                         # held meanwhile (events that followed)
                else:
                    frames = {r.seq: EventFrames.of_record(r.seq, r.data) for r in records}
                    lo, hi = last + 1, last + len(records)
                    for s in range(hi + 1, self.hi + 1):   # what came in meanwhile, if it follows
                        if s in self.frames:
                            frames[s] = self.frames[s]
                            hi = s
                    self.frames, self.lo, self.hi = frames, lo, hi
            elif self.hi < seq:
                for rec in await hub.store.read(hub.name, self.hi, limit=seq - self.hi):
                    if rec.seq == self.hi + 1:
                        self.frames[rec.seq] = EventFrames.of_record(rec.seq, rec.data)
                        self.hi = rec.seq
            self._trim()
            return True
        finally:
            self._reading.set_result(None)
            self._reading = None

    def _trim(self) -> None:
        while len(self.frames) > MAX_FRAMES:
            del self.frames[self.lo]
            self.lo += 1
