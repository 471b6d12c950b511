"""The recommendations register as rows, CSV and XLSX: one row per recommendation (merged
ones are rows of the one they joined), across the conferences the caller has a role in."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from scheduling import ConferenceState, Recommendation, RecStatus

STATUS_LABELS = {
    "vi": {"submitted": "Mới gửi", "assigned": "Đã giao", "answered": "Đã trả lời", "accepted": "Đã chấp nhận",
           "merged": "Đã gộp"},
    "en": {"submitted": "Submitted", "assigned": "Assigned", "answered": "Answered", "accepted": "Accepted",
           "merged": "Merged"},
}
COLUMNS = {
    "vi": ("Hội nghị", "Mã", "Tiêu đề", "Lĩnh vực", "Đơn vị kiến nghị", "Cơ quan trả lời", "Hạn trả lời",
           "Trạng thái", "Quá hạn", "Trả lời", "Chuyển từ"),
    "en": ("Conference", "Id", "Title", "Field", "Raised by", "Answering departments", "Answer due", "Status",
           "Overdue", "Answer", "Carried from"),
}
NO_ANSWER = {"vi": "Chưa trả lời", "en": "Not answered"}
YES_NO = {"vi": ("Có", ""), "en": ("Yes", "")}


def register_row(state: ConferenceState, rec: Recommendation, today: date) -> dict[str, Any]:
    names = {c: s.name for c, s in state.sites.items()}
    return {
        "conference_id": state.conference_id, "conference": state.title, "series": state.series,
        "rec_id": rec.rec_id, "title": rec.title, "field": rec.field, "status": rec.status.value,
        "site": rec.site, "sources": list(rec.sources), "source_names": [names.get(c, c) for c in rec.sources],
        "departments": list(rec.departments), "department_names": [names.get(c, c) for c in rec.departments],
        "due": rec.due.isoformat() if rec.due else None, "overdue": rec.is_overdue(today),
        "in_meeting": rec.in_meeting, "item_id": rec.item_id, "carried_from": rec.carried_from,
        "answers": [{"department": a.department, "mode": a.mode.value, "text": a.text, "at": a.at.isoformat()}
                    for a in rec.answers],
        "feedback": dict(rec.feedback), "open": rec.is_open,
    }


def select_rows(states: Iterable[ConferenceState], today_of: Any, query: Mapping[str, str],
                only_site: str | None = None) -> list[dict[str, Any]]:
    """The dashboard's rows with its filters: conference, site (raised by), department, field,
    status, overdue=1, open=1; ``only_site``: a site sees what it raised or must answer."""
    rows = []
    for state in states:
        if "conference" in query and state.conference_id != query["conference"]:
            continue
        today = today_of(state)
        for rec in state.recommendations.values():
            if rec.status is RecStatus.MERGED:
                continue
            if only_site and only_site not in rec.sources and only_site not in rec.departments:
                continue
            if "site" in query and query["site"] not in rec.sources:
                continue
            if "department" in query and query["department"] not in rec.departments:
                continue
            if ("field" in query and rec.field != query["field"]) or \
                    ("status" in query and rec.status.value != query["status"]):
                continue
            if query.get("overdue") in ("1", "true") and not rec.is_overdue(today):
                continue
            if query.get("open") in ("1", "true") and not rec.is_open:
                continue
            rows.append(register_row(state, rec, today))
    rows.sort(key=lambda r: (r["conference_id"], r["rec_id"]))
    return rows


def _cells(row: Mapping[str, Any], lang: str) -> list[Any]:
    answer = "\n".join(a["text"] or ("(tại hội nghị)" if lang == "vi" else "(in the meeting)")
                       for a in row["answers"]) or NO_ANSWER[lang]
    return [row["conference"], row["rec_id"], row["title"], row["field"], "; ".join(row["source_names"]),
            "; ".join(row["department_names"]), row["due"] or "", STATUS_LABELS[lang][row["status"]],
            YES_NO[lang][0 if row["overdue"] else 1], answer, row["carried_from"]]


def register_csv(rows: Iterable[Mapping[str, Any]], lang: str = "vi") -> str:
    out = io.StringIO()
    out.write("\ufeff")   # Excel opens UTF-8 (Vietnamese) correctly with a BOM
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS[lang])
    for row in rows:
        writer.writerow([_safe(c) for c in _cells(row, lang)])
    return out.getvalue()


def _safe(value: Any) -> Any:
    """No cell starts a formula when a spreadsheet opens the CSV."""
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") else value


def register_xlsx(rows: Sequence[Mapping[str, Any]], lang: str = "vi") -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Kien nghi" if lang == "vi" else "Recommendations"
    ws.append(list(COLUMNS[lang]))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE7F3")
    for row in rows:
        ws.append([_safe(c) for c in _cells(row, lang)])
    for col, width in zip("ABCDEFGHIJK", (28, 12, 40, 18, 30, 26, 12, 14, 8, 50, 22), strict=True):
        ws.column_dimensions[col].width = width
    for line in ws.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
