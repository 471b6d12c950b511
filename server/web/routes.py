"""The route table of the REST API under /api/v1: each handler module keeps a
:class:`RouteTable` (``routes``), ``server.app`` adds the tables it serves, and the same
tables make the OpenAPI document at /api/v1/openapi.json."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..service.keys import COOKIE
from ..service.security import Signer
from .http import ApiError, ok, token_of

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    auth: str = "account"       # none | account | admin | any (account or site)
    limited: bool = False       # may answer 429 with Retry-After (the sign-in limits)


class RouteTable:
    """The routes of one handler module, filled by its ``@routes.route(...)`` decorators."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(self, method: str, path: str, summary: str, auth: str = "account",
              limited: bool = False) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.routes.append(Route(method, "/api/v1" + path, fn, summary, auth, limited))
            return fn
        return register


SERVED: web.AppKey[tuple[Route, ...]] = web.AppKey("routes", tuple)


def add_routes(app: web.Application, tables: Sequence[RouteTable]) -> None:
    """Serve the routes of ``tables`` and the OpenAPI document made of them."""
    served = tuple(r for table in tables for r in table.routes)
    app[SERVED] = served
    for r in served:
        app.router.add_route(r.method, r.path, _accounts_only(r.handler) if r.auth in ("account", "admin") else r.handler)
    app.router.add_get("/api/v1/openapi.json", openapi)


async def openapi(request: web.Request) -> web.StreamResponse:
    """This document (auth: none)."""
    return ok(openapi_document(request.app[SERVED]))


def openapi_document(served: Sequence[Route]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for r in (*served, OPENAPI):
        params = [{"name": seg[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
                  for seg in r.path.split("/") if seg.startswith("{")]
        op: dict[str, Any] = {"summary": r.summary, "operationId": r.handler.__name__, "parameters": params,
                              "responses": {"200": {"description": "OK"},
                                            "4XX": {"description": "error {code, message}",
                                                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}
        if r.limited:
            op["responses"]["429"] = {
                "description": "too many failed sign-ins (too_many_sign_ins): the password was not checked",
                "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        if r.auth != "none":
            op["security"] = [{"session": []}, {"bearer": []}]
        if r.method in ("POST", "PUT", "PATCH"):
            op["requestBody"] = {"content": {"application/json": {"schema": {"type": "object"}}}}
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "bridgeconf API", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": COOKIE,
                            "description": "writes also need the X-CSRF-Token header"},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "a session token (from POST /session) or a site's join-link token"},
            },
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}}}}}},
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


OPENAPI = Route("GET", "/api/v1/openapi.json", openapi, "This document", auth="none")
