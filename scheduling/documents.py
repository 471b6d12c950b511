"""Conference documents (tài liệu hội nghị): files the admin or a secretary attaches to the
conference or to an agenda item. The file itself is kept by the server, content-addressed;
the log holds its name, size, type and SHA-256. Each site's first opening and first download
of a document is a receipt the secretaries see, like the minutes' receipts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .actors import Role, require_self_or
from .base import Command, Event, check_code, check_id, command, event
from .errors import DomainError, ErrorCode
from .rules import OPEN_PHASES, Ctx, decides, evolves
from .state import ConferenceState, Phase
from .ward_records import ConferenceDocument, DocReceipt, FileRef

MAX_DOCUMENTS = 500
KEEPERS = (Role.ADMIN, Role.SECRETARY)
ReceiptKind = Literal["open", "download"]


@command
@dataclass(frozen=True, kw_only=True)
class AddDocument(Command):
    TYPE = "add_document"
    document_id: str
    file: FileRef
    item_id: str | None = None

    def check(self) -> None:
        check_id("document_id", self.document_id)


@command
@dataclass(frozen=True, kw_only=True)
class RemoveDocument(Command):
    TYPE = "remove_document"
    document_id: str


@command
@dataclass(frozen=True, kw_only=True)
class RecordDocumentReceipt(Command):
    """A site opened (``open``) or downloaded (``download``) a document; the server sends it
    as the site when it serves the file."""

    TYPE = "record_document_receipt"
    document_id: str
    site: str
    how: ReceiptKind = "open"

    def check(self) -> None:
        check_code("site", self.site)


@event
@dataclass(frozen=True, kw_only=True)
class DocumentAdded(Event):
    TYPE = "document_added"
    document_id: str
    file: FileRef
    item_id: str | None = None


@event
@dataclass(frozen=True, kw_only=True)
class DocumentRemoved(Event):
    TYPE = "document_removed"
    document_id: str


@event
@dataclass(frozen=True, kw_only=True)
class DocumentReceiptRecorded(Event):
    TYPE = "document_receipt_recorded"
    document_id: str
    site: str
    how: ReceiptKind


def _document(ctx: Ctx, document_id: str) -> ConferenceDocument:
    doc = ctx.state.documents.get(document_id)
    if doc is None or doc.removed:
        raise DomainError(ErrorCode.UNKNOWN_DOCUMENT, f"no document {document_id[:64]!r}")
    return doc


@decides(AddDocument)
def _add(ctx: Ctx, cmd: AddDocument) -> list[Event]:
    ctx.require(*KEEPERS, what="add conference documents")
    ctx.require_phase(*OPEN_PHASES, Phase.ENDED, what="add conference documents")
    if cmd.document_id in ctx.state.documents:
        raise DomainError(ErrorCode.DOCUMENT_EXISTS, f"document {cmd.document_id!r} already exists")
    if len(ctx.state.documents) >= MAX_DOCUMENTS:
        raise DomainError(ErrorCode.INVALID_COMMAND, f"a conference has at most {MAX_DOCUMENTS} documents")
    if cmd.item_id is not None and ctx.state.item(cmd.item_id) is None:
        raise DomainError(ErrorCode.UNKNOWN_ITEM, f"no agenda item {cmd.item_id[:64]!r}")
    return [DocumentAdded(document_id=cmd.document_id, file=cmd.file, item_id=cmd.item_id, **ctx.meta())]


@decides(RemoveDocument)
def _remove(ctx: Ctx, cmd: RemoveDocument) -> list[Event]:
    ctx.require(*KEEPERS, what="remove conference documents")
    _document(ctx, cmd.document_id)
    return [DocumentRemoved(document_id=cmd.document_id, **ctx.meta())]


@decides(RecordDocumentReceipt)
def _receipt(ctx: Ctx, cmd: RecordDocumentReceipt) -> list[Event]:
    require_self_or(ctx.state, ctx.actor, cmd.site, what="record its receipt of a document")
    doc = _document(ctx, cmd.document_id)
    seen = doc.receipts.get(cmd.site)
    if seen is not None and (seen.opened_at if cmd.how == "open" else seen.downloaded_at) is not None:
        return []   # the first opening (download) is the receipt
    return [DocumentReceiptRecorded(document_id=cmd.document_id, site=cmd.site, how=cmd.how, **ctx.meta())]


@evolves(DocumentAdded)
def _added(s: ConferenceState, ev: DocumentAdded) -> None:
    s.documents[ev.document_id] = ConferenceDocument(document_id=ev.document_id, file=ev.file, item_id=ev.item_id,
                                                     added_at=ev.at)


@evolves(DocumentRemoved)
def _removed(s: ConferenceState, ev: DocumentRemoved) -> None:
    s.documents[ev.document_id].removed = True


@evolves(DocumentReceiptRecorded)
def _recorded(s: ConferenceState, ev: DocumentReceiptRecorded) -> None:
    receipt = s.documents[ev.document_id].receipts.setdefault(ev.site, DocReceipt())
    if ev.how == "open":
        receipt.opened_at = ev.at
    else:
        receipt.downloaded_at = ev.at
