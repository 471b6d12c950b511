"""The route table of the REST API under /api/v1: each handler module keeps a
:class:`RouteTable` (``routes``), ``server.app`` adds the tables it serves, and the same
tables make the OpenAPI document at /api/v1/openapi.json.

Each route has a :class:`Contract`: its request body's type (the very type its handler parses
with, so the document cannot drift from the code), its query parameters, its answers (status,
media types, schema) and the errors it may give. A route declares it (``contract=``) or takes
the one ``contracts.CONTRACTS`` holds for its handler; tests/server/test_openapi.py checks
that every route has one and tests/server/test_api_contract.py runs schemathesis against it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web

from ..service.keys import COOKIE
from ..service.security import Signer
from .http import ApiError, ok, token_of
from .schemas import SchemaMaker

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
JSON = "application/json"
Schema = dict[str, Any]
Body = Callable[[SchemaMaker], Schema]     # makes the body's schema from the handler's own types


@dataclass(frozen=True)
class Query:
    name: str
    schema: Schema
    description: str = ""


@dataclass(frozen=True)
class Contract:
    """What a route takes and answers, for the OpenAPI document."""

    body: Body | None = None
    body_media: str | tuple[str, ...] = JSON   # an upload: each type it takes (the body is the file's bytes)
    body_required: bool = True
    query: tuple[Query, ...] = ()
    status: int = 200                          # the success status (201 for a creation)
    also: tuple[int, ...] = ()                 # other success statuses, with the same answer
    response: Body | Schema = field(default_factory=lambda: {"type": "object"})
    media: tuple[str, ...] = (JSON,)           # what the success answer may be
    headers: tuple[Query, ...] = ()            # request headers it reads
    errors: tuple[tuple[str, str], ...] = ()   # its own error statuses beside ERROR_STATUSES (415, ...)
    example: Any = None                        # a body the route accepts (documentation; the tests send it)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    auth: str = "account"       # none | account | admin | any (account or site)
    limited: bool = False       # may answer 429 with Retry-After (the sign-in limits)
    contract: Contract | None = None


class RouteTable:
    """The routes of one handler module, filled by its ``@routes.route(...)`` decorators."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(self, method: str, path: str, summary: str, auth: str = "account",
              limited: bool = False, contract: Contract | None = None) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.routes.append(Route(method, "/api/v1" + path, fn, summary, auth, limited, contract))
            return fn
        return register


SERVED: web.AppKey[tuple[Route, ...]] = web.AppKey("routes", tuple)


def add_routes(app: web.Application, tables: Sequence[RouteTable],
               contracts: dict[str, Contract] | None = None) -> None:
    """Serve the routes of ``tables`` and the OpenAPI document made of them; a route without
    its own contract takes the one of ``contracts`` named for its handler."""
    served = tuple(r if r.contract is not None or contracts is None or r.handler.__name__ not in contracts
                   else replace(r, contract=contracts[r.handler.__name__]) for table in tables for r in table.routes)
    app[SERVED] = served
    for r in served:
        app.router.add_route(r.method, r.path, _accounts_only(r.handler) if r.auth in ("account", "admin") else r.handler)
    app.router.add_get("/api/v1/openapi.json", openapi)


async def openapi(request: web.Request) -> web.StreamResponse:
    """This document (auth: none)."""
    return ok(openapi_document(request.app[SERVED]))


ERROR_STATUSES = {
    "400": "bad input (bad_request, invalid_command, ...): nothing was applied",
    "401": "not signed in, or a bad, expired or revoked token",
    "403": "not allowed (forbidden, csrf, ...)",
    "404": "no such thing (not_found, no_conference, ...)",
    "405": "method not allowed",
    "409": "refused by the current state (wrong_phase, ...)",
    "413": "the body is too large",
    "422": "an idempotency key sent again with another command (key_reused)",
    "503": "the server cannot record changes now (busy): try again with the same key",
}
SUCCESS = {200: "OK", 201: "Created"}
WITH_BODY_ONLY = frozenset({"413", "422"})


def openapi_document(served: Sequence[Route]) -> dict[str, Any]:
    maker = SchemaMaker()
    error = {"content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}
    paths: dict[str, Any] = {}
    for r in (*served, OPENAPI):
        c = r.contract or Contract()
        params = [{"name": seg[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
                  for seg in r.path.split("/") if seg.startswith("{")]
        params += [{"name": q.name, "in": "query", "required": False, "schema": q.schema,
                    **({"description": q.description} if q.description else {})} for q in c.query]
        params += [{"name": q.name, "in": "header", "required": False, "schema": q.schema,
                    **({"description": q.description} if q.description else {})} for q in c.headers]
        answer = c.response(maker) if callable(c.response) else c.response
        ok_content = {media: {"schema": answer if media == JSON else {"type": "string", "format": "binary"}}
                      for media in c.media}
        responses: dict[str, Any] = {str(s): {"description": SUCCESS.get(s, "OK"), "content": ok_content}
                                     for s in (c.status, *c.also)}
        for status, what in ERROR_STATUSES.items():
            if status not in WITH_BODY_ONLY or c.body is not None:
                responses[status] = {"description": what, **error}
        for status, what in c.errors:
            responses[status] = {"description": what, **error}
        if r.limited:
            responses["429"] = {
                "description": "too many failed sign-ins (too_many_sign_ins): the password was not checked",
                "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
                **error}
        op: dict[str, Any] = {"summary": r.summary, "operationId": r.handler.__name__, "parameters": params,
                              "responses": responses}
        if r.auth != "none":
            op["security"] = [{"session": []}, {"bearer": []}]
        if c.body is not None:
            media = {"schema": c.body(maker), **({"example": c.example} if c.example is not None else {})}
            medias = (c.body_media,) if isinstance(c.body_media, str) else c.body_media
            op["requestBody"] = {"required": c.body_required, "content": {m: media for m in medias}}
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "bridgeconf API", "version": "1"},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": COOKIE,
                            "description": "writes also need the X-CSRF-Token header"},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "a session token (from POST /session) or a site's join-link token"},
            },
            "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
                **maker.components},
        },
    }


def _accounts_only(handler: Handler) -> Handler:
    """A route for accounts: a site's join-link token does not open it (``auth="any"`` routes
    take both)."""
    async def guarded(request: web.Request) -> web.StreamResponse:
        token, _ = token_of(request)
        if token and Signer.kind_of(token) == "site":
            raise ApiError("forbidden", "a join link does not open this: sign in with an account")
        return await handler(request)
    guarded.__name__ = handler.__name__
    return guarded


OPENAPI = Route("GET", "/api/v1/openapi.json", openapi, "This document", auth="none",
                contract=Contract(response={"type": "object", "required": ["openapi", "paths"]}))
