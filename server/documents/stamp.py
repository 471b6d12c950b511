"""The verification data every rendered file carries (the "stamp"): the canonical content
of the minutes, the approved version's number, SHA-256 and previous SHA-256, and the
presentation options the visible text was made with. ``verify`` reads it back, recomputes
the hash and re-renders the text to compare.

    {"schema": "bridgeconf.minutes/1", "status": "approved" | "draft",
     "conference_id": ..., "version": 2, "sha256": ..., "prev_sha256": ...,
     "approved_at": ISO or null, "approved_by": account id,
     "render": {"lang": "vi", "names": {...}, "place": "Hà Nội"}, "content": {...}}

Where it goes: HTML ``<script type="application/json" id="bridgeconf-minutes">``, PDF an
embedded file ``bridgeconf-minutes.json``, DOCX a custom XML part (and the hash and version
as custom document properties, for people to see in Word).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .source import Approval, MinutesSource, RenderOptions

SCHEMA = "bridgeconf.minutes/1"
HTML_ID = "bridgeconf-minutes"
PDF_NAME = "bridgeconf-minutes.json"
XML_NS = "urn:bridgeconf:minutes:1"
MAX_STAMP = 20_000_000


@dataclass(frozen=True)
class Stamp:
    source: MinutesSource
    options: RenderOptions


def stamp_dict(source: MinutesSource, options: RenderOptions) -> dict[str, Any]:
    a = source.approval
    return {
        "schema": SCHEMA, "status": "draft" if a is None else "approved",
        "conference_id": source.conference_id, "version": source.version,
        "sha256": a.sha256 if a else None, "prev_sha256": a.prev_sha256 if a else None,
        "approved_at": a.approved_at.isoformat() if a and a.approved_at else None,
        "approved_by": a.approved_by if a else "",
        "render": {"lang": options.lang, "names": dict(options.names), "place": _place(source, options)},
        "content": source.content,
    }


def _place(source: MinutesSource, options: RenderOptions) -> str:
    """The place the file prints: the record's (inside the hash) when it has one."""
    record = source.content.get("record")
    return str(record.get("place", "")) if isinstance(record, dict) else options.place


def stamp_json(source: MinutesSource, options: RenderOptions, *, ascii_only: bool = False) -> str:
    return json.dumps(stamp_dict(source, options), ensure_ascii=ascii_only, sort_keys=True)


def html_script_json(source: MinutesSource, options: RenderOptions) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&``
    survive literally (they are written as \\u escapes, which JSON reads back unchanged), so
    a note containing ``</script>`` cannot close the block."""
    text = stamp_json(source, options)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def parse_stamp(raw: str | bytes) -> Stamp | str:
    """The stamp, or a message saying what is wrong with it."""
    if len(raw) > MAX_STAMP:
        return "embedded minutes data is too large"
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"embedded minutes data is not JSON: {exc}"
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return f"embedded data is not {SCHEMA}"
    content, render = data.get("content"), data.get("render")
    if not isinstance(content, dict) or not isinstance(content.get("header"), dict):
        return "embedded minutes data has no content"
    if not isinstance(render, dict) or not isinstance(render.get("names", {}), dict):
        return "embedded minutes data has no rendering options"
    options = RenderOptions(lang=str(render.get("lang", "vi")),
                            names={str(k): str(v) for k, v in render.get("names", {}).items()},
                            place=str(render.get("place", "")))
    if data.get("status") == "draft":
        return Stamp(MinutesSource(content=content), options)
    if data.get("status") != "approved":
        return f"unknown status {str(data.get('status'))[:20]!r}"
    sha, prev, version = data.get("sha256"), data.get("prev_sha256"), data.get("version")
    if not (_is_hash(sha) and _is_hash(prev) and isinstance(version, int) and version >= 1):
        return "embedded version, sha256 or prev_sha256 is malformed"
    try:
        at = datetime.fromisoformat(data["approved_at"]) if data.get("approved_at") else None
    except (TypeError, ValueError):
        return "embedded approved_at is not a date-time"
    approval = Approval(version=version, sha256=str(sha), prev_sha256=str(prev), approved_at=at,
                        approved_by=str(data.get("approved_by", "")))
    return Stamp(MinutesSource(content=content, approval=approval), options)


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(ch in "0123456789abcdef" for ch in value)
