"""The REST edge's part of the metrics: every error answer counted by status and code (the
code that ``http.error_response`` put on the response), unhandled failures as 500
``internal``, and the router's own refusals (404, 405) as ``http``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..service.keys import METRICS
from .http import ERROR_CODE


@web.middleware
async def count_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    metrics = request.app[METRICS]
    try:
        resp: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400:
            metrics.http_error(exc.status, "http")
        raise
    except Exception:
        metrics.http_error(500, "internal")
        raise
    if resp.status >= 400:
        metrics.http_error(resp.status, str(resp.get(ERROR_CODE, "http")))
    return resp
