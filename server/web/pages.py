"""The HTML pages of bridgeconf and their static files (the assets of ``client_web/``),
added to the server's app.

    /                     the signed-in person's conferences (and where to go for each)
    /login                sign in
    /admin                directory, accounts, conferences, join links, agendas
    /c/{conf}/chair       the chair console (main bridge)
    /c/{conf}/secretary   the secretary desk (and, after the meeting, the minutes' approval,
                          distribution and receipts)
    /actions              the action items of every conference (staff's dashboard)
    /recommendations      the wards' recommendations of every conference, exported as CSV/XLSX
    /join/{token}         a site's page, opened by its join link (the main bridge's page when
                          the link is the main site's); no account needed
    /static/...           CSS, ES modules (no build step)

A page is a jinja2 template with its labels in the chosen language, the JavaScript string
table of that language, and a small JSON config (conference, who you are, the CSRF token);
everything live comes over /ws. The routes only authenticate and pick the template: what
a person may do is decided by the domain when the page sends a command.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

import client_web
from client_web import i18n
from client_web.strings import PAGE_STRINGS, js_table
from scheduling import STAFF_ROLES, Actor, ActorKind, DomainError, ErrorCode, Role, roles_in

from ..service.identity import AuthError
from ..service.keys import COOKIE, SERVICE

ASSETS = Path(client_web.__file__).parent
STATIC = ASSETS / "static"
TEMPLATES = ASSETS / "templates"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob: mediastream:; connect-src 'self' ws: wss:; font-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def add_pages(app: web.Application) -> None:
    app.router.add_get("/", home, name="home")
    app.router.add_get("/login", login_page, name="login")
    app.router.add_get("/admin", admin_page, name="admin")
    app.router.add_get("/c/{conf}/chair", chair_page, name="chair")
    app.router.add_get("/c/{conf}/secretary", secretary_page, name="secretary")
    app.router.add_get("/c/{conf}/recordings", recordings_page, name="recordings")
    app.router.add_get("/actions", actions_page, name="actions")
    app.router.add_get("/recommendations", recommendations_page, name="recommendations")
    app.router.add_get("/join/{token}", join_page, name="join")
    app.router.add_static("/static/", STATIC, name="static", follow_symlinks=False)
    app.on_response_prepare.append(_headers)


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-cache")   # revalidate: no stale modules after an upgrade
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    elif response.content_type == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # join links carry the site's token in the path: never hand it to another site
        response.headers.setdefault("Referrer-Policy", "no-referrer")


# -- rendering -----------------------------------------------------------------------------

@cache
def _env(lang: str) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, extensions=["jinja2.ext.i18n"],
                      trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["num"] = lambda v: i18n.number(lang, v)
    env.filters["day"] = i18n.day
    env.filters["clock"] = i18n.clock
    return env


@cache
def _asset_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(str(path.stat().st_mtime_ns).encode())
    return digest.hexdigest()[:10]


def _script_json(data: Any) -> Markup:
    """JSON to sit inside <script type="application/json">: no '<' can close the element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def language(request: web.Request) -> str:
    return i18n.pick(request.query.get("lang") or request.cookies.get(i18n.LANG_COOKIE))


def render(request: web.Request, template: str, *, page: str, config: dict[str, Any] | None = None,
           status: int = 200, **context: Any) -> web.Response:
    lang = language(request)
    cfg = {"page": page, "lang": lang, **(config or {})}
    html = _env(lang).get_template(template).render(
        lang=lang, page=page, languages=i18n.LANGUAGE_NAMES, large=request.cookies.get("bc_large") == "1",
        version=_asset_version(), config_json=_script_json(cfg), strings_json=_script_json(js_table(lang)),
        lang_url=lambda code: _with_lang(request, code), **context)
    resp = web.Response(text=html, content_type="text/html", charset="utf-8", status=status)
    if "lang" in request.query and request.query["lang"] in i18n.LANGUAGES:
        resp.set_cookie(i18n.LANG_COOKIE, lang, max_age=365 * 86400, path="/", samesite="Lax")
    return resp


def _with_lang(request: web.Request, code: str) -> str:
    query = {k: v for k, v in request.query.items() if k != "lang"}
    query["lang"] = code
    return request.path + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in query.items())


def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return render(request, "error.html", page="error", status=status, title=title, message=message)


# -- who is asking -------------------------------------------------------------------------

def _account(request: web.Request) -> tuple[Actor, str] | None:
    token = request.cookies.get(COOKIE, "")
    if not token:
        return None
    try:
        return request.app[SERVICE].identity.session_actor(token), token
    except AuthError:
        return None


def _to_login(request: web.Request) -> web.HTTPFound:
    return web.HTTPFound("/login?next=" + quote(request.path_qs, safe=""))


def _you(request: web.Request, actor: Actor, token: str) -> dict[str, Any]:
    service = request.app[SERVICE]
    acc = service.accounts.state.accounts.get(actor.id)
    return {"id": actor.id, "name": acc.name if acc else actor.id, "admin": actor.admin,
            "csrf": service.identity.signer.csrf_for(token)}


def _t(request: web.Request, key: str) -> str:
    """A message of the server-rendered pages (``client_web.strings.PAGE_STRINGS``), in the
    request's language."""
    return i18n.gettext(language(request), PAGE_STRINGS[key])


# -- pages ---------------------------------------------------------------------------------

NEXT_RE = re.compile(r"/(?![/\\])[!-~]{0,2000}\Z")
"""Where sign-in may send the browser: a path of this site. Not ``//host`` nor ``/\\host``
(browsers read a backslash as a slash), no space or control character (browsers drop tabs
and newlines, which would join ``/`` and ``\\`` again), no other backslash."""


def safe_next(nxt: str) -> str:
    return nxt if NEXT_RE.match(nxt) and "\\" not in nxt else "/"


async def login_page(request: web.Request) -> web.StreamResponse:
    return render(request, "login.html", page="login", config={"next": safe_next(request.query.get("next", "/"))})


async def home(request: web.Request) -> web.StreamResponse:
    who = _account(request)
    if who is None:
        raise _to_login(request)
    actor, token = who
    service = request.app[SERVICE]
    rows = []
    for hub in service.conferences.values():
        state = hub.state
        if state is None:
            continue
        roles = roles_in(state, actor)
        if not roles:
            continue
        rows.append({"id": state.conference_id, "title": state.title, "phase": state.phase.value,
                     "starts_at": state.starts_at, "ends_at": state.ends_at, "tz": state.timezone,
                     "sites": len(state.sites) - 1, "chair": Role.CHAIR in roles or Role.ADMIN in roles
                     or Role.OBSERVER in roles,
                     "secretary": bool(roles & {Role.SECRETARY, Role.CHAIR, Role.ADMIN, Role.OBSERVER}),
                     "roles": sorted(r.value for r in roles)})
    rows.sort(key=lambda r: r["starts_at"], reverse=True)
    you = _you(request, actor, token)
    return render(request, "home.html", page="home", config={"you": you, "csrf": you["csrf"]}, you=you,
                  conferences=rows)


async def admin_page(request: web.Request) -> web.StreamResponse:
    who = _account(request)
    if who is None:
        raise _to_login(request)
    actor, token = who
    if not actor.admin:
        return error_page(request, 403, _t(request, "page.not_allowed"),
                          _t(request, "page.admin_only"))
    you = _you(request, actor, token)
    return render(request, "admin.html", page="admin", config={"you": you, "csrf": you["csrf"]}, you=you)


async def _conference_page(request: web.Request, template: str, page: str, allowed: frozenset[Role]) -> web.StreamResponse:
    who = _account(request)
    if who is None:
        raise _to_login(request)
    actor, token = who
    conf_id = request.match_info["conf"]
    try:   # one answer for a conference that does not exist and one not yours (but to an admin)
        hub, roles = await request.app[SERVICE].conference_for(conf_id, actor)
    except DomainError as exc:
        if exc.code is ErrorCode.NO_CONFERENCE:
            return error_page(request, 404, _t(request, "page.no_conference"),
                              _t(request, "page.no_conference.hint"))
        roles = frozenset()
    if not roles & allowed:
        return error_page(request, 403, _t(request, "page.not_allowed"),
                          _t(request, "page.no_role"))
    state = hub.state
    assert state is not None
    you = {**_you(request, actor, token), "roles": sorted(r.value for r in roles)}
    config = {"conference": state.conference_id, "tz": state.timezone, "you": you, "csrf": you["csrf"]}
    return render(request, template, page=page, config=config, you=you, title=state.title,
                  conference=state.conference_id)


async def chair_page(request: web.Request) -> web.StreamResponse:
    return await _conference_page(request, "chair.html", "chair", STAFF_ROLES)


async def secretary_page(request: web.Request) -> web.StreamResponse:
    return await _conference_page(request, "secretary.html", "secretary", STAFF_ROLES)


async def recordings_page(request: web.Request) -> web.StreamResponse:
    """The program's recordings with their chapters, played in the page (static/js/recordings.js)."""
    return await _conference_page(request, "recordings.html", "recordings", STAFF_ROLES)


async def actions_page(request: web.Request) -> web.StreamResponse:
    """The action items of every conference: the page lists them with the REST API
    (``GET /api/v1/actions``), which decides what the account may see."""
    who = _account(request)
    if who is None:
        raise _to_login(request)
    actor, token = who
    you = _you(request, actor, token)
    return render(request, "actions.html", page="actions", config={"you": you, "csrf": you["csrf"]}, you=you)


async def recommendations_page(request: web.Request) -> web.StreamResponse:
    """The recommendations of every conference (by ward, field, department, overdue), read
    with ``GET /api/v1/recommendations``, which decides what the account may see."""
    who = _account(request)
    if who is None:
        raise _to_login(request)
    actor, token = who
    you = _you(request, actor, token)
    return render(request, "recommendations.html", page="recommendations", config={"you": you, "csrf": you["csrf"]},
                  you=you)


async def join_page(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    service = request.app[SERVICE]
    try:
        conf_id, actor = service.identity.site_actor(token)
        if conf_id is None or actor.kind is not ActorKind.SITE:
            raise AuthError("bad_token", "not a join link")
        hub = await service.conference_hub(conf_id)
    except AuthError as exc:
        message = {"token_expired": _t(request, "page.link_expired"),
                   "token_revoked": _t(request, "page.link_revoked"),
                   }.get(exc.code, _t(request, "page.link_invalid"))
        return error_page(request, 401, _t(request, "page.link_refused"),
                          message + " " + _t(request, "page.link_ask"))
    except DomainError:
        return error_page(request, 404, _t(request, "page.no_conference"),
                          _t(request, "page.no_conference.hint"))
    state = hub.state
    assert state is not None
    site = state.sites.get(actor.id)
    if site is None:
        return error_page(request, 403, _t(request, "page.not_invited"),
                          _t(request, "page.not_invited.hint"))
    main = actor.id == state.main_site
    config = {"conference": state.conference_id, "tz": state.timezone, "token": token,
              "site": {"code": site.code, "name": site.name, "main": main,
                       "expected": site.expected_headcount}}
    return render(request, "site.html", page="main" if main else "site", config=config,
                  title=state.title, site=site, main=main)
