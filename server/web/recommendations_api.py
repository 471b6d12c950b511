"""REST routes of the recommendations register (kiến nghị), in the route table of api.py:

    GET  /conferences/{conf_id}/recommendations/carry  the open recommendations of the series' previous
                                                       conference that this one has not taken up (staff)
    POST /conferences/{conf_id}/recommendations/carry  take them up (carry_recommendations; staff)
    GET  /recommendations                              the dashboard across conferences (filters: conference,
                                                       site, department, field, status, overdue=1, open=1)
    GET  /recommendations.csv | /recommendations.xlsx  the same rows as files (?lang=en)
    GET  /recommendation-fields                        the fields (lĩnh vực) wards choose from
    PUT  /recommendation-fields                        set them {fields: [...]} (admin)

Every change of a recommendation itself is a conference command (``/ws`` or
``POST /conferences/{conf_id}/commands``): submit, merge, assign, mark, answer, decide, feedback.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiohttp import web

from scheduling import (
    STAFF_ROLES,
    Actor,
    ActorKind,
    CarryRecommendations,
    ConferenceState,
    SetRecommendationFields,
    carry_items,
    previous_in_series,
    roles_in,
)
from scheduling.codec import to_plain
from scheduling.recommendations import TRIAGERS

from ..documents.recommendation_exports import register_csv, register_xlsx, select_rows
from ..service.service import Service
from .http import ApiError, actor_of, json_body, ok, service_of
from .routes import RouteTable

routes = RouteTable()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _staff(request: web.Request) -> tuple[Actor, ConferenceState]:
    actor = actor_of(request, request.match_info["conf_id"])
    hub = await service_of(request).conference_hub(request.match_info["conf_id"])
    state = hub.state
    assert state is not None   # conference_hub refuses a conference being created
    if not roles_in(state, actor) & STAFF_ROLES:
        raise ApiError("forbidden", "only the conference's staff may see this")
    return actor, state


def _previous(svc: Service, state: ConferenceState) -> ConferenceState | None:
    states = [h.state for h in svc.conferences.values() if h.state is not None]
    return previous_in_series(states, state)


@routes.route("GET", "/conferences/{conf_id}/recommendations/carry", "The open recommendations of the series' previous "
       "conference not yet taken up by this one (staff)")
async def carry_preview(request: web.Request) -> web.StreamResponse:
    _, state = await _staff(request)
    earlier = _previous(service_of(request), state)
    items = carry_items(earlier, state) if earlier else ()
    return ok({"from": earlier.conference_id if earlier else None, "items": to_plain(items)})


@routes.route("POST", "/conferences/{conf_id}/recommendations/carry", "Take up the open recommendations of the series' "
       "previous conference {key?} (the chair or a secretary)")
async def carry(request: web.Request) -> web.StreamResponse:
    actor, state = await _staff(request)
    if not roles_in(state, actor) & set(TRIAGERS):   # also when there is nothing to carry
        raise ApiError("forbidden", "only the chair or a secretary may carry recommendations over")
    body = await json_body(request)
    _no_unknown(body, {"key"})
    earlier = _previous(service_of(request), state)
    items = carry_items(earlier, state) if earlier else ()
    if not items:
        return ok({"from": earlier.conference_id if earlier else None, "carried": 0, "seq": state.version})
    key = body.get("key") or f"carry-{uuid.uuid4().hex[:16]}"
    if not isinstance(key, str):
        raise ApiError("bad_request", "key: expected a string")
    out = await service_of(request).run_conference(state.conference_id, CarryRecommendations(key=key, items=items), actor)
    return ok({"from": earlier.conference_id if earlier else None, "carried": len(items), "seq": out.seq})


def _no_unknown(body: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise ApiError("bad_request", f"unknown field(s): {', '.join(unknown)[:200]}")


def _rows(request: web.Request) -> list[dict[str, Any]]:
    svc = service_of(request)
    actor = actor_of(request)
    states = [h.state for h in svc.conferences.values() if h.state is not None and roles_in(h.state, actor)]
    only_site = actor.id if actor.kind is ActorKind.SITE else None
    return select_rows(states, lambda s: svc.clock().astimezone(s.tz).date(), request.query, only_site)


@routes.route("GET", "/recommendations", "The recommendations register across the conferences the caller has a role in "
       "(filters: conference, site, department, field, status, overdue=1, open=1); with totals by field, "
       "department and site", auth="any")
async def dashboard(request: web.Request) -> web.StreamResponse:
    rows = _rows(request)
    by: dict[str, dict[str, int]] = {"field": {}, "department": {}, "site": {}}
    for r in rows:
        by["field"][r["field"]] = by["field"].get(r["field"], 0) + 1
        for d in r["departments"]:
            by["department"][d] = by["department"].get(d, 0) + 1
        for s in r["sources"]:
            by["site"][s] = by["site"].get(s, 0) + 1
    return ok({"recommendations": rows, "by": by, "overdue": sum(1 for r in rows if r["overdue"]),
               "open": sum(1 for r in rows if r["open"])})


def _lang(request: web.Request) -> str:
    return "en" if request.query.get("lang") == "en" else "vi"


def _file(body: bytes | str, media_type: str, filename: str) -> web.Response:
    return web.Response(body=body.encode() if isinstance(body, str) else body, headers={
        "Content-Type": media_type, "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


@routes.route("GET", "/recommendations.csv", "The register as CSV (UTF-8 with BOM; the filters of /recommendations; "
       "?lang=en)", auth="any")
async def register_as_csv(request: web.Request) -> web.StreamResponse:
    return _file(register_csv(_rows(request), _lang(request)), "text/csv; charset=utf-8", "kien-nghi.csv")


@routes.route("GET", "/recommendations.xlsx", "The register as an Excel workbook (the filters of /recommendations; "
       "?lang=en)", auth="any")
async def register_as_xlsx(request: web.Request) -> web.StreamResponse:
    body = await asyncio.to_thread(register_xlsx, _rows(request), _lang(request))
    return _file(body, XLSX, "kien-nghi.xlsx")


@routes.route("GET", "/recommendation-fields", "The fields (lĩnh vực) a ward chooses from", auth="any")
async def get_fields(request: web.Request) -> web.StreamResponse:
    actor_of(request)
    return ok({"fields": list(service_of(request).directory.state.fields)})


@routes.route("PUT", "/recommendation-fields", "Set the fields (lĩnh vực) {fields: [...], key?}", auth="admin")
async def set_fields(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    _no_unknown(body, {"fields", "key"})
    fields = body.get("fields")
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise ApiError("bad_request", "fields: a list of strings")
    key = body.get("key") or f"fields-{uuid.uuid4().hex[:16]}"
    if not isinstance(key, str):
        raise ApiError("bad_request", "key: expected a string")
    out = await service_of(request).run_directory(SetRecommendationFields(key=key, fields=tuple(fields)), actor_of(request))
    return ok({"seq": out.seq, "fields": list(service_of(request).directory.state.fields)})
