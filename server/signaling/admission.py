"""How often a page may connect: per client address (before its token is even read) and per
join link or account and conference (after). A burst is allowed — a hall reloading its
screens, a server restart that reconnects everyone — then one more per ``refill_s``; over
the limit a ``hello`` is refused (``too_many_reconnects``, close 4429) and the page retries
later, with its own backoff. The tables are bounded (least recently used keys go first)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from aiohttp import web

MAX_KEYS = 50_000


class Buckets:
    """A token bucket per key: ``burst`` tokens, one more every ``refill_s``."""

    def __init__(self, burst: int, refill_s: float, *, max_keys: int = MAX_KEYS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst, self.refill_s, self.max_keys, self.clock = burst, refill_s, max_keys, clock
        self._table: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()   # key -> (tokens, at)

    def take(self, key: Hashable) -> bool:
        now = self.clock()
        tokens, at = self._table.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) / self.refill_s)
        allowed = tokens >= 1.0
        self._table[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._table) > self.max_keys:
            self._table.popitem(last=False)
        return allowed


class Admission:
    def __init__(self, per_link: int, per_address: int) -> None:
        self.links = Buckets(per_link, 1.0)                              # a burst, then 1 a second
        self.addresses = Buckets(per_address, 60.0 / max(per_address, 1))   # the burst again per minute

    def address(self, address: str) -> bool:
        return self.addresses.take(address)

    def link(self, conf_id: str, actor_ref: str) -> bool:
        return self.links.take((conf_id, actor_ref))


ADMISSION: web.AppKey[Admission] = web.AppKey("admission", Admission)
