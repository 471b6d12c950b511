"""Outgoing webhooks: what the admin configures (the ``webhooks`` stream: create, update,
delete a hook, admin only; a hook has a URL (http/https, no credentials in it), a secret and
event types) and the facts a hook may be owed. What is owed and delivered is ``outbox.py``
(the ``webhook-outbox`` stream).

What a hook is owed is not an event of its own but a **fact** read off a conference's state
(``facts``): the conference opened or ended, a version of the minutes approved or distributed,
an action item overdue. The server re-reads the facts after every change and every minute,
and queues those it has not queued yet (``outbox.owed``): a kill -9 between a conference's event and
the outbox's loses nothing, since the fact is still there after the restart. A hook is owed
the facts of its types that happened after it was created.

Other parts of the domain add facts by appending to ``FACT_SOURCES`` (recommendations: the
``recommendation.overdue`` type is reserved for them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from .actors import Actor, Role, require
from .base import Command, Event, Results, check_id, event, record_result
from .errors import DomainError, ErrorCode, ValidationError
from .state import ConferenceState

__all__ = [
    "FACT_SOURCES", "WEBHOOK_EVENTS", "CreateWebhook", "DeleteWebhook", "Fact", "UpdateWebhook", "Webhook",
    "WebhookCreated", "WebhookDeleted", "WebhookUpdated", "Webhooks", "check_webhook_url", "decide_webhooks",
    "evolve_webhooks", "facts", "may_configure_webhooks",
]

WEBHOOK_EVENTS = ("conference.opened", "conference.ended", "minutes.approved", "minutes.distributed",
                  "action.overdue", "recommendation.overdue")
MAX_HOOKS = 50
MAX_URL = 2000
MIN_SECRET, MAX_SECRET = 16, 256


# -- the configuration -----------------------------------------------------------------------

@dataclass
class Webhook:
    hook_id: str
    url: str
    secret: str
    events: tuple[str, ...]
    created_at: datetime
    created_by: str
    active: bool = True


@dataclass
class Webhooks:
    hooks: dict[str, Webhook] = field(default_factory=dict)
    version: int = 0
    results: Results = field(default_factory=dict)


def check_webhook_url(url: str) -> None:
    """http or https, a host, no user or password in it, no fragment, no spaces."""
    if not url or len(url) > MAX_URL:
        raise ValidationError(f"url: 1-{MAX_URL} characters")
    if any(ord(ch) <= 32 or ord(ch) == 127 for ch in url):
        raise ValidationError("url: no spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port   # noqa: B018  (raises on a bad port)
    except ValueError:
        raise ValidationError("url: not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise ValidationError("url: must start with http:// or https://")
    if not parts.hostname:
        raise ValidationError("url: needs a host")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationError("url: must not carry a user name or password (use the secret to sign instead)")
    if parts.fragment:
        raise ValidationError("url: must not have a #fragment")


def _check_secret(secret: str) -> None:
    if not MIN_SECRET <= len(secret) <= MAX_SECRET or not secret.isprintable() or secret.strip() != secret:
        raise ValidationError(f"secret: {MIN_SECRET}-{MAX_SECRET} printable characters, no leading or trailing spaces")


def _check_events(events: tuple[str, ...]) -> None:
    if not events:
        raise ValidationError("events: at least one event type")
    unknown = [e for e in events if e not in WEBHOOK_EVENTS]
    if unknown:
        raise ValidationError(f"events: {unknown[0][:40]!r} is not one of {', '.join(WEBHOOK_EVENTS)}")
    if len(set(events)) != len(events):
        raise ValidationError("events: duplicates are not allowed")


@dataclass(frozen=True, kw_only=True)
class CreateWebhook(Command):
    TYPE = "create_webhook"
    hook_id: str
    url: str
    secret: str
    events: tuple[str, ...]
    active: bool = True

    def check(self) -> None:
        check_id("hook_id", self.hook_id)
        check_webhook_url(self.url)
        _check_secret(self.secret)
        _check_events(self.events)


@dataclass(frozen=True, kw_only=True)
class UpdateWebhook(Command):
    TYPE = "update_webhook"
    hook_id: str
    url: str | None = None
    secret: str | None = None
    events: tuple[str, ...] | None = None
    active: bool | None = None

    def check(self) -> None:
        check_id("hook_id", self.hook_id)
        if self.url is not None:
            check_webhook_url(self.url)
        if self.secret is not None:
            _check_secret(self.secret)
        if self.events is not None:
            _check_events(self.events)


@dataclass(frozen=True, kw_only=True)
class DeleteWebhook(Command):
    TYPE = "delete_webhook"
    hook_id: str


@event
@dataclass(frozen=True, kw_only=True)
class WebhookCreated(Event):
    TYPE = "webhook_created"
    hook_id: str
    url: str
    secret: str
    events: tuple[str, ...]
    active: bool = True


@event
@dataclass(frozen=True, kw_only=True)
class WebhookUpdated(Event):
    TYPE = "webhook_updated"
    hook_id: str
    url: str | None = None
    secret: str | None = None
    events: tuple[str, ...] | None = None
    active: bool | None = None


@event
@dataclass(frozen=True, kw_only=True)
class WebhookDeleted(Event):
    TYPE = "webhook_deleted"
    hook_id: str


def may_configure_webhooks(actor: Actor) -> None:
    """Only an admin configures webhooks: a hook's URL receives what happens in every conference."""
    require(None, actor, Role.ADMIN, what="configure webhooks")


def decide_webhooks(state: Webhooks, cmd: Command, actor: Actor, *, now: datetime) -> list[Event]:
    may_configure_webhooks(actor)
    meta: dict[str, Any] = {"at": now, "actor": actor.ref, "key": cmd.key}
    match cmd:
        case CreateWebhook():
            if cmd.hook_id in state.hooks:
                raise DomainError(ErrorCode.INVALID_COMMAND, f"a webhook {cmd.hook_id!r} exists already")
            if len(state.hooks) >= MAX_HOOKS:
                raise DomainError(ErrorCode.INVALID_COMMAND, f"at most {MAX_HOOKS} webhooks")
            return [WebhookCreated(hook_id=cmd.hook_id, url=cmd.url, secret=cmd.secret, events=cmd.events,
                                   active=cmd.active, **meta)]
        case UpdateWebhook():
            _existing(state, cmd.hook_id)
            return [WebhookUpdated(hook_id=cmd.hook_id, url=cmd.url, secret=cmd.secret, events=cmd.events,
                                   active=cmd.active, **meta)]
        case DeleteWebhook():
            _existing(state, cmd.hook_id)
            return [WebhookDeleted(hook_id=cmd.hook_id, **meta)]
    raise DomainError(ErrorCode.UNKNOWN_COMMAND, f"{cmd.TYPE} is not a webhook command")


def _existing(state: Webhooks, hook_id: str) -> Webhook:
    hook = state.hooks.get(hook_id)
    if hook is None:
        raise DomainError(ErrorCode.INVALID_COMMAND, f"no webhook {hook_id[:64]!r}")
    return hook


def evolve_webhooks(state: Webhooks, ev: Event) -> Webhooks:
    match ev:
        case WebhookCreated():
            state.hooks[ev.hook_id] = Webhook(ev.hook_id, ev.url, ev.secret, ev.events, ev.at, ev.actor, ev.active)
        case WebhookUpdated():
            hook = state.hooks[ev.hook_id]
            for name in ("url", "secret", "events", "active"):
                if getattr(ev, name) is not None:
                    setattr(hook, name, getattr(ev, name))
        case WebhookDeleted():
            state.hooks.pop(ev.hook_id, None)
    state.version += 1
    record_result(state.results, ev, state.version)
    return state


# -- facts: what happened that a hook may be owed --------------------------------------------

@dataclass(frozen=True)
class Fact:
    kind: str                  # one of WEBHOOK_EVENTS
    ref: str                   # unique and stable: the same fact always has the same ref
    at: datetime
    data: dict[str, Any]


FactSource = Callable[[ConferenceState, date], Iterable[Fact]]


def _conference_facts(s: ConferenceState, today: date) -> Iterable[Fact]:
    c = s.conference_id
    base = {"conference_id": c, "title": s.title}
    if s.opened_at is not None:
        yield Fact("conference.opened", f"{c}/opened", s.opened_at, {**base, "opened_at": s.opened_at.isoformat()})
    if s.ended_at is not None:
        yield Fact("conference.ended", f"{c}/ended", s.ended_at, {**base, "ended_at": s.ended_at.isoformat()})


def _minutes_facts(s: ConferenceState, today: date) -> Iterable[Fact]:
    c = s.conference_id
    for v in s.minutes.approved:
        yield Fact("minutes.approved", f"{c}/minutes/{v.version}/approved", v.approved_at,
                   {"conference_id": c, "title": s.title, "version": v.version, "sha256": v.sha256,
                    "approved_at": v.approved_at.isoformat()})
    for version, receipts in sorted(s.minutes.receipts.items()):
        batches: dict[datetime, list[str]] = {}
        for site, receipt in receipts.items():
            batches.setdefault(receipt.delivered_at, []).append(site)
        for at, sites in sorted(batches.items()):
            yield Fact("minutes.distributed", f"{c}/minutes/{version}/distributed/{at.isoformat()}", at,
                       {"conference_id": c, "title": s.title, "version": version, "sites": sorted(sites),
                        "distributed_at": at.isoformat()})


def _overdue_facts(s: ConferenceState, today: date) -> Iterable[Fact]:
    c = s.conference_id
    for a in s.actions.values():
        if a.is_overdue(today):
            became = datetime.combine(a.due + timedelta(days=1), time(0), s.tz).astimezone(UTC)
            yield Fact("action.overdue", f"{c}/actions/{a.action_id}/overdue/{a.due.isoformat()}", became,
                       {"conference_id": c, "action_id": a.action_id, "title": a.title,
                        "assignees": list(a.assignees), "due": a.due.isoformat(), "status": a.status.value})


FACT_SOURCES: list[FactSource] = [_conference_facts, _minutes_facts, _overdue_facts]
"""Where facts come from; another part of the domain appends its own source here."""


def facts(state: ConferenceState, today: date) -> list[Fact]:
    return [f for source in FACT_SOURCES for f in source(state, today)]
