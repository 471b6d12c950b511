"""The REST API under /api/v1: the directory, accounts, conferences (and every conference
command), join links, action items across conferences. Thin: authenticate, parse, call the
service, return. The route table also feeds /api/v1/openapi.json."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web

from scheduling import (
    STAFF_ROLES,
    ChangePassword,
    Command,
    CreateAccount,
    ImportSites,
    IssueLink,
    RegisterSite,
    RetireSite,
    RevokeLink,
    SiteInfo,
    UpdateAccount,
    UpdateSite,
    parse_command,
    parse_sites_csv,
    roles_in,
    sites_to_csv,
)
from scheduling.codec import from_plain, to_plain
from scheduling.directory import DIRECTORY_COMMANDS

from .http import ApiError, actor_of, json_body, ok, text_field, token_of
from .keys import COOKIE, SERVICE
from .security import MAX_PASSWORD, MIN_PASSWORD, Signer, hash_password
from .service import SESSION_DAYS, Service
from .views import conference_summary, conference_view, select_actions

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    auth: str = "account"       # none | account | admin | any (account or site)
    limited: bool = False       # may answer 429 with Retry-After (the sign-in limits)


ROUTES: list[Route] = []


def route(method: str, path: str, summary: str, auth: str = "account",
          limited: bool = False) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        ROUTES.append(Route(method, "/api/v1" + path, fn, summary, auth, limited))
        return fn
    return register


def _svc(request: web.Request) -> Service:
    return request.app[SERVICE]


def _ack(outcome: Any) -> dict[str, Any]:
    return {"seq": outcome.seq, "replayed": outcome.replayed, "events": len(outcome.events)}


def _key(body: dict[str, Any]) -> str:
    key = body.get("key") or f"rest-{uuid.uuid4().hex}"
    if not isinstance(key, str):
        raise ApiError("bad_request", "key: expected a string")
    return key


# -- session -------------------------------------------------------------------------------

@route("POST", "/session", "Sign in with an account and password; sets the session cookie (after too many "
       "failed sign-ins: 429 too_many_sign_ins, Retry-After)", auth="none", limited=True)
async def login(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    account = text_field(body, "account", max_len=64)
    password = text_field(body, "password", max_len=MAX_PASSWORD)
    svc = _svc(request)
    token = await svc.sign_in(account, password, request.remote or "")
    actor = svc.session_actor(token)
    resp = ok({"account": actor.id, "admin": actor.admin, "token": token, "csrf": svc.signer.csrf_for(token)})
    resp.set_cookie(COOKIE, token, httponly=True, samesite="Lax", max_age=SESSION_DAYS * 86400, path="/",
                    secure=svc.config.base_url.startswith("https://"))
    return resp


@route("GET", "/session", "Who is signed in, and the CSRF token for writes")
async def session(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    svc = _svc(request)
    acc = svc.accounts.state.accounts.get(actor.id)
    token = request.cookies.get(COOKIE, "")
    return ok({"account": actor.id, "name": acc.name if acc else actor.id, "admin": actor.admin,
               "csrf": svc.signer.csrf_for(token) if token else None})


@route("DELETE", "/session", "Sign out", auth="none")
async def logout(request: web.Request) -> web.StreamResponse:
    resp = ok({"signed_out": True})
    resp.del_cookie(COOKIE, path="/")
    return resp


# -- directory -----------------------------------------------------------------------------

@route("GET", "/sites", "The site directory (filter: q, parent)")
async def list_sites(request: web.Request) -> web.StreamResponse:
    actor_of(request)
    q = request.query.get("q", "").casefold()
    parent = request.query.get("parent")
    sites = [to_plain(s) for s in _svc(request).directory.state.active()
             if (not q or q in s.name.casefold() or q in s.code.casefold()) and (parent is None or s.parent == parent)]
    return ok({"sites": sites, "groups": _svc(request).directory.state.groups()})


@route("POST", "/sites", "Register a site", auth="admin")
async def register_site(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    site = from_plain(SiteInfo, {k: v for k, v in body.items() if k != "key"})
    out = await _svc(request).run_directory(RegisterSite(key=_key(body), site=site), actor_of(request))
    return ok(_ack(out), status=201)


@route("PUT", "/sites/{code}", "Update a site", auth="admin")
async def update_site(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    site = from_plain(SiteInfo, {**{k: v for k, v in body.items() if k != "key"}, "code": request.match_info["code"]})
    return ok(_ack(await _svc(request).run_directory(UpdateSite(key=_key(body), site=site), actor_of(request))))


@route("DELETE", "/sites/{code}", "Retire a site from the directory", auth="admin")
async def retire_site(request: web.Request) -> web.StreamResponse:
    cmd = RetireSite(key=f"rest-{uuid.uuid4().hex}", code=request.match_info["code"])
    return ok(_ack(await _svc(request).run_directory(cmd, actor_of(request))))


@route("POST", "/sites/import", "Import sites from CSV (text/csv body); ?dry_run=1 only checks", auth="admin")
async def import_sites(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    text = await request.text()
    if request.query.get("dry_run") in ("1", "true"):
        sites = parse_sites_csv(text)
        known = _svc(request).directory.state.sites
        return ok({"valid": True, "rows": len(sites),
                   "new": sum(1 for s in sites if s.code not in known),
                   "changed": sum(1 for s in sites if s.code in known and known[s.code] != s)})
    cmd = ImportSites(key=request.headers.get("Idempotency-Key") or f"rest-{uuid.uuid4().hex}", csv=text)
    return ok(_ack(await _svc(request).run_directory(cmd, actor)))


@route("GET", "/sites.csv", "The directory as CSV")
async def export_sites(request: web.Request) -> web.StreamResponse:
    actor_of(request)
    return web.Response(text=sites_to_csv(_svc(request).directory.state.active()), content_type="text/csv",
                        charset="utf-8", headers={"Content-Disposition": "attachment; filename=sites.csv"})


# -- accounts ------------------------------------------------------------------------------

@route("GET", "/accounts", "Accounts", auth="admin")
async def list_accounts(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    if not actor.admin:
        raise ApiError("forbidden", "only an admin may list accounts")
    return ok({"accounts": [{"account_id": a.account_id, "name": a.name, "email": a.email, "admin": a.admin,
                             "disabled": a.disabled} for a in _svc(request).accounts.state.accounts.values()]})


async def _password(body: dict[str, Any]) -> str:
    password = text_field(body, "password", max_len=MAX_PASSWORD)
    if len(password) < MIN_PASSWORD:
        raise ApiError("bad_request", f"password: at least {MIN_PASSWORD} characters")
    return await asyncio.to_thread(hash_password, password)   # argon2 off the event loop


@route("POST", "/accounts", "Create an account {account_id, name, email, admin, password}", auth="admin")
async def create_account(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    body = await json_body(request)
    cmd = from_plain(CreateAccount, {**{k: v for k, v in body.items() if k != "password"},
                                     "key": _key(body), "password_hash": await _password(body)})
    return ok(_ack(await _svc(request).run_accounts(cmd, actor)), status=201)


@route("PATCH", "/accounts/{account_id}", "Change an account's name, e-mail, admin right or disabled flag", auth="admin")
async def update_account(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    body = await json_body(request)
    cmd = from_plain(UpdateAccount, {**body, "key": _key(body), "account_id": request.match_info["account_id"]})
    return ok(_ack(await _svc(request).run_accounts(cmd, actor)))


@route("POST", "/accounts/{account_id}/password", "Set a password {password}")
async def set_password(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    body = await json_body(request)
    cmd = ChangePassword(key=_key(body), account_id=request.match_info["account_id"], password_hash=await _password(body))
    return ok(_ack(await _svc(request).run_accounts(cmd, actor)))


# -- conferences ---------------------------------------------------------------------------

@route("GET", "/conferences", "Conferences, newest first")
async def list_conferences(request: web.Request) -> web.StreamResponse:
    actor_of(request)
    states = [h.state for h in _svc(request).conferences.values() if h.state is not None]
    return ok({"conferences": [conference_summary(s) for s in sorted(states, key=lambda s: s.starts_at, reverse=True)]})


@route("POST", "/conferences", "Create a conference (the fields of create_conference)", auth="admin")
async def create_conference(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    body = await json_body(request)
    cmd = parse_command({**body, "type": "create_conference", "key": _key(body)})
    out = await _svc(request).run_conference(cmd.conference_id, cmd, actor)
    return ok(_ack(out), status=201)


async def _conference(request: web.Request) -> tuple[Any, Any]:
    conf_id = request.match_info["conf_id"]
    actor = actor_of(request, conf_id)
    hub = await _svc(request).conference_hub(conf_id)
    return actor, hub


@route("GET", "/conferences/{conf_id}", "A conference's state as the caller may see it", auth="any")
async def get_conference(request: web.Request) -> web.StreamResponse:
    actor, hub = await _conference(request)
    roles = roles_in(hub.state, actor)
    if not roles:
        raise ApiError("forbidden", "you have no role in this conference")
    return ok(conference_view(hub.state, roles, _svc(request).clock(), _svc(request).names()))


@route("POST", "/conferences/{conf_id}/commands", "Run any conference command {type, key, ...}", auth="any")
async def conference_command(request: web.Request) -> web.StreamResponse:
    actor, hub = await _conference(request)
    body = await json_body(request)
    cmd: Command = parse_command({**body, "key": _key(body)})
    if type(cmd) in DIRECTORY_COMMANDS:
        raise ApiError("bad_request", f"{cmd.TYPE} is a directory command: use /api/v1/sites")
    return ok(_ack(await _svc(request).run_conference(request.match_info["conf_id"], cmd, actor)))


@route("GET", "/conferences/{conf_id}/events", "The conference's log after ?after=SEQ (staff only)")
async def conference_events(request: web.Request) -> web.StreamResponse:
    actor, hub = await _conference(request)
    if not roles_in(hub.state, actor) & STAFF_ROLES:
        raise ApiError("forbidden", "only the conference's staff may read its whole log")
    try:
        after = int(request.query.get("after", "0"))
        limit = min(int(request.query.get("limit", "1000")), 5000)
    except ValueError:
        raise ApiError("bad_request", "after and limit are whole numbers") from None
    recs = await hub.store.read(hub.name, after, limit=limit)
    return ok({"events": [{"seq": r.seq, "event": json.loads(r.data)} for r in recs]})


@route("GET", "/conferences/{conf_id}/links", "Join links of the invited sites (issued when missing)", auth="admin")
async def conference_links(request: web.Request) -> web.StreamResponse:
    conf_id = request.match_info["conf_id"]
    actor = actor_of(request, conf_id)
    if not actor.admin:
        raise ApiError("forbidden", "only an admin may hand out join links")
    svc = _svc(request)
    tokens = await svc.ensure_links(conf_id)
    hub = await svc.conference_hub(conf_id)
    rows = []
    for code, site in hub.state.sites.items():
        status, generation = svc.link_status(conf_id, code)
        link = svc.links.state.links.get((conf_id, code))
        rows.append({"site": code, "name": site.name, "status": status, "generation": generation,
                     "url": svc.join_url(tokens[code]) if code in tokens else None,
                     "expires_at": link.expires_at.isoformat() if link else None})
    if request.query.get("format") == "csv":
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["site", "name", "url", "expires_at"])
        for r in rows:
            w.writerow([r["site"], r["name"], r["url"] or "", r["expires_at"] or ""])
        return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": f"attachment; filename=links-{conf_id}.csv"})
    return ok({"links": rows})


@route("POST", "/conferences/{conf_id}/links/{site}/revoke", "Revoke a site's join link", auth="admin")
async def revoke_link(request: web.Request) -> web.StreamResponse:
    conf_id, site = request.match_info["conf_id"], request.match_info["site"]
    out = await _svc(request).run_links(RevokeLink(key=f"rest-{uuid.uuid4().hex}", conference_id=conf_id, site=site),
                                        actor_of(request, conf_id))
    return ok(_ack(out))


@route("POST", "/conferences/{conf_id}/links/{site}/reissue", "Re-issue a site's join link (the old one stops working)",
       auth="admin")
async def reissue_link(request: web.Request) -> web.StreamResponse:
    conf_id, site = request.match_info["conf_id"], request.match_info["site"]
    actor = actor_of(request, conf_id)
    svc = _svc(request)
    hub = await svc.conference_hub(conf_id)
    if site not in hub.state.sites:
        raise ApiError("site_not_invited", f"site {site} is not invited to {conf_id}")
    link = svc.links.state.links.get((conf_id, site))
    expires = link.expires_at if link and link.expires_at > svc.clock() else max(hub.state.ends_at, svc.clock())
    expires = max(expires, svc.clock() + timedelta(days=1))
    await svc.run_links(IssueLink(key=f"rest-{uuid.uuid4().hex}", conference_id=conf_id, site=site,
                                  expires_at=expires), actor)
    return ok({"site": site, "url": svc.join_url(svc.link_token(conf_id, site))})


# -- action items across conferences -------------------------------------------------------

@route("GET", "/actions", "Action items of the conferences the caller has a role in (filters: conference, site, "
       "status, overdue=1)", auth="any")
async def list_actions(request: web.Request) -> web.StreamResponse:
    svc = _svc(request)
    return ok({"actions": select_actions(svc, actor_of(request), request.query),
               "today": svc.clock().date().isoformat()})


# -- OpenAPI -------------------------------------------------------------------------------

@route("GET", "/openapi.json", "This document", auth="none")
async def openapi(request: web.Request) -> web.StreamResponse:
    return ok(openapi_document())


def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for r in ROUTES:
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


from . import minutes_api  # noqa: E402,F401  (its routes join the table: the minutes, exports, follow-up)


def add_routes(app: web.Application) -> None:
    for r in ROUTES:
        app.router.add_route(r.method, r.path, _accounts_only(r.handler) if r.auth in ("account", "admin") else r.handler)


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
# their routes join the table: the program recordings, the audit log
from . import audit_api, recordings  # noqa: E402,F401
