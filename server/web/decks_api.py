"""The REST routes of slide decks: upload a PDF to a conference (it is rendered to page
images, then ``attach_deck`` records its name, size, pages and SHA-256), list a conference's
decks, and the page images themselves at immutable, cacheable URLs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from scheduling import AttachDeck, ConferenceState, DomainError, decide, roles_in
from scheduling.base import check_text

from ..documents.deck_render import WIDTHS
from ..documents.decks import IMAGE_TYPE, DeckError, DeckStore
from .http import ApiError, ack, actor_of, command_key, ok, service_of
from .routes import RouteTable

routes = RouteTable()

DECKS: web.AppKey[DeckStore] = web.AppKey("decks", DeckStore)
"""The rendered decks (set by ``server.app``)."""

IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}
CHUNK = 256 * 1024


def deck_view(state: ConferenceState, deck_id: str) -> dict[str, Any]:
    deck = state.presentation.decks[deck_id]
    return {"deck_id": deck.deck_id, "name": deck.name, "size": deck.size, "pages": deck.pages,
            "sha256": deck.sha256, "item_id": deck.item_id, "widths": list(WIDTHS),
            "page_url": f"/api/v1/decks/{deck.sha256}/{{width}}/{{page}}.webp"}


@routes.route("POST", "/conferences/{conf_id}/decks", "Attach a slide deck: the PDF as the body (Content-Type "
              "application/pdf, at most 50 MB and 300 pages), ?name=FILE.pdf&item_id=ID; rendered to page images "
              "at 640, 1280 and 1920 px, then recorded (attach_deck)", auth="any")
async def upload_deck(request: web.Request) -> web.StreamResponse:
    conf_id = request.match_info["conf_id"]
    actor = actor_of(request, conf_id)
    svc = service_of(request)
    hub = await svc.conference_hub(conf_id)
    name = request.query.get("name", "").strip() or "deck.pdf"
    item_id = request.query.get("item_id") or None
    try:
        check_text("name", name, max_len=200)
        probe = AttachDeck(key="probe", deck_id="probe", name=name, size=1, pages=1, sha256="0" * 64, item_id=item_id)
        decide(hub.state, probe, actor, now=svc.clock())   # may this actor attach here? (nothing is recorded)
    except DomainError as exc:
        if exc.code != "deck_exists":
            raise
    if request.content_type not in ("application/pdf", "application/octet-stream"):
        raise ApiError("deck_not_pdf", "send the PDF itself as the body, with Content-Type: application/pdf")
    store = request.app[DECKS]
    if request.content_length is not None and request.content_length > store.max_bytes:
        raise ApiError("deck_too_large", f"the PDF is over {store.max_bytes // (1024 * 1024)} MB")

    async def chunks() -> AsyncIterator[bytes]:
        async for chunk in request.content.iter_chunked(CHUNK):
            yield chunk

    try:
        rendered = await store.take(chunks())
    except DeckError as exc:   # nothing was recorded, nothing half-rendered is kept
        raise ApiError(exc.code, exc.message) from None
    deck_id = f"d-{rendered.sha256[:12]}"
    state = hub.state
    if deck_id not in state.presentation.decks:
        cmd = AttachDeck(key=command_key({}), deck_id=deck_id, name=name, size=rendered.size, pages=rendered.pages,
                         sha256=rendered.sha256, item_id=item_id)
        try:
            out = await svc.run_conference(conf_id, cmd, actor)
        except DomainError as exc:   # the same PDF, uploaded twice at once: the other one recorded it
            if exc.code != "deck_exists":
                raise
            return ok(deck_view(hub.state, deck_id))
        return ok({**deck_view(hub.state, deck_id), "ack": ack(out), "render_seconds": round(rendered.seconds, 2)},
                  status=201)
    return ok(deck_view(state, deck_id))   # already attached (the same file again): nothing new


@routes.route("GET", "/conferences/{conf_id}/decks", "The conference's slide decks, with the URL pattern of their "
              "page images", auth="any")
async def list_decks(request: web.Request) -> web.StreamResponse:
    conf_id = request.match_info["conf_id"]
    actor = actor_of(request, conf_id)
    hub = await service_of(request).conference_hub(conf_id)
    if not roles_in(hub.state, actor):
        raise ApiError("forbidden", "you have no role in this conference")
    return ok({"decks": [deck_view(hub.state, d) for d in hub.state.presentation.decks]})


@routes.route("GET", "/decks/{sha256}/{width}/{page}.webp", "One page of a deck as WebP (width 640, 1280 or 1920): "
              "immutable, cacheable by anyone (the URL holds the PDF's SHA-256); a process that has not rendered the "
              "deck renders it from the kept PDF first (503 deck_busy when too many renders wait)", auth="none")
async def deck_page(request: web.Request) -> web.StreamResponse:
    store: DeckStore = request.app[DECKS]
    try:
        width, page = int(request.match_info["width"]), int(request.match_info["page"])
    except ValueError:
        raise ApiError("not_found", "no such page image") from None
    try:   # rendered here, or now from the kept PDF (another process took the upload)
        path = await store.page(request.match_info["sha256"], width, page)
    except DeckError as exc:
        raise ApiError(exc.code, exc.message) from None
    if path is None:
        raise ApiError("not_found", "no such page image")
    return web.FileResponse(path, headers={**IMMUTABLE, "Content-Type": IMAGE_TYPE})
