"""The REST API of the site directory: list, register, update, retire, import and export
(CSV) the wards, communes and other sites."""

from __future__ import annotations

import uuid

from aiohttp import web

from scheduling import (
    ImportSites,
    RegisterSite,
    RetireSite,
    SiteInfo,
    UpdateSite,
    parse_sites_csv,
    sites_to_csv,
)
from scheduling.codec import from_plain, to_plain

from ..documents.spreadsheet import safe_csv
from .http import ack, actor_of, command_key, json_body, ok, service_of
from .routes import RouteTable

routes = RouteTable()


# -- directory -----------------------------------------------------------------------------

@routes.route("GET", "/sites", "The sites the caller may see (an admin: the directory; an account: the sites of its "
              "conferences; a site: itself) (filter: q, parent)")
async def list_sites(request: web.Request) -> web.StreamResponse:
    visible = service_of(request).visible_sites(actor_of(request))
    q = request.query.get("q", "").casefold()
    parent = request.query.get("parent")
    sites = [to_plain(s) for s in visible
             if (not q or q in s.name.casefold() or q in s.code.casefold()) and (parent is None or s.parent == parent)]
    return ok({"sites": sites, "groups": sorted({s.parent for s in visible if s.parent})})


@routes.route("POST", "/sites", "Register a site", auth="admin")
async def register_site(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    site = from_plain(SiteInfo, {k: v for k, v in body.items() if k != "key"})
    out = await service_of(request).run_directory(RegisterSite(key=command_key(body), site=site), actor_of(request))
    return ok(ack(out), status=201)


@routes.route("PUT", "/sites/{code}", "Update a site", auth="admin")
async def update_site(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    site = from_plain(SiteInfo, {**{k: v for k, v in body.items() if k != "key"}, "code": request.match_info["code"]})
    return ok(ack(await service_of(request).run_directory(UpdateSite(key=command_key(body), site=site), actor_of(request))))


@routes.route("DELETE", "/sites/{code}", "Retire a site from the directory", auth="admin")
async def retire_site(request: web.Request) -> web.StreamResponse:
    cmd = RetireSite(key=f"rest-{uuid.uuid4().hex}", code=request.match_info["code"])
    return ok(ack(await service_of(request).run_directory(cmd, actor_of(request))))


@routes.route("POST", "/sites/import", "Import sites from CSV (text/csv body); ?dry_run=1 only checks", auth="admin")
async def import_sites(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    text = await request.text()
    if request.query.get("dry_run") in ("1", "true"):
        sites = parse_sites_csv(text)
        known = service_of(request).directory.state.sites
        return ok({"valid": True, "rows": len(sites),
                   "new": sum(1 for s in sites if s.code not in known),
                   "changed": sum(1 for s in sites if s.code in known and known[s.code] != s)})
    cmd = ImportSites(key=request.headers.get("Idempotency-Key") or f"rest-{uuid.uuid4().hex}", csv=text)
    return ok(ack(await service_of(request).run_directory(cmd, actor)))


@routes.route("GET", "/sites.csv", "The sites the caller may see (as GET /sites) as CSV")
async def export_sites(request: web.Request) -> web.StreamResponse:
    visible = service_of(request).visible_sites(actor_of(request))
    return web.Response(text=safe_csv(sites_to_csv(visible)), content_type="text/csv",
                        charset="utf-8", headers={"Content-Disposition": "attachment; filename=sites.csv"})
