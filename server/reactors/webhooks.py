"""The webhooks reactor: keeps the ``webhooks`` (configuration) and ``webhook-outbox``
(deliveries) streams, queues what each hook is owed, and delivers it.

After every change to a conference (``StreamHub.on_events``), after a hook is configured,
every ``tick_s`` (an action item becomes overdue at midnight with no event) and at start, the
facts of the conferences (``scheduling.webhooks.facts``) are compared with the outbox and what
is owed is queued there (``queue_delivery``, one event each). A kill -9 at any point loses
nothing: what was queued is in the outbox stream, and what was not is still a fact.

Due deliveries are POSTed (at most ``PARALLEL`` at once), signed (``Bridgeconf-Signature``),
with ``Bridgeconf-Delivery`` (the delivery id, the same on every attempt: receivers dedupe by
it) and ``Bridgeconf-Event``. Each attempt is recorded (``record_attempt``); a failure (no
answer within ``HTTP_TIMEOUT_S``, or any status but 2xx) is retried after a doubling wait
from ``retry_s`` (at most an hour), and given up after ``MAX_ATTEMPTS``. Delivery is at least
once: an attempt whose record was lost to a kill -9 is sent again.

In a Redis scale-out every process runs this reactor; the outbox keeps one record per attempt
(a second process's record of the same attempt is a no-op), but two processes may both send a
due delivery: receivers dedupe by ``Bridgeconf-Delivery`` as at-least-once delivery asks anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp

from scheduling import SYSTEM, Actor, Command, ConferenceState, Decision, DomainError, Event, Phase
from scheduling.base import command_fingerprint, replay_of
from scheduling.outbox import (
    Delivery,
    DeliveryStatus,
    Outbox,
    QueueDelivery,
    RecordAttempt,
    backoff,
    decide_outbox,
    evolve_outbox,
    owed,
    payload,
    signature_header,
)
from scheduling.webhooks import Webhooks, decide_webhooks, evolve_webhooks, facts

from ..service.hub import Idempotency, Outcome, StreamHub
from ..service.service import Service
from ..store import StoreError

log = logging.getLogger(__name__)
CONFIG_STREAM, OUTBOX_STREAM = "webhooks", "webhook-outbox"
PARALLEL = 8
HTTP_TIMEOUT_S = 10.0
USER_AGENT = "bridgeconf-webhooks/1"


class WebhookReactor:
    def __init__(self, service: Service, *, retry_s: float = 30.0, tick_s: float = 60.0,
                 report: Callable[[str], None] | None = None) -> None:
        self.service = service
        self.retry_s = retry_s
        self.tick_s = tick_s
        self.report = report or (lambda result: None)
        store = service.store
        self.config: StreamHub[Webhooks] = StreamHub(CONFIG_STREAM, store, Webhooks(), evolve_webhooks, _v)
        self.outbox: StreamHub[Outbox] = StreamHub(OUTBOX_STREAM, store, Outbox(), evolve_outbox, _v)
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._sending: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_full = 0.0

    # -- life ----------------------------------------------------------------------------------
    async def start(self) -> None:
        for hub in (self.config, self.outbox):
            await hub.load()
            hub.follow()
        self.config.on_events.append(lambda _: self._touch_all())
        self.outbox.on_events.append(lambda _: self._wake.set())
        for hub in self.service.conferences.values():
            self.watch(hub)
        self.service.on_new_conference.append(self.watch)
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S),
                                           headers={"User-Agent": USER_AGENT})
        self._task = asyncio.create_task(self._work(), name="webhooks")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        await self.config.close()
        await self.outbox.close()

    def watch(self, hub: StreamHub[ConferenceState | None]) -> None:
        def on_events(events: tuple[Event, ...]) -> None:
            if hub.state is not None:
                self._dirty.add(hub.state.conference_id)
                self._wake.set()
        hub.on_events.append(on_events)

    def _touch_all(self) -> None:
        self._last_full = 0.0
        self._wake.set()

    # -- what the REST edge asks (ports.WebhookAdmin) --------------------------------------------
    @property
    def hooks(self) -> Webhooks:
        return self.config.state

    @property
    def deliveries(self) -> Outbox:
        return self.outbox.state

    async def configure(self, cmd: Command, actor: Actor) -> Outcome:
        def decide(state: Webhooks) -> Decision:
            return replay_of(state.results, actor.ref, cmd.key) or Decision(tuple(
                decide_webhooks(state, cmd, actor, now=self.service.clock())))
        return await self.config.execute(decide, Idempotency(actor.ref, cmd.key, command_fingerprint(cmd)))

    def pending(self) -> int:
        return sum(1 for d in self.outbox.state.deliveries.values() if d.status is DeliveryStatus.PENDING)

    # -- the loop ----------------------------------------------------------------------------------
    async def _work(self) -> None:
        while True:
            try:
                await self._queue_owed()
                self._send_due()
            except StoreError as exc:    # the store is down: nothing lost, try again shortly
                log.warning("webhooks: %s", exc)
            except Exception:
                log.exception("webhooks: a round failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.next_wake_s())

    def next_wake_s(self) -> float:
        now = self.service.clock()
        waits = [self.tick_s - (time.monotonic() - self._last_full)]
        waits += [(d.next_at - now).total_seconds() for d in self.outbox.state.deliveries.values()
                  if d.status is DeliveryStatus.PENDING and d.delivery_id not in self._sending and self._may_send(d)]
        return max(0.01, min(waits))

    async def _queue_owed(self) -> None:
        if time.monotonic() - self._last_full >= self.tick_s:
            self._last_full = time.monotonic()
            names = set(self.service.conferences)
        else:
            names = set(self._dirty)
        self._dirty.clear()
        if not self.config.state.hooks:
            return
        now = self.service.clock()
        for conf_id in sorted(names):
            hub = self.service.conferences.get(conf_id)
            state = hub.state if hub is not None else None
            if state is None or state.phase is Phase.DRAFT:
                continue
            found = facts(state, now.astimezone(state.tz).date())
            for hook, fact, did in owed(self.config.state, self.outbox.state, found):
                await self._record(QueueDelivery(key=f"q-{did}", delivery_id=did, hook_id=hook.hook_id,
                                                 kind=fact.kind, ref=fact.ref, body=payload(did, fact)))

    def _send_due(self) -> None:
        now = self.service.clock()
        for d in list(self.outbox.state.deliveries.values()):
            if len(self._sending) >= PARALLEL:
                return
            if d.status is DeliveryStatus.PENDING and d.next_at <= now and d.delivery_id not in self._sending:
                if not self._may_send(d):
                    continue
                self._sending.add(d.delivery_id)
                task = asyncio.create_task(self._deliver(d), name=f"webhook:{d.delivery_id}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    def _may_send(self, d: Delivery) -> bool:
        """A paused hook's deliveries wait until it is active again (a deleted hook's are given up)."""
        hook = self.config.state.hooks.get(d.hook_id)
        return hook is None or hook.active

    async def _deliver(self, d: Delivery) -> None:
        try:
            n = len(d.attempts) + 1
            hook = self.config.state.hooks.get(d.hook_id)
            if hook is None:
                status, error = None, "the webhook was deleted"
                retry_at = None
            else:
                status, error = await self._post(hook.url, hook.secret, d)
                wait = backoff(n, self.retry_s)
                retry_at = self.service.clock() + wait if wait is not None else None
            ok = status is not None and 200 <= status < 300
            self.report("delivered" if ok else "gave_up" if retry_at is None else "failed")
            await self._record(RecordAttempt(key=f"a-{d.delivery_id}-{n}", delivery_id=d.delivery_id, n=n,
                                             status_code=status, error=error, retry_at=retry_at))
        except StoreError as exc:
            log.warning("webhooks: the attempt of %s was not recorded (it will be sent again): %s", d.delivery_id, exc)
        except Exception:
            log.exception("webhooks: delivering %s failed", d.delivery_id)
        finally:
            self._sending.discard(d.delivery_id)
            self._wake.set()

    async def _post(self, url: str, secret: str, d: Delivery) -> tuple[int | None, str]:
        assert self._http is not None
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Bridgeconf-Signature": signature_header(secret, int(time.time()), d.body),
                   "Bridgeconf-Delivery": d.delivery_id, "Bridgeconf-Event": d.kind}
        try:
            async with self._http.post(url, data=d.body.encode(), headers=headers, allow_redirects=False) as resp:
                await resp.content.read(4096)
                return resp.status, "" if 200 <= resp.status < 300 else f"HTTP {resp.status} {resp.reason or ''}".strip()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return None, f"{type(exc).__name__}: {exc}"[:300]

    async def _record(self, cmd: Command) -> None:
        now: datetime = self.service.clock()

        def decide(state: Outbox) -> Decision:
            return replay_of(state.results, SYSTEM.ref, cmd.key) or Decision(tuple(
                decide_outbox(state, cmd, SYSTEM, now=now)))
        try:
            await self.outbox.execute(decide)
        except DomainError:
            log.exception("webhooks: the outbox refused %s", cmd.TYPE)


def _v(state: Any) -> int:
    return int(state.version)
