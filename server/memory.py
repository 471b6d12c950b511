"""Python's cyclic garbage collector, tended for a server holding thousands of pages.

Each connected page keeps a few hundred long-lived objects (its request, WebSocket, reader
task, transport, buffers). The collector's generations are counted in allocations, so with
10,000 pages a collection every few thousand allocations — a ping's pong is enough to trigger
one — walks millions of objects that will live for hours: measured at 10,000 pages it was
28 % of the server's CPU and the cause of 1.5 s stalls in the fan-out (docs/performance.md).

So generations are kept by wall-clock instead: every ``freeze_every_s`` the objects alive
then are frozen (``gc.freeze``: later collections do not walk them), and every
``full_every_s`` they are unfrozen and one full collection frees whatever cycles died among
them — a single pause of a few hundred ms at 10,000 pages every few minutes, instead of
many. Objects that die are still freed at once by reference counting, frozen or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time

log = logging.getLogger(__name__)


class GcTender:
    def __init__(self, freeze_every_s: float = 2.0, full_every_s: float = 300.0) -> None:
        self.freeze_every_s = freeze_every_s
        self.full_every_s = full_every_s
        self.full_collections = 0
        self.last_full_s = 0.0          # how long the last full collection took
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        gc.freeze()                     # what start-up made lives as long as the process
        self._task = asyncio.create_task(self._run(), name="gc-tender")

    async def _run(self) -> None:
        next_full = time.monotonic() + self.full_every_s
        while True:
            await asyncio.sleep(self.freeze_every_s)
            if time.monotonic() >= next_full:
                next_full = time.monotonic() + self.full_every_s
                self.full()
            gc.freeze()

    def full(self) -> int:
        """Unfreeze, collect everything, freeze again; return the objects found unreachable."""
        started = time.perf_counter()
        gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        self.last_full_s = time.perf_counter() - started
        self.full_collections += 1
        log.debug("full collection: %d unreachable, %.3f s", found, self.last_full_s)
        return found

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        gc.unfreeze()
