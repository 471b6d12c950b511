"""Typed application keys (never string keys) and the cookie names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from .liveness import Liveness
    from .metrics import Metrics
    from .presence import Presence
    from .recordings import ProgramRecorder
    from .service import Service

COOKIE = "bc_session"
LANG_COOKIE = "bc_lang"

SERVICE: web.AppKey[Service] = web.AppKey("service")
PRESENCE: web.AppKey[Presence] = web.AppKey("presence")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
MEDIA: web.AppKey[Any] = web.AppKey("media")
LIVENESS: web.AppKey[Liveness] = web.AppKey("liveness")
RECORDER: web.AppKey[ProgramRecorder] = web.AppKey("recorder")
