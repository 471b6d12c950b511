"""The fields a record prints, checked: against the stamp around the hashed content and the
content's own header (without the log), and against the conference's log (a copy whose hash
is not the recorded one is explained field by field; each recorded approval block against
its event). Every problem is a sentence that names the field ("approval.approved_by: …")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .source import ApprovedVersion, account_id
from .stamp import Stamp

# the fields a reader checks first, named in this order when a forged copy changes them
PRINTED = (("approval", "approved_by"), ("approval", "approver_name"), ("approval", "role"),
           ("approval", "approved_at"), ("approval", "version"), ("approval", "prev_sha256"),
           ("record", "number_text"), ("record", "governing_body"), ("record", "issuing_body"),
           ("record", "place"), ("record", "chair_title"), ("record", "secretary_title"), ("record", "recipients"),
           ("header", "title"), ("header", "opened_at"), ("header", "ended_at"), ("header", "chair"))
MAX_NAMED = 6


def differences(claimed: dict[str, Any], recorded: dict[str, Any]) -> list[str]:
    """"approval.approved_by: the file says 'thu.ky', the log 'chu.tich'", for the printed
    fields first, then the other top-level parts that differ (at most MAX_NAMED)."""
    out: list[str] = []
    for part, name in PRINTED:
        mine, theirs = _get(claimed, part, name), _get(recorded, part, name)
        if mine != theirs:
            out.append(f"{part}.{name}: the file says {_short(mine)}, the conference's log {_short(theirs)}")
    for part in sorted(set(claimed) | set(recorded)):
        if part not in ("approval", "record", "header") and claimed.get(part) != recorded.get(part):
            out.append(f"{part}: differs from the conference's log")
    return out[:MAX_NAMED]


def embedded_mismatches(stamp: Stamp) -> list[str]:
    """Without the log: the approval block inside the hash against what the stamp says
    around it, and against the content's own header (the chair approves, after the end)."""
    a, c = stamp.source.approval, stamp.source.content
    block, record, header = c.get("approval"), c.get("record"), c.get("header", {})
    if a is None or not isinstance(block, dict):
        return []   # a version approved before the approval block existed
    out: list[str] = []
    if block.get("version") != a.version or header.get("version") != a.version:
        out.append(f"approval.version: the record says {_short(block.get('version'))}, the file {a.version}")
    if block.get("prev_sha256") != a.prev_sha256:
        out.append("approval.prev_sha256: differs from the file's previous SHA-256")
    if a.approved_by and block.get("approved_by") != a.approved_by:
        out.append(f"approval.approved_by: the record says {_short(block.get('approved_by'))}, "
                   f"the file {_short(a.approved_by)}")
    if a.approved_at is not None and block.get("approved_at") != a.approved_at.isoformat():
        out.append(f"approval.approved_at: the record says {_short(block.get('approved_at'))}, "
                   f"the file {_short(a.approved_at.isoformat())}")
    if block.get("role") != "chair" or block.get("approved_by") != account_id(str(header.get("chair", ""))):
        out.append(f"approval.approved_by: {_short(block.get('approved_by'))} ({_short(block.get('role'))}) is not "
                   f"the conference's chair {_short(header.get('chair'))}")
    ended = header.get("ended_at")
    if ended and str(block.get("approved_at", "")) and _instant(block["approved_at"]) < _instant(ended):
        out.append(f"approval.approved_at: {_short(block['approved_at'])} is before the conference ended ({ended})")
    if isinstance(record, dict) and stamp.options.place != record.get("place"):
        out.append(f"record.place: the record says {_short(record.get('place'))}, "
                   f"the file {_short(stamp.options.place)}")
    return out


def approved_at_of(stamp: Stamp) -> datetime | None:
    block = stamp.source.content.get("approval")
    if isinstance(block, dict) and isinstance(block.get("approved_at"), str):
        return _instant(block["approved_at"])
    return stamp.source.approval.approved_at if stamp.source.approval else None


def approval_vs_log(v: ApprovedVersion) -> list[str]:
    """The approval block a version's content records against the log's own record of the
    approval (its event's time and actor)."""
    block = v.content.get("approval")
    at, by = getattr(v, "approved_at", None) or getattr(v, "at", None), \
        getattr(v, "approved_by", None) or getattr(v, "actor", None)
    if not isinstance(block, dict):
        return []
    out = []
    if block.get("version") != v.version or block.get("prev_sha256") != v.prev_sha256:
        out.append("approval.version or approval.prev_sha256 differs from the log")
    if isinstance(at, datetime) and block.get("approved_at") != at.isoformat():
        out.append(f"approval.approved_at {_short(block.get('approved_at'))} is not the log's {at.isoformat()}")
    if isinstance(by, str) and block.get("approved_by") != by.partition(":")[2]:
        out.append(f"approval.approved_by {_short(block.get('approved_by'))} is not the log's {by}")
    return out


def _get(content: dict[str, Any], part: str, name: str) -> Any:
    section = content.get(part)
    return section.get(name) if isinstance(section, dict) else None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _instant(iso: str) -> datetime:
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
