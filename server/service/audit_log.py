"""The audit log (nhật ký hệ thống): who did what and when, read from the event logs
themselves — the directory, accounts and links streams and each conference's stream. No
second record is kept: the log is the audit trail (DESIGN.md, "Security").

This module is the read model: one row per event (stream, seq, when, who, what, the event's
own fields with secrets taken out), the filters of the admin's audit view, and the CSV export
(UTF-8 with a BOM for spreadsheet programs; a cell that a spreadsheet would read as a formula
is neutralized). No I/O: ``server/web/audit_api.py`` reads the streams and calls it.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduling.base import EVENTS

CSV_BOM = "\ufeff"
FIXED_STREAMS = ("directory", "accounts", "links")
SECRET_FIELDS = frozenset({"password_hash"})   # never leaves the server, not even to an admin
ENVELOPE = ("type", "at", "actor", "key")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_DETAILS = 2000
SYSTEM_NAME = "Hệ thống / System"


class AuditQueryError(ValueError):
    """A filter of the audit view that cannot be read; the message names it."""


def stream_of_event(cls: type) -> str:
    """Which kind of stream an event type is recorded in: directory, accounts, links or conference."""
    module = cls.__module__.rsplit(".", 1)[-1]
    return module if module in FIXED_STREAMS else "conference"


def event_types(kind: str) -> list[str]:
    """The event types a stream of this kind may hold (``conference`` for a conference's)."""
    return sorted(t for t, cls in EVENTS.items() if stream_of_event(cls) == kind)


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""                 # part of the actor's reference or display name, any case or accents
    types: frozenset[str] = frozenset()
    since: datetime | None = None   # inclusive
    until: datetime | None = None   # exclusive

    @classmethod
    def parse(cls, query: Mapping[str, str], tz: ZoneInfo) -> AuditFilter:
        """From the query string: ``actor``, ``type`` (comma-separated), ``since`` and
        ``until`` (a date, in ``tz``, both inclusive; or a date-time with an offset)."""
        actor = query.get("actor", "").strip()
        if len(actor) > 200:
            raise AuditQueryError("actor: at most 200 characters")
        types = frozenset(t for t in query.get("type", "").split(",") if t)
        unknown = sorted(types - set(EVENTS))
        if unknown:
            raise AuditQueryError(f"type: no event type {unknown[0][:60]!r}")
        since = _instant(query.get("since", ""), tz, "since", end=False)
        until = _instant(query.get("until", ""), tz, "until", end=True)
        if since is not None and until is not None and until <= since:
            raise AuditQueryError("until: must be after since")
        return cls(actor=actor, types=types, since=since, until=until)

    def keeps(self, row: AuditRow) -> bool:
        if self.types and row.type not in self.types:
            return False
        if self.since is not None and row.at < self.since:
            return False
        if self.until is not None and row.at >= self.until:
            return False
        if self.actor:
            needle = fold(self.actor)
            return needle in fold(row.actor) or needle in fold(row.actor_name)
        return True


def _instant(text: str, tz: ZoneInfo, name: str, *, end: bool) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise AuditQueryError(f"{name}: {text!r} is not a date (YYYY-MM-DD)") from None
        start = datetime.combine(day, time(), tz)
        return start + timedelta(days=1) if end else start   # a day given as the end counts whole
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise AuditQueryError(f"{name}: {text[:40]!r} is not a date or an ISO 8601 date-time") from None
    if at.tzinfo is None:
        raise AuditQueryError(f"{name}: a date-time needs a UTC offset, e.g. 2025-10-03T08:00:00+07:00")
    return at


def fold(text: str) -> str:
    """Lower case without accents (đ as d): "Chủ trì" matches "chu tri"."""
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in plain if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True)
class AuditRow:
    stream: str
    seq: int
    at: datetime
    actor: str          # account:ID, site:CODE or system:server
    actor_name: str
    type: str
    key: str
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"stream": self.stream, "seq": self.seq, "at": self.at.isoformat(), "actor": self.actor,
                "actor_name": self.actor_name, "type": self.type, "key": self.key, "details": self.details}


def audit_row(stream: str, seq: int, data: str, names: Mapping[str, str]) -> AuditRow:
    """One recorded event as a row; ``names``: display names by actor reference."""
    event = json.loads(data)
    details = {k: v for k, v in event.items() if k not in ENVELOPE}
    for secret in SECRET_FIELDS & details.keys():
        details[secret] = "(hidden)"
    actor = str(event.get("actor", ""))
    return AuditRow(stream=stream, seq=seq, at=datetime.fromisoformat(event["at"]), actor=actor,
                    actor_name=names.get(actor, SYSTEM_NAME if actor.startswith("system:") else actor.partition(":")[2]), type=str(event.get("type", "")),
                    key=str(event.get("key", "")), details=details)


def select(rows: Iterable[AuditRow], flt: AuditFilter, *, limit: int) -> tuple[list[AuditRow], int]:
    """The rows the filter keeps, newest first, at most ``limit`` of them; and how many matched."""
    kept = [r for r in rows if flt.keeps(r)]
    kept.sort(key=lambda r: (r.at, r.stream, r.seq), reverse=True)
    return kept[:limit], len(kept)


# -- CSV ------------------------------------------------------------------------------------------

COLUMNS: tuple[tuple[str, str], ...] = (
    ("Thời điểm / Time", "at"), ("Nhật ký / Stream", "stream"), ("Số thứ tự / Seq", "seq"),
    ("Người thực hiện / Actor", "actor_name"), ("Mã người thực hiện / Actor ref", "actor"),
    ("Việc / Event", "type"), ("Khóa lệnh / Command key", "key"), ("Chi tiết / Details", "details"),
)


def safe_cell(value: Any) -> str:
    """A cell as text that a spreadsheet shows as written: a value it would take for a formula
    (=, +, -, @, tab, carriage return first) gets a leading apostrophe (OWASP, CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def audit_csv(rows: Sequence[AuditRow], tz: ZoneInfo) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([title for title, _ in COLUMNS])
    for r in rows:
        details = json.dumps(r.details, ensure_ascii=False, separators=(", ", ": "))
        values = {"at": r.at.astimezone(tz).strftime("%d/%m/%Y %H:%M:%S"), "stream": r.stream, "seq": r.seq,
                  "actor_name": r.actor_name, "actor": r.actor, "type": r.type, "key": r.key,
                  "details": details[:MAX_DETAILS]}
        w.writerow([safe_cell(values[k]) for _, k in COLUMNS])
    return CSV_BOM + out.getvalue()
