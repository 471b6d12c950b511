"""REST routes of the audit log (nhật ký hệ thống), admin only:

    GET /audit/streams     the event logs there are (directory, accounts, links, one per
                           conference) and the event types each kind holds
    GET /audit             one log's events, newest first, filtered: ?stream=directory|accounts|
                           links|conf-<id>, actor, type (comma-separated), since, until, limit
    GET /audit.csv         the same rows as CSV (every row the filter keeps)

Thin: check the admin right, read the stream, hand it to service/audit_log.py. A log longer than
MAX_SCAN events is read from its newest MAX_SCAN (the answer says ``truncated``).
"""

from __future__ import annotations

import asyncio
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from ..service.audit_log import (
    FIXED_STREAMS,
    AuditFilter,
    AuditQueryError,
    AuditRow,
    audit_csv,
    audit_row,
    event_types,
    select,
)
from ..service.service import CONF_PREFIX, Service
from ..store import Recorded
from .http import ApiError, actor_of, ok, service_of
from .routes import RouteTable

routes = RouteTable()

MAX_SCAN = 100_000
CHUNK = 5_000
DEFAULT_LIMIT, MAX_LIMIT = 200, 2_000
TZ = ZoneInfo("Asia/Ho_Chi_Minh")   # the admin page shows and takes dates in Vietnam's time


def _admin(request: web.Request) -> Service:
    if not actor_of(request).admin:
        raise ApiError("forbidden", "only an administrator may read the audit log")
    return service_of(request)


def _names(svc: Service) -> dict[str, str]:
    names = {f"account:{a}": acc.name for a, acc in svc.accounts.state.accounts.items()}
    names |= {f"site:{c}": site.name for c, site in svc.directory.state.sites.items()}
    return names


@routes.route("GET", "/audit/streams", "The event logs of the audit view and the event types of each kind (admin)",
       auth="admin")
async def audit_streams(request: web.Request) -> web.StreamResponse:
    svc = _admin(request)
    states = sorted((h.state for h in svc.conferences.values() if h.state is not None),
                    key=lambda s: s.starts_at, reverse=True)
    streams: list[dict[str, Any]] = [{"stream": s, "kind": s, "title": ""} for s in FIXED_STREAMS]
    streams += [{"stream": CONF_PREFIX + s.conference_id, "kind": "conference", "title": s.title,
                 "starts_at": s.starts_at.isoformat()} for s in states]
    return ok({"streams": streams, "types": {k: event_types(k) for k in (*FIXED_STREAMS, "conference")}})


async def _rows(request: web.Request, svc: Service) -> tuple[str, list[AuditRow], bool]:
    stream = request.query.get("stream", "directory")
    known = stream in FIXED_STREAMS or (stream.startswith(CONF_PREFIX) and stream[len(CONF_PREFIX):] in svc.conferences)
    if not known:
        raise ApiError("not_found", f"stream: no event log {stream[:80]!r} (directory, accounts, links or conf-<id>)")
    last = await svc.store.last_seq(stream)
    after = max(0, last - MAX_SCAN)
    names = _names(svc)
    records: list[Recorded] = []
    while after < last:
        chunk = await svc.store.read(stream, after, limit=CHUNK)
        if not chunk:
            break
        records += chunk
        after = chunk[-1].seq
    # parsing is CPU work (~2.4 s for 100,000 events, bench/audit.py): off the event loop
    rows = await asyncio.to_thread(lambda: [audit_row(stream, r.seq, r.data, names) for r in records])
    return stream, rows, last > MAX_SCAN


def _filter(request: web.Request) -> AuditFilter:
    try:
        return AuditFilter.parse(request.query, TZ)
    except AuditQueryError as exc:
        raise ApiError("bad_request", str(exc)) from None


def _limit(request: web.Request) -> int:
    try:
        limit = int(request.query.get("limit", str(DEFAULT_LIMIT)))
    except ValueError:
        raise ApiError("bad_request", "limit: a whole number") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError("bad_request", f"limit: between 1 and {MAX_LIMIT}")
    return limit


@routes.route("GET", "/audit", "Who did what and when in one event log, newest first (admin; filters: stream, actor, "
       "type, since, until, limit)", auth="admin")
async def audit(request: web.Request) -> web.StreamResponse:
    svc = _admin(request)
    flt, limit = _filter(request), _limit(request)
    stream, rows, truncated = await _rows(request, svc)
    shown, matched = await asyncio.to_thread(select, rows, flt, limit=limit)
    return ok({"stream": stream, "rows": [r.to_dict() for r in shown], "matched": matched, "scanned": len(rows),
               "truncated": truncated})


@routes.route("GET", "/audit.csv", "The audit view's rows as CSV (admin; the filters of /audit, every matching row)",
       auth="admin")
async def audit_export(request: web.Request) -> web.StreamResponse:
    svc = _admin(request)
    flt = _filter(request)
    stream, rows, _ = await _rows(request, svc)
    text = await asyncio.to_thread(lambda: audit_csv(select(rows, flt, limit=MAX_SCAN)[0], TZ))
    return web.Response(text=text, content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f"attachment; filename=nhat-ky-{stream}.csv"})
