"""The REST API of outgoing webhooks (admin only): the hooks (their secrets never shown
again: only a hint), create, change, delete, and the delivery log."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from scheduling import WEBHOOK_EVENTS, CreateWebhook, DeleteWebhook, DeliveryStatus, UpdateWebhook
from scheduling.codec import from_plain
from scheduling.outbox import Delivery
from scheduling.webhooks import Webhook, may_configure_webhooks

from ..service.keys import WEBHOOKS
from ..service.ports import WebhookAdmin
from .http import ApiError, ack, actor_of, command_key, json_body, ok
from .routes import Contract, Query, RouteTable
from .schemas import command_schema

routes = RouteTable()
MAX_LOG = 500
ACK = {"type": "object", "required": ["seq", "replayed", "events"],
       "properties": {"seq": {"type": "integer"}, "replayed": {"type": "boolean"}, "events": {"type": "integer"}}}
HOOK = {"type": "object", "required": ["hook_id", "url", "events", "active", "created_at", "secret_hint", "counts"],
        "properties": {"hook_id": {"type": "string"}, "url": {"type": "string"},
                       "events": {"type": "array", "items": {"type": "string", "enum": list(WEBHOOK_EVENTS)}},
                       "active": {"type": "boolean"}, "created_at": {"type": "string", "format": "date-time"},
                       "created_by": {"type": "string"}, "secret_hint": {"type": "string"},
                       "counts": {"type": "object", "additionalProperties": {"type": "integer"}}}}
DELIVERY = {"type": "object", "required": ["delivery_id", "hook_id", "event", "status", "queued_at", "attempts"],
            "properties": {"delivery_id": {"type": "string"}, "hook_id": {"type": "string"}, "event": {"type": "string"},
                           "ref": {"type": "string"},
                           "status": {"type": "string", "enum": [s.value for s in DeliveryStatus]},
                           "queued_at": {"type": "string", "format": "date-time"},
                           "next_at": {"type": ["string", "null"], "format": "date-time"},
                           "attempts": {"type": "array", "items": {"type": "object", "required": ["n", "at"], "properties": {
                               "n": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
                               "status_code": {"type": ["integer", "null"]}, "error": {"type": "string"}}}}}}


def _admin(request: web.Request) -> tuple[Any, WebhookAdmin]:
    actor = actor_of(request)
    may_configure_webhooks(actor)
    return actor, request.app[WEBHOOKS]


def hook_view(hook: Webhook, deliveries: list[Delivery]) -> dict[str, Any]:
    mine = [d for d in deliveries if d.hook_id == hook.hook_id]
    return {"hook_id": hook.hook_id, "url": hook.url, "events": list(hook.events), "active": hook.active,
            "created_at": hook.created_at.isoformat(), "created_by": hook.created_by.partition(":")[2],
            "secret_hint": "…" + hook.secret[-4:],
            "counts": {s.value: sum(1 for d in mine if d.status is s) for s in DeliveryStatus}}


def delivery_view(d: Delivery) -> dict[str, Any]:
    return {"delivery_id": d.delivery_id, "hook_id": d.hook_id, "event": d.kind, "ref": d.ref,
            "status": d.status.value, "queued_at": d.queued_at.isoformat(),
            "next_at": d.next_at.isoformat() if d.status is DeliveryStatus.PENDING else None,
            "attempts": [{"n": a.n, "at": a.at.isoformat(), "status_code": a.status_code, "error": a.error}
                         for a in d.attempts]}


@routes.route("GET", "/webhooks", "Outgoing webhooks and the event types they may receive (admin)", auth="admin",
              contract=Contract(response={"type": "object", "required": ["webhooks", "event_types"], "properties": {
                  "webhooks": {"type": "array", "items": HOOK}, "event_types": {"type": "array",
                                                                              "items": {"type": "string"}}}}))
async def list_webhooks(request: web.Request) -> web.StreamResponse:
    _, hooks = _admin(request)
    deliveries = list(hooks.deliveries.deliveries.values())
    return ok({"webhooks": [hook_view(h, deliveries) for h in hooks.hooks.hooks.values()],
               "event_types": list(WEBHOOK_EVENTS)})


@routes.route("POST", "/webhooks", "Create a webhook {hook_id, url, secret, events, active?, key?} (admin)",
              auth="admin", contract=Contract(body=lambda m: command_schema(m, CreateWebhook), status=201,
                                              response={**ACK, "required": [*ACK["required"], "hook_id"]}))
async def create_webhook(request: web.Request) -> web.StreamResponse:
    actor, hooks = _admin(request)
    body = await json_body(request)
    cmd = from_plain(CreateWebhook, {**body, "key": command_key(body)})
    out = await hooks.configure(cmd, actor)
    return ok({**ack(out), "hook_id": cmd.hook_id}, status=201)


@routes.route("PATCH", "/webhooks/{hook_id}", "Change a webhook's url, secret, events or active flag (admin)",
              auth="admin", contract=Contract(body=lambda m: command_schema(m, UpdateWebhook,
                                                                            drop=frozenset({"hook_id"})), response=ACK))
async def update_webhook(request: web.Request) -> web.StreamResponse:
    actor, hooks = _admin(request)
    body = await json_body(request)
    cmd = from_plain(UpdateWebhook, {**body, "key": command_key(body), "hook_id": request.match_info["hook_id"]})
    return ok(ack(await hooks.configure(cmd, actor)))


@routes.route("DELETE", "/webhooks/{hook_id}", "Delete a webhook; its pending deliveries are given up (admin)",
              auth="admin", contract=Contract(response=ACK))
async def delete_webhook(request: web.Request) -> web.StreamResponse:
    actor, hooks = _admin(request)
    cmd = DeleteWebhook(key=f"rest-{uuid.uuid4().hex}", hook_id=request.match_info["hook_id"])
    return ok(ack(await hooks.configure(cmd, actor)))


@routes.route("GET", "/webhooks/deliveries", "The delivery log, newest first (filters: hook, status; limit, at "
              f"most {MAX_LOG}) (admin)", auth="admin", contract=Contract(
                  query=(Query("hook", {"type": "string"}),
                         Query("status", {"type": "string", "enum": [s.value for s in DeliveryStatus]}),
                         Query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LOG})),
                  response={"type": "object", "required": ["deliveries", "total"], "properties": {
                      "deliveries": {"type": "array", "items": DELIVERY}, "total": {"type": "integer"}}}))
async def list_deliveries(request: web.Request) -> web.StreamResponse:
    _, hooks = _admin(request)
    hook = request.query.get("hook")
    status = request.query.get("status")
    if status is not None and status not in {s.value for s in DeliveryStatus}:
        raise ApiError("bad_request", f"status: one of {', '.join(s.value for s in DeliveryStatus)}")
    try:
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        raise ApiError("bad_request", "limit: a whole number") from None
    if not 1 <= limit <= MAX_LOG:
        raise ApiError("bad_request", f"limit: from 1 to {MAX_LOG}")
    found = [d for d in reversed(hooks.deliveries.deliveries.values())
             if (hook is None or d.hook_id == hook) and (status is None or d.status.value == status)]
    return ok({"deliveries": [delivery_view(d) for d in found[:limit]], "total": len(found)})
