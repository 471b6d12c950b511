"""Typed application keys (never string keys) for what the edges reach through the app, and
the cookie names. Reactors are reached through the ports of ``ports.py``."""

from __future__ import annotations

from aiohttp import web

from .metrics import Metrics
from .ports import MediaControl, PresenceTracker, RecordingState, WebhookAdmin
from .service import Service

COOKIE = "bc_session"

SERVICE: web.AppKey[Service] = web.AppKey("service", Service)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
PRESENCE: web.AppKey[PresenceTracker] = web.AppKey("presence")
MEDIA: web.AppKey[MediaControl] = web.AppKey("media")
RECORDER: web.AppKey[RecordingState] = web.AppKey("recorder")
WEBHOOKS: web.AppKey[WebhookAdmin] = web.AppKey("webhooks")
