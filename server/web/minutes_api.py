"""REST routes of the after-the-meeting work (and so in the OpenAPI document):

    GET  /conferences/{conf_id}/minutes                    versions, the draft, the receipts tracker
    GET  /conferences/{conf_id}/minutes/content            the draft's content (JSON), any phase
    GET  /conferences/{conf_id}/minutes/{file}             draft.html|pdf|docx, or <version>.html|pdf|docx
    GET  /conferences/{conf_id}/minutes/{version}/receipts.csv
    GET  /conferences/{conf_id}/follow-up                  the open action items of the series' previous conference
    POST /conferences/{conf_id}/follow-up                  add them as an agenda item reviewing them
    GET  /conferences/{conf_id}/invite.ics                 the conference as an iCalendar invite
    GET  /actions.csv | /actions.xlsx | /actions.ics       the action-item dashboard as files

Thin: authenticate, read the state, call the domain or a builder of documents/exports.py. Staff are
the conference's admin, chair, secretaries and observers. A site reads a version only when
it was distributed to it, with its join-link token in the Authorization header or, as the
inbox opens a new tab, in ``?token=``.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

from aiohttp import web

from scheduling import (
    FOLLOW_UP_ITEM,
    FOLLOW_UP_TITLE,
    STAFF_ROLES,
    Actor,
    ActorKind,
    AddAgendaItem,
    ConferenceState,
    OpenMinutes,
    Phase,
    Role,
    action_snapshot,
    follow_up_ref,
    minutes_content,
    open_actions,
    previous_in_series,
)
from scheduling.codec import from_plain, to_plain

from ..documents import (
    DocumentError,
    Rendered,
    RenderOptions,
    approved_source,
    source_for,
    verify_chain,
)
from ..documents.exports import (
    account_mail,
    actions_csv,
    actions_ics,
    actions_xlsx,
    invite_ics,
    place_of,
    receipts_csv,
    tracker,
    tracker_totals,
)
from ..documents.formats import filename
from ..documents.render_cache import render_minutes
from ..service.read_models import select_actions
from ..service.service import Service
from .http import ApiError, actor_of, json_body, ok, service_of
from .routes import RouteTable

routes = RouteTable()

FILE_RE = re.compile(r"^(draft|[1-9][0-9]{0,5})\.(html|pdf|docx)\Z")
# a minutes document is a static page: no script, no request; inline styles only
DOCUMENT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
                "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _state(request: web.Request, actor: Actor) -> tuple[ConferenceState, frozenset[Role]]:
    """``forbidden`` alike for a conference that does not exist and one not the caller's."""
    hub, roles = await service_of(request).conference_for(request.match_info["conf_id"], actor)
    state = hub.state
    assert state is not None   # conference_hub refuses a conference being created
    return state, roles


async def _staff(request: web.Request) -> tuple[Actor, ConferenceState]:
    actor = actor_of(request, request.match_info["conf_id"])
    state, roles = await _state(request, actor)
    if not roles & STAFF_ROLES:
        raise ApiError("forbidden", "only the conference's staff may see this")
    return actor, state


def _reader(request: web.Request) -> Actor:
    """An account (session) or a site (join link), from the headers or from ``?token=`` (a
    GET only: this never writes anything but the site's own receipt)."""
    conf_id = request.match_info.get("conf_id")
    token = request.query.get("token", "")
    if token and "Authorization" not in request.headers:
        return service_of(request).identity.actor_for(token[:4096], conf_id)[1]
    return actor_of(request, conf_id)


def _version(text: str) -> int:
    if not text.isdigit() or len(text) > 6:
        raise ApiError("bad_request", f"version: {text[:20]!r} is not a version number")
    return int(text)


def _lang(request: web.Request) -> str:
    return request.query.get("lang", "vi")[:10]


def _document(doc: Rendered, *, download: bool) -> web.Response:
    inline = not download and not doc.filename.endswith(".docx")
    return web.Response(body=doc.body, headers={
        "Content-Type": doc.media_type,
        "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{doc.filename}"',
        "Content-Security-Policy": DOCUMENT_CSP, "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"})


def _file(body: bytes | str, media_type: str, filename: str) -> web.Response:
    return web.Response(body=body.encode() if isinstance(body, str) else body, headers={
        "Content-Type": media_type, "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


# -- the minutes -----------------------------------------------------------------------------------

@routes.route("GET", "/conferences/{conf_id}/minutes", "Minutes: approved versions (hash chain), the draft, and per "
       "version the receipts tracker (delivered/opened/acknowledged, reminders, e-mail) (staff)")
async def minutes_overview(request: web.Request) -> web.StreamResponse:
    _, state = await _staff(request)
    svc = service_of(request)
    names = svc.names()
    base = f"/api/v1/conferences/{state.conference_id}/minutes"
    ended = state.phase is Phase.ENDED
    versions = []
    for v in state.minutes.approved:
        rows = tracker(state, v.version, svc.directory.state.sites)
        by = v.approved_by.partition(":")[2]
        versions.append({
            "version": v.version, "sha256": v.sha256, "prev_sha256": v.prev_sha256,
            "approved_at": v.approved_at.isoformat(), "approved_by": by, "approved_by_name": names.get(by, by),
            "files": {fmt: f"{base}/{v.version}.{fmt}" for fmt in ("html", "pdf", "docx")},
            "number": v.content.get("record", {}).get("number_text", ""),
            "signature": ("signed" if svc.records.is_signed(approved_source(v)) else "pending")
            if svc.records.signing.signer else "not_signed",
            "receipts_csv": f"{base}/{v.version}/receipts.csv",
            "totals": tracker_totals(rows), "receipts": rows,
            "accounts": account_mail(state, v.version, svc.accounts.state.accounts)})
    return ok({
        "conference_id": state.conference_id, "title": state.title, "phase": state.phase.value,
        "timezone": state.timezone,
        "draft": {"version": state.minutes.draft_version, "editing": state.minutes.editing,
                  "files": {fmt: f"{base}/draft.{fmt}" for fmt in ("html", "pdf", "docx")} if ended else {}},
        "chain": verify_chain(state.minutes.approved).to_dict(), "versions": versions})


@routes.route("GET", "/conferences/{conf_id}/minutes/content", "The draft minutes' content as JSON, for the "
       "secretaries' live preview (staff; any phase)")
async def minutes_draft_content(request: web.Request) -> web.StreamResponse:
    _, state = await _staff(request)
    svc = service_of(request)
    await svc.load_reviewed(state)
    return ok({"version": state.minutes.draft_version, "editing": state.minutes.editing, "seq": state.version,
               "content": minutes_content(state, svc.minutes_inputs(state))})


@routes.route("GET", "/conferences/{conf_id}/minutes/{file}", "A minutes document: draft.html|pdf|docx (staff, once "
       "the conference has ended) or <version>.html|pdf|docx (staff, or a site it was sent to: join-link token "
       "in Authorization or ?token=); ?lang=en, ?download=1", auth="any")
async def minutes_document(request: web.Request) -> web.StreamResponse:
    found = FILE_RE.match(request.match_info["file"])
    if found is None:
        raise ApiError("not_found", "a minutes file is draft.html|pdf|docx or <version>.html|pdf|docx")
    which, fmt = found.groups()
    actor = _reader(request)
    state, roles = await _state(request, actor)
    svc = service_of(request)
    version = None if which == "draft" else int(which)
    if not roles & STAFF_ROLES:
        if actor.kind is not ActorKind.SITE or Role.SITE not in roles:
            raise ApiError("forbidden", "you have no role in this conference")
        if version is None:
            raise ApiError("forbidden", "a site reads the approved minutes sent to it, not the draft")
        if actor.id not in state.minutes.receipts.get(version, {}):
            raise ApiError("not_distributed", f"version {version} of the minutes was not sent to site {actor.id}")
    inputs = None
    if version is None:
        await svc.load_reviewed(state)
        inputs = svc.minutes_inputs(state)
    source = source_for(state, version, inputs)
    if isinstance(source, DocumentError):
        raise ApiError(str(source.code), source.message)
    options = RenderOptions(lang=_lang(request), names=svc.names(), place=place_of(state))
    doc: Rendered | DocumentError | None = None
    if fmt == "pdf" and version is not None and options.lang == "vi":   # the signed original (records.py)
        doc = await asyncio.to_thread(svc.records.signed_pdf, source, options, filename(source, "pdf"))
    if doc is None:
        doc = await asyncio.to_thread(render_minutes, source, fmt, options)
    if isinstance(doc, DocumentError):
        raise ApiError(str(doc.code), doc.message)
    if actor.kind is ActorKind.SITE and version is not None and \
            state.minutes.receipts[version][actor.id].opened_at is None:
        await svc.run_conference(state.conference_id, OpenMinutes(key=f"open-v{version}", version=version,
                                                                  site=actor.id), actor)
    return _document(doc, download=request.query.get("download") in ("1", "true"))


@routes.route("GET", "/conferences/{conf_id}/minutes/{version}/receipts.csv", "The receipts tracker of a version as "
       "CSV (staff)")
async def minutes_receipts_csv(request: web.Request) -> web.StreamResponse:
    _, state = await _staff(request)
    version = _version(request.match_info["version"])
    if not 1 <= version <= len(state.minutes.approved):
        raise ApiError("unknown_version", f"no approved version {version} of the minutes")
    rows = tracker(state, version, service_of(request).directory.state.sites)
    return _file(receipts_csv(rows, _lang(request)), "text/csv; charset=utf-8", f"bien-ban-{state.conference_id}-v{version}-nhan.csv")


# -- follow-up across a series -------------------------------------------------------------------

def _follow_up(svc: Service, state: ConferenceState) -> tuple[ConferenceState | None, list[dict[str, Any]]]:
    others = [h.state for h in svc.conferences.values() if h.state is not None]
    prev = previous_in_series(others, state)
    if prev is None:
        return None, []
    today = svc.clock().astimezone(state.tz).date()
    return prev, [to_plain(action_snapshot(prev, a.action_id, today)) for a in open_actions(prev)]


@routes.route("GET", "/conferences/{conf_id}/follow-up", "The open action items of the previous conference of the "
       "series, offered as an agenda item reviewing them (staff)")
async def follow_up_offer(request: web.Request) -> web.StreamResponse:
    _, state = await _staff(request)
    prev, actions = _follow_up(service_of(request), state)
    refs = {a["ref"] for a in actions}
    added = next((i.item_id for i in state.agenda if refs & set(i.follow_up)), None)
    return ok({"conference_id": state.conference_id, "series": state.series,
               "previous": None if prev is None else {
                   "conference_id": prev.conference_id, "title": prev.title, "phase": prev.phase.value,
                   "starts_at": prev.starts_at.isoformat()},
               "item": {"item_id": FOLLOW_UP_ITEM, "title": FOLLOW_UP_TITLE, "follow_up": [a["ref"] for a in actions]},
               "actions": actions, "added_as": added})


@routes.route("POST", "/conferences/{conf_id}/follow-up", "Add the follow-up agenda item {actions?: [ids], item_id?, "
       "title?, planned_minutes?, position?, key?}: it reviews those (default: all open) action items")
async def follow_up_add(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request, request.match_info["conf_id"])
    body = await json_body(request)
    state, _ = await _state(request, actor)
    prev, actions = _follow_up(service_of(request), state)
    if prev is None:
        raise ApiError("no_follow_up", f"conference {state.conference_id} has no earlier conference in its series"
                       + (f" {state.series!r}" if state.series else " (it has no series)"))
    chosen = body.get("actions")
    open_ids = [a["action_id"] for a in actions]
    if chosen is None:
        chosen = open_ids
    if not isinstance(chosen, list) or not all(isinstance(a, str) for a in chosen):
        raise ApiError("bad_request", "actions: a list of action item ids")
    unknown = [a for a in chosen if a not in open_ids]
    if unknown:
        raise ApiError("unknown_action", f"not an open action item of {prev.conference_id}: {', '.join(unknown[:10])}")
    if not chosen:
        raise ApiError("no_follow_up", f"{prev.conference_id} has no open action item to review")
    fields: dict[str, Any] = {k: body[k] for k in ("item_id", "title", "planned_minutes", "position", "presenter")
                              if k in body}
    cmd_data = {"key": body.get("key") or f"rest-{uuid.uuid4().hex}", "item_id": FOLLOW_UP_ITEM,
                "title": FOLLOW_UP_TITLE, **fields,
                "follow_up": [follow_up_ref(prev.conference_id, a) for a in chosen]}
    cmd = from_plain(AddAgendaItem, cmd_data)
    out = await service_of(request).run_conference(state.conference_id, cmd, actor)
    return ok({"seq": out.seq, "replayed": out.replayed, "events": len(out.events), "item_id": cmd.item_id,
               "follow_up": list(cmd.follow_up)}, status=201)


# -- calendars and the action-item dashboard as files ---------------------------------------------

@routes.route("GET", "/conferences/{conf_id}/invite.ics", "The conference as an iCalendar invite (staff, or an invited "
       "site with its join-link token)", auth="any")
async def conference_invite(request: web.Request) -> web.StreamResponse:
    actor = _reader(request)
    state, roles = await _state(request, actor)
    if not roles:
        raise ApiError("forbidden", "you have no role in this conference")
    svc = service_of(request)
    base = svc.config.base_url
    if actor.kind is ActorKind.SITE:
        url = svc.identity.join_url(svc.identity.link_token(state.conference_id, actor.id))
    else:
        page = "chair" if Role.CHAIR in roles else "secretary" if Role.SECRETARY in roles else ""
        url = f"{base}/c/{state.conference_id}/{page}" if page else f"{base}/"
    body = invite_ics(state, now=svc.clock(), url=url, host=_host(base))
    return _file(body, "text/calendar; charset=utf-8", f"hoi-nghi-{state.conference_id}.ics")


def _suffix(query: Any) -> str:
    return "-" + query["conference"] if "conference" in query and re.fullmatch(r"[A-Za-z0-9_.-]{1,64}",
                                                                               query["conference"]) else ""


@routes.route("GET", "/actions.csv", "Action items as CSV (UTF-8 with BOM; the filters of /actions; ?lang=en)", auth="any")
async def actions_as_csv(request: web.Request) -> web.StreamResponse:
    rows = select_actions(service_of(request), actor_of(request), request.query)
    return _file(actions_csv(rows, _lang(request)), "text/csv; charset=utf-8",
                 f"nhiem-vu{_suffix(request.query)}-{_today(request)}.csv")


@routes.route("GET", "/actions.xlsx", "Action items as an Excel workbook (the filters of /actions; ?lang=en)", auth="any")
async def actions_as_xlsx(request: web.Request) -> web.StreamResponse:
    rows = select_actions(service_of(request), actor_of(request), request.query)
    body = await asyncio.to_thread(actions_xlsx, rows, _lang(request))
    return _file(body, XLSX, f"nhiem-vu{_suffix(request.query)}-{_today(request)}.xlsx")


@routes.route("GET", "/actions.ics", "Action items' due dates as iCalendar: a VTODO each, or ?as=event an all-day "
       "VEVENT (the filters of /actions)", auth="any")
async def actions_as_ics(request: web.Request) -> web.StreamResponse:
    svc = service_of(request)
    rows = select_actions(svc, actor_of(request), request.query)
    body = actions_ics(rows, now=svc.clock(), as_events=request.query.get("as") == "event",
                       host=_host(svc.config.base_url))
    return _file(body, "text/calendar; charset=utf-8", f"nhiem-vu{_suffix(request.query)}.ics")


def _today(request: web.Request) -> str:
    return service_of(request).clock().date().isoformat()


def _host(base_url: str) -> str:
    return base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "bridgeconf"
