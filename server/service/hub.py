"""A stream hub: the live state of one event stream in this process, the lock that
serializes its commands, and the hand-over of its events to those that follow them (the
signaling edge's page fan-out, the reactors).

Commands decided here are appended with optimistic concurrency; when another server
process appended first (Redis scale-out), the hub catches up and decides again. Events
appended elsewhere reach the hub through the store's subscription, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from scheduling import Decision, Event, event_from_dict, event_to_dict
from scheduling.base import key_reused, result_key

from ..store import ConcurrencyError, EventStore, Recorded, StoreError

log = logging.getLogger(__name__)
S = TypeVar("S")
L = TypeVar("L", bound="Listener")
MAX_ATTEMPTS = 8
MAX_REMEMBERED = 10_000  # commands a hub remembers (their keys and fingerprints), per stream
RETRY_JITTER_S = 0.005    # after losing a race to another process, wait up to this x attempt


class Listener(Protocol):
    """Who follows a stream's events in this process (the signaling edge's page fan-out, one
    per conference). ``deliver`` must not block: it queues or writes at once. ``data`` is the
    event as recorded (its JSON text), so that a listener encodes it once for all its pages;
    ``more``: the next event belongs to the same command (pages apply them together)."""

    def deliver(self, seq: int, event: Event, data: str, more: bool) -> None: ...


@dataclass(frozen=True)
class CachedView:
    """A read model of the hub's state at ``seq``, built at ``built_at`` (monotonic)."""

    seq: int
    built_at: float
    view: dict[str, Any]


@dataclass(frozen=True)
class Idempotency:
    """Who sent a command, with which idempotency key, asking for what (its fingerprint,
    ``scheduling.base.command_fingerprint``)."""

    actor: str
    key: str
    fingerprint: str

    @property
    def memo(self) -> str:
        return result_key(self.actor, self.key)


@dataclass(frozen=True)
class Remembered:
    """A command this process accepted: what it asked for, and when it recorded nothing,
    the seq its ack named."""

    fingerprint: str
    noop_seq: int | None


@dataclass(frozen=True)
class Outcome:
    events: tuple[Event, ...]
    seq: int           # the stream's seq after the command (the last event's seq)
    replayed: bool


class StreamHub(Generic[S]):
    def __init__(self, name: str, store: EventStore, state: S,
                 evolve: Callable[[S, Event], S], version: Callable[[S], int]) -> None:
        self.name = name
        self.store = store
        self.state = state
        self._evolve = evolve
        self._version = version
        self.lock = asyncio.Lock()
        self._remembered: OrderedDict[str, Remembered] = OrderedDict()
        self.listeners: set[Listener] = set()
        self.on_events: list[Callable[[tuple[Event, ...]], None]] = []
        self._follow: asyncio.Task[None] | None = None
        self.timing: Callable[[str, float], None] | None = None   # ("append" | "fanout", seconds)
        self.snapshots: dict[str, CachedView] = {}
        """``read_models.snapshot``'s welcome snapshots, by view ("staff" or "site")."""

    def listener(self, kind: type[L]) -> L:
        """This hub's listener of ``kind`` (the pages' fan-out, the replay of missed events),
        made and added on first use: one of each per conference."""
        for listener in self.listeners:
            if isinstance(listener, kind):
                return listener
        made = kind()
        self.listeners.add(made)
        return made

    @property
    def seq(self) -> int:
        return self._version(self.state)

    async def load(self) -> None:
        while True:
            batch = await self.store.read(self.name, self.seq, limit=5000)
            if not batch:
                return
            for rec in batch:
                self.state = self._evolve(self.state, event_from_dict(json.loads(rec.data)))

    def follow(self) -> None:
        """Start applying events that other processes append."""
        if self._follow is None:
            self._follow = asyncio.create_task(self._follow_loop(), name=f"follow:{self.name}")

    async def _follow_loop(self) -> None:
        async for rec in self.store.subscribe(self.name, self.seq):
            if rec.seq <= self.seq:
                continue
            async with self.lock:
                await self._catch_up_to(rec)

    async def _catch_up_to(self, rec: Recorded) -> None:
        if rec.seq <= self.seq:
            return
        if rec.seq > self.seq + 1:   # a gap: read what lies between
            for missing in await self.store.read(self.name, self.seq, limit=rec.seq - self.seq - 1):
                self._apply([(missing.seq, event_from_dict(json.loads(missing.data)), missing.data)])
        self._apply([(rec.seq, event_from_dict(json.loads(rec.data)), rec.data)])

    async def catch_up(self) -> None:
        for rec in await self.store.read(self.name, self.seq):
            self._apply([(rec.seq, event_from_dict(json.loads(rec.data)), rec.data)])

    async def execute(self, decide: Callable[[S], Decision], idem: Idempotency | None = None) -> Outcome:
        """Decide against the current state and record the events; retry after a concurrent
        append by another process. Raises DomainError (nothing recorded).

        ``idem``: the commands accepted here are remembered in this process (the last
        MAX_REMEMBERED), so that a retry of one that recorded nothing (after a lost ack) also
        records nothing — the log keeps the keys of the commands that recorded events — and a
        key sent again with another command is refused with ``key_reused``. A key this process
        does not remember (after a restart, or used through another process) is known only
        by its events: the command is answered as a retry."""
        async with self.lock:
            if idem is not None and idem.memo in self._remembered:
                earlier = self._remembered[idem.memo]
                if earlier.fingerprint != idem.fingerprint:
                    raise key_reused(idem.key)
                if earlier.noop_seq is not None:
                    return Outcome((), earlier.noop_seq, True)
            for attempt in range(MAX_ATTEMPTS):
                decision = decide(self.state)
                if decision.replayed:
                    return Outcome(decision.events, decision.seq, True)
                if not decision.events:
                    self._remember(idem, noop_seq=self.seq)
                    return Outcome((), self.seq, False)
                texts = [json.dumps(event_to_dict(ev), ensure_ascii=False, separators=(",", ":"))
                         for ev in decision.events]
                expected = self.seq
                started = time.perf_counter()
                try:
                    last = await self.store.append(self.name, expected, texts)
                except ConcurrencyError:
                    # another process appended first: catch up, and let its burst pass (two
                    # processes retrying in lockstep can otherwise lose to each other 8 times)
                    await asyncio.sleep(random.uniform(0, RETRY_JITTER_S * (attempt + 1)))
                    await self.catch_up()
                    continue
                if self.timing is not None:
                    self.timing("append", time.perf_counter() - started)
                self._apply([(expected + i + 1, ev, text) for i, (ev, text) in enumerate(zip(decision.events, texts, strict=True))])
                self._remember(idem, noop_seq=None)
                return Outcome(decision.events, last, False)
        raise StoreError(f"stream {self.name} is too busy: try again")

    def _remember(self, idem: Idempotency | None, *, noop_seq: int | None) -> None:
        if idem is None:
            return
        self._remembered[idem.memo] = Remembered(idem.fingerprint, noop_seq)
        while len(self._remembered) > MAX_REMEMBERED:
            self._remembered.popitem(last=False)

    def _apply(self, batch: list[tuple[int, Event, str]]) -> None:
        started = time.perf_counter()
        events = []
        last = len(batch) - 1
        for i, (seq, ev, text) in enumerate(batch):
            self.state = self._evolve(self.state, ev)
            assert self.seq == seq, (self.name, self.seq, seq)
            for listener in tuple(self.listeners):
                try:
                    listener.deliver(seq, ev, text, i < last)
                except Exception:  # a broken listener must not stop the others
                    log.exception("delivery failed")
                    self.listeners.discard(listener)
            events.append(ev)
        for callback in self.on_events:
            callback(tuple(events))
        if self.timing is not None:
            self.timing("fanout", time.perf_counter() - started)

    async def close(self) -> None:
        if self._follow is not None:
            self._follow.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._follow
