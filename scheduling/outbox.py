"""The webhooks' outbox (the ``webhook-outbox`` stream): what each hook is owed, queued once
per (hook, fact), then one event per attempt until delivered or given up after MAX_ATTEMPTS
with a doubling wait (``backoff``); folded here into the delivery log the admin sees. And the
signature each delivery carries: ``Bridgeconf-Signature: t=<unix time>,v1=<hex>``, v1 being
HMAC-SHA256 with the hook's secret over ``"<t>." + body`` (as Stripe signs).

The commands are the server's own bookkeeping (system only); a command repeated (a retry, a
second process) is a no-op.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .actors import Actor, Role, require
from .base import Command, Event, Results, event, record_result
from .errors import DomainError, ErrorCode
from .webhooks import Fact, Webhook, Webhooks

__all__ = [
    "MAX_ATTEMPTS", "Attempt", "Delivery", "DeliveryAttempted", "DeliveryQueued", "DeliveryStatus", "Outbox",
    "QueueDelivery", "RecordAttempt", "backoff", "decide_outbox", "delivered", "delivery_id", "evolve_outbox",
    "owed", "payload", "sign", "signature_header", "verify_signature",
]

MAX_ATTEMPTS = 10           # then the delivery is given up (the log shows it)
MAX_BACKOFF_S = 3600.0


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    GAVE_UP = "gave_up"


@dataclass(frozen=True)
class Attempt:
    n: int
    at: datetime
    status_code: int | None      # the receiver's HTTP status; None when it could not be reached
    error: str


@dataclass
class Delivery:
    delivery_id: str
    hook_id: str
    kind: str
    ref: str
    body: str                    # the JSON sent, the same on every attempt
    queued_at: datetime
    next_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: list[Attempt] = field(default_factory=list)


@dataclass
class Outbox:
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    version: int = 0
    results: Results = field(default_factory=dict)

    def pending(self) -> list[Delivery]:
        return [d for d in self.deliveries.values() if d.status is DeliveryStatus.PENDING]


def delivery_id(hook_id: str, ref: str) -> str:
    return "d-" + hashlib.sha256(f"{hook_id}|{ref}".encode()).hexdigest()[:24]


def owed(hooks: Webhooks, outbox: Outbox, found: Iterable[Fact]) -> list[tuple[Webhook, Fact, str]]:
    """The (hook, fact, delivery id) not queued yet: active hooks of the fact's type,
    created before it happened."""
    out = []
    for fact in found:
        for hook in hooks.hooks.values():
            if hook.active and fact.kind in hook.events and fact.at >= hook.created_at:
                did = delivery_id(hook.hook_id, fact.ref)
                if did not in outbox.deliveries:
                    out.append((hook, fact, did))
    return out


def payload(did: str, fact: Fact) -> str:
    return json.dumps({"id": did, "type": fact.kind, "created_at": fact.at.isoformat(), "data": fact.data},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def backoff(attempts: int, base_s: float) -> timedelta | None:
    """The wait after the ``attempts``-th failed attempt (doubling from ``base_s``, at most an
    hour); None once MAX_ATTEMPTS have failed: give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return timedelta(seconds=min(base_s * 2 ** (attempts - 1), MAX_BACKOFF_S))


@dataclass(frozen=True, kw_only=True)
class QueueDelivery(Command):
    TYPE = "queue_delivery"
    delivery_id: str
    hook_id: str
    kind: str
    ref: str
    body: str


@dataclass(frozen=True, kw_only=True)
class RecordAttempt(Command):
    TYPE = "record_attempt"
    delivery_id: str
    n: int
    status_code: int | None
    error: str = ""
    retry_at: datetime | None = None     # None after a failure: give up


@event
@dataclass(frozen=True, kw_only=True)
class DeliveryQueued(Event):
    TYPE = "delivery_queued"
    delivery_id: str
    hook_id: str
    kind: str
    ref: str
    body: str


@event
@dataclass(frozen=True, kw_only=True)
class DeliveryAttempted(Event):
    TYPE = "delivery_attempted"
    delivery_id: str
    n: int
    status_code: int | None
    error: str
    status: DeliveryStatus
    next_at: datetime | None


def delivered(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300


def decide_outbox(state: Outbox, cmd: Command, actor: Actor, *, now: datetime) -> list[Event]:
    """The server's own bookkeeping (system only); a command repeated is a no-op."""
    require(None, actor, Role.SYSTEM, what="record webhook deliveries")
    meta: dict[str, Any] = {"at": now, "actor": actor.ref, "key": cmd.key}
    match cmd:
        case QueueDelivery():
            if cmd.delivery_id in state.deliveries:
                return []
            return [DeliveryQueued(delivery_id=cmd.delivery_id, hook_id=cmd.hook_id, kind=cmd.kind, ref=cmd.ref,
                                   body=cmd.body, **meta)]
        case RecordAttempt():
            d = state.deliveries.get(cmd.delivery_id)
            if d is None or d.status is not DeliveryStatus.PENDING or cmd.n != len(d.attempts) + 1:
                return []
            if delivered(cmd.status_code):
                status, next_at = DeliveryStatus.DELIVERED, None
            elif cmd.retry_at is None:
                status, next_at = DeliveryStatus.GAVE_UP, None
            else:
                status, next_at = DeliveryStatus.PENDING, cmd.retry_at
            return [DeliveryAttempted(delivery_id=cmd.delivery_id, n=cmd.n, status_code=cmd.status_code,
                                      error=cmd.error[:300], status=status, next_at=next_at, **meta)]
    raise DomainError(ErrorCode.UNKNOWN_COMMAND, f"{cmd.TYPE} is not an outbox command")


def evolve_outbox(state: Outbox, ev: Event) -> Outbox:
    match ev:
        case DeliveryQueued():
            state.deliveries[ev.delivery_id] = Delivery(ev.delivery_id, ev.hook_id, ev.kind, ev.ref, ev.body,
                                                        queued_at=ev.at, next_at=ev.at)
        case DeliveryAttempted():
            d = state.deliveries[ev.delivery_id]
            d.attempts.append(Attempt(ev.n, ev.at, ev.status_code, ev.error))
            d.status = ev.status
            if ev.next_at is not None:
                d.next_at = ev.next_at
    state.version += 1
    record_result(state.results, ev, state.version)
    return state


# -- signing -------------------------------------------------------------------------------------

def sign(secret: str, timestamp: int, body: str) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: str) -> str:
    """``Bridgeconf-Signature``: ``t=<unix seconds>,v1=<HMAC-SHA256 hex of "t.body">``."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(secret: str, header: str, body: str, *, now: int, tolerance_s: int = 300) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent (replays)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(parts.get("v1", ""), sign(secret, timestamp, body))
