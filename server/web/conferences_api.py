"""The REST API of conferences: list, create, read, run any conference command, read the
log (staff), the sites' join links (admin), and the action items across conferences."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta
from typing import Any

from aiohttp import web

from scheduling import (
    SENT_BY_THE_SERVER,
    STAFF_ROLES,
    Command,
    IssueLink,
    RevokeLink,
    parse_command,
    roles_in,
)
from scheduling.directory import DIRECTORY_COMMANDS

from ..documents.spreadsheet import safe_csv
from ..service.read_models import conference_summary, conference_view, select_actions
from .http import ApiError, ack, actor_of, command_key, json_body, ok, service_of
from .routes import RouteTable

routes = RouteTable()


# -- conferences ---------------------------------------------------------------------------

@routes.route("GET", "/conferences", "Conferences, newest first")
async def list_conferences(request: web.Request) -> web.StreamResponse:
    states = service_of(request).visible_conferences(actor_of(request))
    return ok({"conferences": [conference_summary(s) for s in sorted(states, key=lambda s: s.starts_at, reverse=True)]})


@routes.route("POST", "/conferences", "Create a conference (the fields of create_conference)", auth="admin")
async def create_conference(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    body = await json_body(request)
    cmd = parse_command({**body, "type": "create_conference", "key": command_key(body)})
    out = await service_of(request).run_conference(cmd.conference_id, cmd, actor)
    return ok(ack(out), status=201)


async def _conference(request: web.Request) -> tuple[Any, Any]:
    """Who asks and the conference: ``forbidden`` alike when it does not exist and when the
    caller has no role in it (``Service.conference_for``)."""
    conf_id = request.match_info["conf_id"]
    actor = actor_of(request, conf_id)
    hub, _ = await service_of(request).conference_for(conf_id, actor)
    return actor, hub


@routes.route("GET", "/conferences/{conf_id}", "A conference's state as the caller may see it", auth="any")
async def get_conference(request: web.Request) -> web.StreamResponse:
    actor, hub = await _conference(request)
    roles = roles_in(hub.state, actor)
    return ok(conference_view(hub.state, roles, service_of(request).clock(), service_of(request).names()))


@routes.route("POST", "/conferences/{conf_id}/commands", "Run any conference command {type, key, ...}", auth="any")
async def conference_command(request: web.Request) -> web.StreamResponse:
    actor, hub = await _conference(request)
    body = await json_body(request)
    cmd: Command = parse_command({**body, "key": command_key(body)})
    if type(cmd) in DIRECTORY_COMMANDS:
        raise ApiError("bad_request", f"{cmd.TYPE} is a directory command: use /api/v1/sites")
    if type(cmd) in SENT_BY_THE_SERVER:
        raise ApiError("forbidden", f"{cmd.TYPE} is sent by the server: upload the PDF to …/decks")
    return ok(ack(await service_of(request).run_conference(request.match_info["conf_id"], cmd, actor)))


@routes.route("GET", "/conferences/{conf_id}/events", "The conference's log after ?after=SEQ (staff only)")
async def conference_events(request: web.Request) -> web.StreamResponse:
    actor, hub = await _conference(request)
    if not roles_in(hub.state, actor) & STAFF_ROLES:
        raise ApiError("forbidden", "only the conference's staff may read its whole log")
    try:
        after = int(request.query.get("after", "0"))
        limit = int(request.query.get("limit", "1000"))
    except ValueError:
        raise ApiError("bad_request", "after and limit are whole numbers") from None
    if not 0 <= after < 2**53 or not 1 <= limit <= 5000:
        raise ApiError("bad_request", "after: from 0; limit: from 1 to 5000")
    recs = await hub.store.read(hub.name, after, limit=limit)
    return ok({"events": [{"seq": r.seq, "event": json.loads(r.data)} for r in recs]})


@routes.route("GET", "/conferences/{conf_id}/links", "Join links of the invited sites (issued when missing)", auth="admin")
async def conference_links(request: web.Request) -> web.StreamResponse:
    conf_id = request.match_info["conf_id"]
    actor = actor_of(request, conf_id)
    if not actor.admin:
        raise ApiError("forbidden", "only an admin may hand out join links")
    svc = service_of(request)
    tokens = await svc.ensure_links(conf_id)
    hub = await svc.conference_hub(conf_id)
    rows = []
    for code, site in hub.state.sites.items():
        status, generation = svc.identity.link_status(conf_id, code)
        link = svc.links.state.links.get((conf_id, code))
        rows.append({"site": code, "name": site.name, "status": status, "generation": generation,
                     "url": svc.identity.join_url(tokens[code]) if code in tokens else None,
                     "expires_at": link.expires_at.isoformat() if link else None})
    if request.query.get("format") == "csv":
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["site", "name", "url", "expires_at"])
        for r in rows:
            w.writerow([r["site"], r["name"], r["url"] or "", r["expires_at"] or ""])
        return web.Response(text=safe_csv(out.getvalue()), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": f"attachment; filename=links-{conf_id}.csv"})
    return ok({"links": rows})


@routes.route("POST", "/conferences/{conf_id}/links/{site}/revoke", "Revoke a site's join link", auth="admin")
async def revoke_link(request: web.Request) -> web.StreamResponse:
    conf_id, site = request.match_info["conf_id"], request.match_info["site"]
    out = await service_of(request).run_links(RevokeLink(key=f"rest-{uuid.uuid4().hex}", conference_id=conf_id, site=site),
                                        actor_of(request, conf_id))
    return ok(ack(out))


@routes.route("POST", "/conferences/{conf_id}/links/{site}/reissue", "Re-issue a site's join link (the old one stops working)",
       auth="admin")
async def reissue_link(request: web.Request) -> web.StreamResponse:
    conf_id, site = request.match_info["conf_id"], request.match_info["site"]
    actor = actor_of(request, conf_id)
    svc = service_of(request)
    hub = await svc.conference_hub(conf_id)
    if site not in hub.state.sites:
        raise ApiError("site_not_invited", f"site {site} is not invited to {conf_id}")
    link = svc.links.state.links.get((conf_id, site))
    expires = link.expires_at if link and link.expires_at > svc.clock() else max(hub.state.ends_at, svc.clock())
    expires = max(expires, svc.clock() + timedelta(days=1))
    await svc.run_links(IssueLink(key=f"rest-{uuid.uuid4().hex}", conference_id=conf_id, site=site,
                                  expires_at=expires), actor)
    return ok({"site": site, "url": svc.identity.join_url(svc.identity.link_token(conf_id, site))})


# -- action items across conferences -------------------------------------------------------

@routes.route("GET", "/actions", "Action items of the conferences the caller has a role in (filters: conference, site, "
       "status, overdue=1)", auth="any")
async def list_actions(request: web.Request) -> web.StreamResponse:
    svc = service_of(request)
    return ok({"actions": select_actions(svc, actor_of(request), request.query),
               "today": svc.clock().date().isoformat()})
