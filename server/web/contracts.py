"""The contracts of the REST routes declared before routes carried their own (``Contract``
in routes.py), by handler name: the bodies are made from the very types the handlers parse
with (``from_plain(CreateAccount, ...)`` takes what ``command_schema(CreateAccount)`` says)."""

from __future__ import annotations

from typing import Any

from scheduling import (
    ActionItem,
    ActionSnapshot,
    ActionStatus,
    CreateAccount,
    CreateConference,
    SiteInfo,
    UpdateAccount,
)
from scheduling.directory import SetRecommendationFields
from scheduling.organisation import OrgSettings
from scheduling.recommendations import CarriedRecommendation
from scheduling.rules import DECIDERS
from scheduling.ward_records import FILE_TYPES, DocReceipt, FileRef, RecStatus

from .routes import JSON, Contract, Query, Schema
from .schemas import SchemaMaker, command_schema

CSV, ICS, HTML, PDF = "text/csv", "text/calendar", "text/html", "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

STR, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
NULLABLE_STR = {"type": ["string", "null"]}
KEY = {"type": "string", "description": "the command's idempotency key (made by the server when missing)"}
ACK: Schema = {"type": "object", "required": ["seq", "replayed", "events"], "properties": {
    "seq": INT, "replayed": BOOL, "events": INT}}
OBJ: Schema = {"type": "object"}
LANG = Query("lang", {"type": "string", "enum": ["vi", "en"]}, "the document's language (default vi)")
TOKEN = Query("token", STR, "a site's join-link token (when the Authorization header cannot be sent)")
ACTION_FILTERS = (Query("conference", STR), Query("site", STR),
                  Query("status", {"type": "string", "enum": [s.value for s in ActionStatus]}),
                  Query("overdue", {"type": "string", "enum": ["1", "true"]}))


def listing(name: str, item: Schema = OBJ, **more: Schema) -> Schema:
    return {"type": "object", "required": [name, *more], "properties": {name: {"type": "array", "items": item},
                                                                        **more}}


def body(schema: Schema) -> Any:
    return lambda maker: schema


def conference_commands(maker: SchemaMaker) -> Schema:
    """Any command of a conference: ``type`` names it, the other fields are its own."""
    options = [maker.ref("Command_" + cls.TYPE, lambda cls=cls: command_schema(maker, cls, with_type=True))
               for cls in sorted(DECIDERS, key=lambda c: c.TYPE)]
    return {"oneOf": options, "discriminator": {"propertyName": "type"}}


SESSION_OUT: Schema = {"type": "object", "required": ["account", "admin", "token", "csrf"], "properties": {
    "account": STR, "admin": BOOL, "token": STR, "csrf": STR}}
ACCOUNT: Schema = {"type": "object", "required": ["account_id", "name", "email", "admin", "disabled"],
                   "properties": {"account_id": STR, "name": STR, "email": STR, "admin": BOOL, "disabled": BOOL}}
PASSWORD = {"type": "string", "minLength": 8, "maxLength": 256}
SUMMARY: Schema = {"type": "object", "required": [
    "conference_id", "title", "kind", "phase", "starts_at", "ends_at", "timezone", "main_site", "chair", "secretaries",
    "sites", "series", "seq", "totals"], "properties": {
    "conference_id": STR, "title": STR, "kind": STR, "phase": STR, "starts_at": {"type": "string", "format": "date-time"},
    "ends_at": {"type": "string", "format": "date-time"}, "timezone": STR, "main_site": STR, "chair": STR,
    "secretaries": {"type": "array", "items": STR}, "sites": INT, "series": STR, "seq": INT, "totals": OBJ}}


def action_row(m: SchemaMaker) -> Schema:
    """A row of the action-item dashboard: the action item as the domain keeps it, and where it is from."""
    return m.ref("ActionRow", lambda: m.dataclass_schema(ActionItem, extra={
        "conference_id": STR, "conference": STR, "overdue": BOOL, "assignee_names": {"type": "array", "items": STR}}))

CONTRACTS: dict[str, Contract] = {
    # sessions and accounts
    "login": Contract(body=body({"type": "object", "required": ["account", "password"], "properties": {
        "account": {"type": "string", "maxLength": 64}, "password": {"type": "string", "maxLength": 256}}}),
        response=SESSION_OUT),
    "session": Contract(response={"type": "object", "required": ["account", "name", "admin", "csrf"], "properties": {
        "account": STR, "name": STR, "admin": BOOL, "csrf": NULLABLE_STR}}),
    "logout": Contract(response={"type": "object", "required": ["signed_out"], "properties": {"signed_out": BOOL}}),
    "list_accounts": Contract(response=listing("accounts", ACCOUNT)),
    "create_account": Contract(example={"account_id": "thu.ky.moi", "name": "Nguyễn Thị Lan", "email": "lan@example.vn", "password": "mat-khau-rat-dai"}, body=lambda m: command_schema(m, CreateAccount, drop=frozenset({"password_hash"}),
                                                             extra={"password": PASSWORD}),
                               status=201, response=ACK),
    "update_account": Contract(example={"name": "Trần Văn Bình"}, body=lambda m: command_schema(m, UpdateAccount, drop=frozenset({"account_id"})),
                               response=ACK),
    "set_password": Contract(example={"password": "mat-khau-moi-2025"}, body=body({"type": "object", "required": ["password"], "properties": {
        "password": PASSWORD, "key": KEY}}), response=ACK),
    # the directory
    "list_sites": Contract(query=(Query("q", STR, "a part of the name or code"), Query("parent", STR)),
                           response=lambda m: listing("sites", m.of(SiteInfo),
                                                      groups={"type": "array", "items": STR})),
    "register_site": Contract(example={"code": "X-MOI", "name": "Xã Mới", "parent": "Khu vực 9", "kind": "remote", "expected_headcount": 30}, body=lambda m: _site_body(m, frozenset()), status=201, response=ACK),
    "update_site": Contract(example={"name": "Phường Hoàn Kiếm", "parent": "Khu vực Hoàn Kiếm - Ba Đình", "expected_headcount": 50}, body=lambda m: _site_body(m, frozenset({"code"})), response=ACK),
    "retire_site": Contract(response=ACK),
    "import_sites": Contract(example="code,name,parent,kind,expected_headcount\nX-NHAP,Xã Nhập,Khu vực 9,remote,20\n", body=body({"type": "string", "description": "code,name,parent,kind,expected_headcount,"
                                        "contact_name,contact_phone,email"}), body_media=CSV,
                             query=(Query("dry_run", {"type": "string", "enum": ["1", "true", "0"]},
                                          "only check the file"),),
                             headers=(Query("Idempotency-Key", {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"},
                                            "the import's idempotency key"),),
                             response={"anyOf": [ACK, {"type": "object", "required": ["valid", "rows", "new", "changed"],
                                                       "properties": {"valid": BOOL, "rows": INT, "new": INT,
                                                                      "changed": INT}}]}),
    "export_sites": Contract(media=(CSV,)),
    # conferences
    "list_conferences": Contract(response=listing("conferences", SUMMARY)),
    "create_conference": Contract(example={"conference_id": "giao-ban-2030", "title": "Hội nghị giao ban năm 2030", "starts_at": "2030-01-06T08:00:00+07:00", "ends_at": "2030-01-06T11:30:00+07:00", "main_site": "HN-TRU-SO", "chair": "chutri"}, body=lambda m: command_schema(m, CreateConference), status=201, response=ACK),
    "get_conference": Contract(response={"type": "object", "required": ["conference_id", "phase"]}),
    "conference_command": Contract(example={"type": "add_agenda_item", "item_id": "muc-moi", "title": "Ý kiến các phường", "planned_minutes": 15}, body=conference_commands, response=ACK),
    "conference_events": Contract(query=(Query("after", {"type": "integer", "minimum": 0}),
                                         Query("limit", {"type": "integer", "minimum": 1, "maximum": 5000})),
                                  response=listing("events", {"type": "object", "required": ["seq", "event"]})),
    "conference_links": Contract(query=(Query("format", {"type": "string", "enum": ["csv", "json"]}),),
                                 media=(JSON, CSV), response=listing("links")),
    "revoke_link": Contract(response=ACK),
    "reissue_link": Contract(response={"type": "object", "required": ["site", "url"],
                                       "properties": {"site": STR, "url": STR}}),
    "list_actions": Contract(query=ACTION_FILTERS, response=lambda m: listing("actions", action_row(m), today=STR)),
    # after the meeting
    "minutes_overview": Contract(response={"type": "object", "required": [
        "conference_id", "title", "phase", "timezone", "draft", "chain", "versions"], "properties": {
        "conference_id": STR, "title": STR, "phase": STR, "timezone": STR, "draft": OBJ, "chain": OBJ,
        "versions": {"type": "array", "items": {"type": "object", "required": [
            "version", "sha256", "prev_sha256", "approved_at", "files", "totals", "receipts"]}}}}),
    "minutes_draft_content": Contract(response={"type": "object", "required": ["version", "editing", "seq", "content"],
                                               "properties": {"version": INT, "editing": BOOL, "seq": INT,
                                                              "content": OBJ}}),
    "minutes_document": Contract(query=(LANG, TOKEN, Query("download", {"type": "string", "enum": ["1", "true"]})),
                                 media=(HTML, PDF, DOCX)),
    "minutes_receipts_csv": Contract(media=(CSV,)),
    "follow_up_offer": Contract(response=lambda m: {
        "type": "object", "required": ["conference_id", "series", "previous", "item", "actions", "added_as"],
        "properties": {"conference_id": STR, "series": STR, "previous": {"anyOf": [OBJ, {"type": "null"}]},
                       "item": OBJ, "actions": {"type": "array", "items": m.of(ActionSnapshot)},
                       "added_as": NULLABLE_STR}}),
    "follow_up_add": Contract(example={}, body=body({"type": "object", "additionalProperties": False, "properties": {
        "actions": {"type": "array", "items": STR}, "item_id": STR, "title": STR,
        "planned_minutes": INT, "position": INT, "presenter": STR, "key": KEY}}), body_required=False,
        status=201, response={"type": "object", "required": ["seq", "replayed", "events", "item_id", "follow_up"]}),
    "conference_invite": Contract(query=(TOKEN,), media=(ICS,)),
    "actions_as_csv": Contract(query=(*ACTION_FILTERS, LANG), media=(CSV,)),
    "actions_as_xlsx": Contract(query=(*ACTION_FILTERS, LANG), media=(XLSX,)),
    "actions_as_ics": Contract(query=(*ACTION_FILTERS, Query("as", {"type": "string", "enum": ["event", "todo"]})),
                               media=(ICS,)),
    "get_recordings": Contract(query=(Query("file", STR, "one file of the list"),),
                               media=(JSON, "video/webm", "text/vtt"),
                               response={"type": "object", "required": ["recording", "files"]}),
}


# documents, recommendations, the organisation, the audit log, slide decks
WEBP = "image/webp"
BYTES: Schema = {"type": "string", "format": "binary"}
ID: Schema = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"}    # scheduling.base.ID_RE
KEY_Q: Schema = {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$",              # scheduling.base.KEY_RE
                 "description": KEY["description"]}
CODE: Schema = {"type": "string", "maxLength": 64}
FILE_NAME = Query("name", {"type": "string", "minLength": 1, "maxLength": 200}, "the file's name (no folder)")
DOWNLOAD = Query("download", {"type": "string", "enum": ["1"]}, "as an attachment")
REC_FILTERS = (Query("conference", CODE), Query("site", CODE, "raised by"), Query("department", CODE),
               Query("field", {"type": "string", "maxLength": 100}), Query("status", {"type": "string", "enum": [s.value for s in RecStatus]}),
               Query("overdue", {"type": "string", "enum": ["1", "true"]}),
               Query("open", {"type": "string", "enum": ["1", "true"]}))
AUDIT_FILTERS = (Query("stream", {"type": "string", "maxLength": 80}, "directory, accounts, links or conf-<id> (default directory)"),
                 Query("actor", {"type": "string", "maxLength": 200}, "a part of the actor's reference or name"),
                 Query("type", {"type": "string", "pattern": "^[a-z0-9_,]{0,2000}$"}, "event types, comma-separated"),
                 Query("since", {"type": "string", "maxLength": 40}, "a date (Vietnam's time) or a date-time with its offset"),
                 Query("until", {"type": "string", "maxLength": 40}, "a date (inclusive) or a date-time with its offset"))
UNSUPPORTED = (("415", "the body is not of a type it takes, or its content is not what the type says "
                "(type_mismatch, active_content, deck_not_pdf)"),)


def document_row(m: SchemaMaker) -> Schema:
    """A row of a conference's documents: staff get ``receipts`` and ``opened``, a site ``new`` and its ``receipt``."""
    return {"type": "object", "required": ["document_id", "item_id", "file", "added_at", "url"], "properties": {
        "document_id": STR, "item_id": NULLABLE_STR, "file": m.of(FileRef),
        "added_at": {"type": "string", "format": "date-time"}, "url": STR,
        "receipts": {"type": "object", "additionalProperties": m.of(DocReceipt)}, "opened": INT,
        "new": BOOL, "receipt": {"anyOf": [m.of(DocReceipt), {"type": "null"}]}}}


REGISTER_ROW: Schema = {"type": "object", "required": [
    "conference_id", "conference", "series", "rec_id", "title", "field", "status", "site", "sources", "source_names",
    "departments", "department_names", "due", "overdue", "in_meeting", "item_id", "carried_from", "answers",
    "feedback", "open"], "properties": {
    "conference_id": STR, "conference": STR, "series": STR, "rec_id": STR, "title": STR, "field": STR,
    "status": {"type": "string", "enum": [s.value for s in RecStatus]}, "site": STR,
    "sources": {"type": "array", "items": STR}, "source_names": {"type": "array", "items": STR},
    "departments": {"type": "array", "items": STR}, "department_names": {"type": "array", "items": STR},
    "due": {"type": ["string", "null"], "format": "date"}, "overdue": BOOL, "in_meeting": BOOL,
    "item_id": NULLABLE_STR, "carried_from": NULLABLE_STR,
    "answers": {"type": "array", "items": {"type": "object", "required": ["department", "mode", "text", "at"]}},
    "feedback": OBJ, "open": BOOL}}
COUNTS: Schema = {"type": "object", "additionalProperties": INT}
FIELDS_OUT: Schema = {"type": "object", "required": ["fields"], "properties": {"fields": {"type": "array", "items": STR}}}
AUDIT_ROW: Schema = {"type": "object", "required": ["stream", "seq", "at", "actor", "actor_name", "type", "key",
                                                    "details"], "properties": {
    "stream": STR, "seq": INT, "at": {"type": "string", "format": "date-time"}, "actor": STR, "actor_name": STR,
    "type": STR, "key": STR, "details": OBJ}}
DECK: Schema = {"type": "object", "required": ["deck_id", "name", "size", "pages", "sha256", "item_id", "widths",
                                               "page_url"], "properties": {
    "deck_id": STR, "name": STR, "size": INT, "pages": INT, "sha256": STR, "item_id": NULLABLE_STR,
    "widths": {"type": "array", "items": INT}, "page_url": STR, "ack": ACK, "render_seconds": {"type": "number"}}}
CARRIED: Schema = {"type": "object", "required": ["from", "carried", "seq"], "properties": {
    "from": NULLABLE_STR, "carried": INT, "seq": INT}}

CONTRACTS |= {
    "upload_file": Contract(body=body(BYTES), body_media=tuple(sorted(FILE_TYPES)), query=(FILE_NAME,), status=201,
                            errors=UNSUPPORTED,
                            response=lambda m: m.of(FileRef)),
    "add_document": Contract(body=body(BYTES), body_media=tuple(sorted(FILE_TYPES)), status=201, errors=UNSUPPORTED,
                             query=(
        FILE_NAME, Query("item_id", ID, "the agenda item it belongs to"),
        Query("document_id", ID, "its id (made by the server when missing)"), Query("key", KEY_Q)),
        response=lambda m: {"type": "object", "required": ["document_id", "file", "seq", "replayed"], "properties": {
            "document_id": STR, "file": m.of(FileRef), "seq": INT, "replayed": BOOL}}),
    "list_documents": Contract(query=(TOKEN,), response=lambda m: listing(
        "documents", document_row(m), sites={"type": ["integer", "null"]})),
    "get_document": Contract(query=(DOWNLOAD, TOKEN), media=tuple(sorted(FILE_TYPES))),
    "get_file": Contract(query=(DOWNLOAD, TOKEN), media=tuple(sorted(FILE_TYPES))),
    "carry_preview": Contract(response=lambda m: {"type": "object", "required": ["from", "items"], "properties": {
        "from": NULLABLE_STR, "items": {"type": "array", "items": m.of(CarriedRecommendation)}}}),
    "carry": Contract(example={}, body=body({"type": "object", "additionalProperties": False,
                                            "properties": {"key": KEY}}), response=CARRIED),
    "dashboard": Contract(query=REC_FILTERS, response=listing(
        "recommendations", REGISTER_ROW, by={"type": "object", "required": ["field", "department", "site"],
                                             "properties": {"field": COUNTS, "department": COUNTS, "site": COUNTS}},
        overdue=INT, open=INT)),
    "register_as_csv": Contract(query=(*REC_FILTERS, LANG), media=(CSV,)),
    "register_as_xlsx": Contract(query=(*REC_FILTERS, LANG), media=(XLSX,)),
    "get_fields": Contract(response=FIELDS_OUT),
    "set_fields": Contract(example={"fields": ["Đất đai", "Giao thông", "Môi trường"]},
                           body=lambda m: command_schema(m, SetRecommendationFields),
                           response={**FIELDS_OUT, "required": ["seq", "fields"],
                                     "properties": {**FIELDS_OUT["properties"], "seq": INT}}),
    "organisation_get": Contract(response=lambda m: {
        "type": "object", "required": ["settings", "year", "last_number", "signing"], "properties": {
            "settings": m.of(OrgSettings), "year": INT, "last_number": INT,
            "signing": {"type": "object", "required": ["configured", "subject", "error", "trust_roots"], "properties": {
                "configured": BOOL, "subject": STR, "error": STR, "trust_roots": {"type": "array", "items": STR}}}}}),
    "organisation_put": Contract(example={"governing_body": "UBND THÀNH PHỐ HÀ NỘI", "issuing_body": "VĂN PHÒNG",
                                          "symbol": "BB-VP", "place": "Hà Nội", "recipients": ["Lưu: VT, VP."]},
                                 body=lambda m: {**m.dataclass_schema(OrgSettings), "properties": {
                                     **m.dataclass_schema(OrgSettings)["properties"], "key": KEY}},
                                 response=lambda m: {"type": "object", "required": ["seq", "replayed", "settings"],
                                                     "properties": {"seq": INT, "replayed": BOOL,
                                                                    "settings": m.of(OrgSettings)}}),
    "audit_streams": Contract(response={"type": "object", "required": ["streams", "types"], "properties": {
        "streams": {"type": "array", "items": {"type": "object", "required": ["stream", "kind", "title"], "properties": {
            "stream": STR, "kind": STR, "title": STR, "starts_at": {"type": "string", "format": "date-time"}}}},
        "types": {"type": "object", "additionalProperties": {"type": "array", "items": STR}}}}),
    "audit": Contract(query=(*AUDIT_FILTERS, Query("limit", {"type": "integer", "minimum": 1, "maximum": 2000},
                                                   "at most this many rows (default 200)")),
                      response=listing("rows", AUDIT_ROW, stream=STR, matched=INT, scanned=INT, truncated=BOOL)),
    "audit_export": Contract(query=AUDIT_FILTERS, media=(CSV,)),
    "upload_deck": Contract(body=body(BYTES), body_media=(PDF, "application/octet-stream"), query=(
        Query("name", {"type": "string", "maxLength": 200}, "the file's name (default deck.pdf)"),
        Query("item_id", ID, "the agenda item it is for")), status=201, also=(200,), response=DECK, errors=UNSUPPORTED),
    "list_decks": Contract(response=listing("decks", DECK)),
    "deck_page": Contract(media=(WEBP,)),
}


def _site_body(m: SchemaMaker, drop: frozenset[str]) -> Schema:
    """A site as the handler reads it: SiteInfo's fields (``code`` from the path for an
    update) and the command's key."""
    schema = m.dataclass_schema(SiteInfo, drop=drop)
    schema["properties"]["key"] = KEY
    return schema
