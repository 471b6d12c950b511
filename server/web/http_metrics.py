"""The REST edge's part of the metrics: every error answer counted by status and code (the
code that ``http.error_response`` put on the response), unhandled failures as 500
``internal``, other HTTP refusals as ``http``; and the router's refusals under /api/ made JSON
errors (``json_http_errors``)."""

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


@web.middleware
async def json_http_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Under /api/ the router's own refusals (no such route 404, method not allowed 405) are
    JSON errors like every other answer of the API, not aiohttp's plain text."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith("/api/"):
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(exc.status, "bad_request")
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        resp = web.json_response({"error": {"code": code, "message": exc.reason}}, status=exc.status, headers=headers)
        resp[ERROR_CODE] = code
        return resp
