"""REST routes of the organisation that issues the minutes (Decree 30/2020 format), in the
route table of api.py:

    GET /organisation     its settings, the numbers given this year, and the signer's state (staff accounts)
    PUT /organisation     the admin sets them {governing_body, issuing_body, symbol, place,
                          chair_title, secretary_title, recipients: [..], key?}

Thin: the domain (scheduling.organisation) decides who may and checks every field.
"""

from __future__ import annotations

import uuid

from aiohttp import web

from scheduling import OrgSettings, SetOrganisation
from scheduling.codec import from_plain, to_plain

from ..service.keys import SERVICE
from ..service.records import RECORDS_TZ
from ..service.service import Service
from .http import ApiError, actor_of, json_body, ok
from .routes import RouteTable

routes = RouteTable()

FIELDS = ("governing_body", "issuing_body", "symbol", "place", "chair_title", "secretary_title", "recipients")


def _svc(request: web.Request) -> Service:
    return request.app[SERVICE]


@routes.route("GET", "/organisation", "The organisation that issues the minutes: masthead lines, number symbol, place, "
       "signature titles, recipients (Nơi nhận), the last number given per year, and the signing certificate")
async def organisation_get(request: web.Request) -> web.StreamResponse:
    actor_of(request)
    svc = _svc(request)
    org = svc.records.organisation.state
    signer = svc.records.signing
    year = svc.clock().astimezone(RECORDS_TZ).year
    return ok({"settings": to_plain(org.settings), "year": year, "last_number": org.last_number.get(year, 0),
               "signing": {"configured": signer.signer is not None or bool(signer.error),
                           "subject": signer.signer.subject if signer.signer else "", "error": signer.error,
                           "trust_roots": [c.subject.rfc4514_string() for c in svc.records.trust_roots]}})


@routes.route("PUT", "/organisation", "Set the organisation's settings (admin): {governing_body, issuing_body, symbol, "
       "place, chair_title, secretary_title, recipients}")
async def organisation_put(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    unknown = sorted(set(body) - set(FIELDS) - {"key"})
    if unknown:
        raise ApiError("bad_request", f"unknown field(s): {', '.join(unknown)[:200]}")
    settings = from_plain(OrgSettings, {k: body[k] for k in FIELDS if k in body})
    key = body.get("key") or f"rest-{uuid.uuid4().hex}"
    if not isinstance(key, str):
        raise ApiError("bad_request", "key: expected a string")
    out = await _svc(request).records.run(SetOrganisation(key=key, settings=settings), actor_of(request))
    return ok({"seq": out.seq, "replayed": out.replayed, "settings": to_plain(settings)})
