"""REST routes of conference documents and uploaded files, in the route table of api.py:

    POST /conferences/{conf_id}/files?name=N               upload one file (raw body, Content-Type the file's
                                                           type): a recommendation's attachment; answers its
                                                           {name, size, content_type, sha256}
    POST /conferences/{conf_id}/documents?name=N[&item_id=I][&document_id=D]
                                                           upload a conference document and add it (staff)
    GET  /conferences/{conf_id}/documents                  the documents; staff get each site's receipts,
                                                           a site its own (``new`` until it opens one)
    GET  /conferences/{conf_id}/documents/{document_id}    the file (``?download=1`` as an attachment); a
                                                           site's first opening/download is its receipt
    GET  /conferences/{conf_id}/files/{sha256}             a recommendation's attachment, to whoever may see
                                                           the conference

Files are kept by server/blobs.py, content-addressed; uploads are checked (size, content
against the declared type, no script). Files are served with their own type only (never
text/html), ``X-Content-Type-Options: nosniff``, a ``Content-Disposition`` and a restrictive
CSP; a PDF gets no ``sandbox`` in its CSP, which would blank Chrome's PDF viewer (a PDF cannot
run script in the page's origin: its JavaScript, which uploads refuse anyway, runs in the
viewer's own sandbox).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from aiohttp import web

from scheduling import (
    STAFF_ROLES,
    Actor,
    ActorKind,
    AddDocument,
    ConferenceState,
    FileRef,
    RecordDocumentReceipt,
    Role,
    roles_in,
)
from scheduling.codec import to_plain
from scheduling.documents import KEEPERS
from scheduling.ward_records import MAX_FILE_BYTES

from ..service.blobs import CHUNK, PDF, BlobError, BlobStore, check_name
from ..service.service import Service
from .http import ApiError, actor_of, ok, service_of
from .routes import RouteTable

routes = RouteTable()

INLINE_TYPES = frozenset({PDF, "image/png", "image/jpeg"})
# a served file is never a page of ours: no script, no frame of another origin, nothing posted
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
IMAGE_CSP = FILE_CSP + "; sandbox"


def blob_store(svc: Service) -> BlobStore:
    return BlobStore(svc.config.data_dir / "blobs")


async def _state(request: web.Request, actor: Actor) -> tuple[ConferenceState, frozenset[Role]]:
    hub = await service_of(request).conference_hub(request.match_info["conf_id"])
    state = hub.state
    assert state is not None   # conference_hub refuses a conference being created
    roles = roles_in(state, actor)
    if not roles:
        raise ApiError("forbidden", "you have no role in this conference")
    return state, roles


def _reader(request: web.Request) -> Actor:
    """An account or a site, from the headers or, for a GET opened in a new tab, ``?token=``."""
    conf_id = request.match_info.get("conf_id")
    token = request.query.get("token", "")
    if request.method == "GET" and token and "Authorization" not in request.headers:
        return service_of(request).identity.actor_for(token[:4096], conf_id)[1]
    return actor_of(request, conf_id)


async def _chunks(request: web.Request) -> AsyncIterator[bytes]:
    while True:
        chunk = await request.content.read(CHUNK)
        if not chunk:
            return
        yield chunk


async def _upload(request: web.Request) -> FileRef:
    """Read, check and keep the request's body; the FileRef the log will hold."""
    name = request.query.get("name", "")
    content_type = request.content_type
    try:
        check_name(name, content_type)
        declared = request.content_length
        store = blob_store(service_of(request))
        if declared is not None and declared > MAX_FILE_BYTES:
            raise BlobError("too_large", f"a file has at most {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        stored = await store.put(_chunks(request), content_type)
    except BlobError as exc:
        raise ApiError(exc.code, exc.message) from None
    return FileRef(name=name, size=stored.size, content_type=stored.content_type, sha256=stored.sha256)


@routes.route("POST", "/conferences/{conf_id}/files", "Upload a file (raw body; Content-Type: PDF, DOCX, XLSX, PPTX, "
       "PNG or JPEG; ?name=): checked and kept content-addressed; answers {name, size, content_type, sha256} to "
       "attach to a recommendation (staff or an invited site)", auth="any")
async def upload_file(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request, request.match_info["conf_id"])
    _, roles = await _state(request, actor)
    if roles <= {Role.OBSERVER}:
        raise ApiError("forbidden", "an observer does not upload files")
    return ok(to_plain(await _upload(request)), status=201)


@routes.route("POST", "/conferences/{conf_id}/documents", "Upload a conference document and add it (raw body; "
       "?name=, ?item_id=, ?document_id=; the admin or a secretary)", auth="any")
async def add_document(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request, request.match_info["conf_id"])
    _, roles = await _state(request, actor)
    if not roles & set(KEEPERS):   # before reading the body: a refused upload keeps nothing
        raise ApiError("forbidden", "only the admin or a secretary may add conference documents")
    ref = await _upload(request)
    document_id = request.query.get("document_id") or f"d-{secrets.token_hex(6)}"
    cmd = AddDocument(key=request.query.get("key") or f"doc-{document_id}"[:64], document_id=document_id,
                      file=ref, item_id=request.query.get("item_id") or None)
    out = await service_of(request).run_conference(request.match_info["conf_id"], cmd, actor)
    return ok({"document_id": document_id, "file": to_plain(ref), "seq": out.seq, "replayed": out.replayed},
              status=201)


@routes.route("GET", "/conferences/{conf_id}/documents", "The conference's documents: staff see every site's receipts "
       "(opened, downloaded), a site its own and whether each is new to it", auth="any")
async def list_documents(request: web.Request) -> web.StreamResponse:
    actor = _reader(request)
    state, roles = await _state(request, actor)
    staff = bool(roles & STAFF_ROLES)
    base = f"/api/v1/conferences/{state.conference_id}/documents"
    rows: list[dict[str, Any]] = []
    for doc in state.documents.values():
        if doc.removed:
            continue
        row: dict[str, Any] = {"document_id": doc.document_id, "item_id": doc.item_id, "file": to_plain(doc.file),
                               "added_at": doc.added_at.isoformat(), "url": f"{base}/{doc.document_id}"}
        if staff:
            row["receipts"] = to_plain(doc.receipts)
            row["opened"] = sum(1 for r in doc.receipts.values() if r.opened_at or r.downloaded_at)
        else:
            mine = doc.receipts.get(actor.id)
            row["new"] = mine is None
            row["receipt"] = to_plain(mine) if mine else None
        rows.append(row)
    return ok({"documents": rows, "sites": len(state.sites) if staff else None})


@routes.route("GET", "/conferences/{conf_id}/documents/{document_id}", "A conference document's file (?download=1 as an "
       "attachment; ?token= for a site's new tab); a site's first opening or download is its receipt", auth="any")
async def get_document(request: web.Request) -> web.StreamResponse:
    actor = _reader(request)
    state, roles = await _state(request, actor)
    doc = state.documents.get(request.match_info["document_id"])
    if doc is None or doc.removed:
        raise ApiError("not_found", "no such document")
    download = request.query.get("download") == "1"
    if actor.kind is ActorKind.SITE:
        how = "download" if download else "open"
        await service_of(request).run_conference(state.conference_id, RecordDocumentReceipt(
            key=f"rcpt-{doc.document_id}-{how}"[:64], document_id=doc.document_id, site=actor.id, how=how), actor)
    return _serve(request, doc.file, download=download)


@routes.route("GET", "/conferences/{conf_id}/files/{sha256}", "A recommendation's attachment (to whoever has a role in "
       "the conference; ?download=1, ?token=)", auth="any")
async def get_file(request: web.Request) -> web.StreamResponse:
    actor = _reader(request)
    state, _ = await _state(request, actor)
    sha = request.match_info["sha256"]
    ref = next((a for r in state.recommendations.values() for a in r.attachments if a.sha256 == sha), None)
    if ref is None:
        raise ApiError("not_found", "no such attachment in this conference")
    return _serve(request, ref, download=request.query.get("download") == "1")


def _serve(request: web.Request, ref: FileRef, *, download: bool) -> web.StreamResponse:
    path = blob_store(service_of(request)).path(ref.sha256)
    if path is None:
        raise ApiError("not_found", "the file is not on this server")
    inline = not download and ref.content_type in INLINE_TYPES
    return web.FileResponse(path, headers={
        "Content-Type": ref.content_type,
        "Content-Disposition": content_disposition(ref.name, inline=inline),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": FILE_CSP if ref.content_type == PDF else IMAGE_CSP,
        "Cross-Origin-Resource-Policy": "same-origin",
        "Cache-Control": "private, max-age=3600, immutable",   # content-addressed: never changes
        "Referrer-Policy": "no-referrer",
    })


def content_disposition(name: str, *, inline: bool) -> str:
    """``inline``/``attachment`` with an ASCII fallback name and the UTF-8 one (RFC 6266, 5987)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name)
    return f'{"inline" if inline else "attachment"}; filename="{fallback}"; filename*=UTF-8\'\'{quote(name, safe="")}'
