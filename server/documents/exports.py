"""Read models and files made from them, with no I/O: action items as CSV and XLSX, the
receipts tracker of a minutes version (and as CSV), iCalendar (a conference's invite; action items' due
dates). The routes that serve them are in server/web/minutes_api.py; the minutes documents
as the server renders them are in render_cache.py.

CSV is UTF-8 with a byte-order mark (Excel opens Vietnamese text correctly only with it),
one header row; dates ISO 8601 (times in the conference's time zone). XLSX has real date
cells, a frozen header with filters, and overdue rows marked.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from scheduling import ConferenceState, Phase

CSV_BOM = "\ufeff"
PRODID = "-//bridgeconf//bridgeconf 1//VI"

# -- action items -------------------------------------------------------------------------------

# (key of an action row, (vi, en) header)
ACTION_COLUMNS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("conference_id", ("Mã hội nghị", "Conference id")),
    ("conference", ("Hội nghị", "Conference")),
    ("action_id", ("Mã nhiệm vụ", "Action id")),
    ("title", ("Nhiệm vụ", "Task")),
    ("description", ("Mô tả", "Description")),
    ("assignees", ("Mã đơn vị thực hiện", "Assignee codes")),
    ("assignee_names", ("Đơn vị thực hiện", "Assigned to")),
    ("due", ("Hạn hoàn thành", "Due")),
    ("status", ("Trạng thái", "Status")),
    ("overdue", ("Quá hạn", "Overdue")),
    ("confirmed", ("Đã xác nhận hoàn thành", "Confirmed done")),
    ("progress_at", ("Cập nhật tiến độ lúc", "Progress reported at")),
    ("progress_percent", ("Tiến độ (%)", "Progress (%)")),
    ("progress_text", ("Tiến độ gần nhất", "Latest progress")),
)
STATUS_NAMES: dict[str, tuple[str, str]] = {
    "open": ("Mới giao", "Open"), "in_progress": ("Đang thực hiện", "In progress"),
    "done": ("Hoàn thành", "Done"), "cancelled": ("Đã hủy", "Cancelled"),
}
YES_NO = {True: ("Có", "Yes"), False: ("Không", "No")}


def _col(lang: str) -> int:
    return 1 if lang == "en" else 0


def action_cells(row: Mapping[str, Any], lang: str = "vi") -> list[Any]:
    """One row of the dashboard (``GET /actions``) as typed cells, in ACTION_COLUMNS order."""
    i = _col(lang)
    last = (row.get("updates") or [None])[-1]
    values = {
        **row,
        "assignees": "; ".join(row["assignees"]), "assignee_names": "; ".join(row.get("assignee_names") or []),
        "due": date.fromisoformat(row["due"]),
        "status": STATUS_NAMES.get(row["status"], (row["status"],) * 2)[i],
        "overdue": YES_NO[bool(row.get("overdue"))][i], "confirmed": YES_NO[bool(row.get("confirmed"))][i],
        "progress_at": datetime.fromisoformat(last["at"]) if last else None,
        "progress_percent": last.get("percent") if last else None,
        "progress_text": last["text"] if last else "",
    }
    return [values[key] for key, _ in ACTION_COLUMNS]


def actions_csv(rows: Iterable[Mapping[str, Any]], lang: str = "vi") -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([names[_col(lang)] for _, names in ACTION_COLUMNS])
    for row in rows:
        w.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v
                    for v in action_cells(row, lang)])
    return CSV_BOM + out.getvalue()


def actions_xlsx(rows: Sequence[Mapping[str, Any]], lang: str = "vi") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "Nhiệm vụ" if lang == "vi" else "Action items"
    ws.append([names[_col(lang)] for _, names in ACTION_COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    overdue = PatternFill("solid", fgColor="FDE2E1")
    keys = [key for key, _ in ACTION_COLUMNS]
    for row in rows:
        cells = action_cells(row, lang)
        progress_at = cells[keys.index("progress_at")]
        if isinstance(progress_at, datetime):   # Excel has no time zones: the wall-clock time of the record
            cells[keys.index("progress_at")] = progress_at.replace(tzinfo=None)
        ws.append(cells)
        if row.get("overdue"):
            for cell in ws[ws.max_row]:
                cell.fill = overdue
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    widths = {"conference_id": 18, "conference": 36, "action_id": 12, "title": 48, "description": 40,
              "assignees": 20, "assignee_names": 36, "due": 14, "status": 16, "overdue": 10, "confirmed": 12,
              "progress_at": 18, "progress_percent": 10, "progress_text": 40}
    for n, key in enumerate(keys, start=1):
        letter = ws.cell(row=1, column=n).column_letter
        ws.column_dimensions[letter].width = widths[key]
        if key == "due":
            for cell in ws[letter][1:]:
                cell.number_format = "DD/MM/YYYY"
        elif key == "progress_at":
            for cell in ws[letter][1:]:
                cell.number_format = "DD/MM/YYYY HH:MM"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- the receipts tracker --------------------------------------------------------------------------

RECEIPT_COLUMNS = ("site", "name", "status", "delivered_at", "opened_at", "acknowledged_at", "reminders",
                   "reminded_at", "email", "email_status", "email_at", "email_error")


def receipts_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """The tracker's rows (``tracker``) as CSV, one site a line."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(RECEIPT_COLUMNS)
    for row in rows:
        w.writerow(["" if row.get(k) is None else row[k] for k in RECEIPT_COLUMNS])
    return CSV_BOM + out.getvalue()


def tracker(state: ConferenceState, version: int, directory: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The receipts tracker of a version: per site it was sent to, delivered / opened /
    acknowledged (times in the conference's offset), reminders, and its e-mail (the address
    from the ``directory`` of sites, else the conference's copy)."""
    mail = state.minutes.mail.get(version, {})
    tz = state.tz
    rows = []
    for code, r in state.minutes.receipts.get(version, {}).items():
        site = state.sites.get(code)
        email = (directory[code].email if code in directory else "") or (site.email if site else "")
        sent = mail.get(f"site:{code}")
        rows.append({
            "site": code, "name": site.name if site else code,
            "status": "acknowledged" if r.acknowledged_at else "opened" if r.opened_at else "delivered",
            "delivered_at": _at(r.delivered_at, tz), "opened_at": _at(r.opened_at, tz),
            "acknowledged_at": _at(r.acknowledged_at, tz), "reminders": r.reminders,
            "reminded_at": _at(r.reminded_at, tz), "email": email,
            "email_status": _mail_status(sent, email), "email_at": _at(sent.at, tz) if sent else None,
            "email_error": sent.error if sent else ""})
    return rows


def account_mail(state: ConferenceState, version: int, accounts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The accounts a version was sent to, and their e-mail."""
    mail = state.minutes.mail.get(version, {})
    out = []
    for account_id in state.minutes.accounts.get(version, ()):
        acc = accounts.get(account_id)
        sent = mail.get(f"account:{account_id}")
        email = acc.email if acc else ""
        out.append({"account": account_id, "name": acc.name if acc else account_id, "email": email,
                    "email_status": _mail_status(sent, email), "email_error": sent.error if sent else ""})
    return out


def tracker_totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    count = lambda pred: sum(1 for r in rows if pred(r))  # noqa: E731
    return {"sites": len(rows), "opened": count(lambda r: r["opened_at"]),
            "acknowledged": count(lambda r: r["acknowledged_at"]),
            "waiting": count(lambda r: not r["acknowledged_at"]), "reminded": count(lambda r: r["reminders"]),
            "email_sent": count(lambda r: r["email_status"] == "sent"),
            "email_failed": count(lambda r: r["email_status"] == "email_failed")}


def _mail_status(sent: Any, email: str) -> str:
    if sent is not None:
        return "email_failed" if sent.error else "sent"
    return "not_sent" if email else "no_address"


def _at(t: Any, tz: Any) -> str | None:
    return t.astimezone(tz).isoformat() if t is not None else None


# -- iCalendar -----------------------------------------------------------------------------------

def _calendar(name: str) -> Any:
    from icalendar import Calendar
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    return cal


def invite_ics(state: ConferenceState, *, now: datetime, url: str = "", host: str = "bridgeconf") -> bytes:
    """An invite for the conference: its title, start and end in its time zone (TZID, with
    the VTIMEZONE), the main bridge as location, and the agenda in the description. Its
    SEQUENCE is the conference's seq, so a calendar takes a changed invite over the old one."""
    from icalendar import Event

    cal = _calendar(state.title)
    ev = Event()
    ev.add("uid", f"{state.conference_id}@{host}")
    ev.add("dtstamp", now)
    ev.add("dtstart", state.starts_at.astimezone(state.tz))
    ev.add("dtend", state.ends_at.astimezone(state.tz))
    ev.add("summary", state.title)
    ev.add("location", state.sites[state.main_site].name)
    ev.add("description", invite_description(state, url))
    ev.add("sequence", state.version)
    ev.add("status", "CANCELLED" if state.phase is Phase.CANCELLED else "CONFIRMED")
    ev.add("categories", ["bridgeconf", state.kind.value])
    if url:
        ev.add("url", url)
    cal.add_component(ev)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def invite_description(state: ConferenceState, url: str = "") -> str:
    tz = state.tz
    lines = [state.title]
    if state.description:
        lines += ["", state.description]
    lines += ["", f"Điểm cầu chính: {state.sites[state.main_site].name}",
              f"Thời gian: {state.starts_at.astimezone(tz):%H:%M} – {state.ends_at.astimezone(tz):%H:%M} "
              f"ngày {state.starts_at.astimezone(tz):%d/%m/%Y}",
              f"Số điểm cầu: {len(state.remote_sites())}", "", "Chương trình:"]
    for n, item in enumerate(state.agenda, 1):
        extra = ", ".join(x for x in (item.presenter, f"{item.planned_minutes} phút" if item.planned_minutes else "") if x)
        lines.append(f"{n}. {item.title}" + (f" ({extra})" if extra else ""))
    if not state.agenda:
        lines.append("(chưa có)")
    if url:
        lines += ["", f"Tham gia: {url}"]
    return "\n".join(lines)


ICS_STATUS = {"open": "NEEDS-ACTION", "in_progress": "IN-PROCESS", "done": "COMPLETED", "cancelled": "CANCELLED"}


def actions_ics(rows: Iterable[Mapping[str, Any]], *, now: datetime, as_events: bool = False,
                host: str = "bridgeconf") -> bytes:
    """Action items' due dates: a VTODO each (DUE a date, STATUS, PERCENT-COMPLETE), or with
    ``as_events`` an all-day VEVENT on the due date (for calendars that ignore tasks)."""
    from icalendar import Event, Todo

    cal = _calendar("Nhiệm vụ được giao")
    for row in rows:
        due = date.fromisoformat(row["due"])
        last = (row.get("updates") or [None])[-1]
        comp = Event() if as_events else Todo()
        comp.add("uid", f"{row['conference_id']}.{row['action_id']}@{host}")
        comp.add("dtstamp", now)
        comp.add("summary", row["title"])
        names = "; ".join(row.get("assignee_names") or row["assignees"])
        text = [f"Hội nghị: {row.get('conference', row['conference_id'])}", f"Đơn vị thực hiện: {names}",
                f"Trạng thái: {STATUS_NAMES.get(row['status'], (row['status'],))[0]}"
                + (" (quá hạn)" if row.get("overdue") else "")]
        if row.get("description"):
            text.insert(0, row["description"])
        if last:
            text.append(f"Tiến độ gần nhất: {last['text']}")
        comp.add("description", "\n".join(text))
        comp.add("categories", [row["conference_id"]])
        if as_events:
            comp.add("dtstart", due)
            comp.add("dtend", due + timedelta(days=1))
            comp.add("transp", "TRANSPARENT")
        else:
            comp.add("due", due)
            comp.add("status", ICS_STATUS.get(row["status"], "NEEDS-ACTION"))
            percent = 100 if row["status"] == "done" else (last or {}).get("percent")
            if percent is not None:
                comp.add("percent-complete", percent)
        cal.add_component(comp)
    return bytes(cal.to_ical())


# -- documents -------------------------------------------------------------------------------------

def place_of(state: ConferenceState) -> str:
    """The place printed before the date of the minutes: the main bridge's parent without
    its administrative prefix ("UBND Thành phố Hà Nội" -> "Hà Nội"); empty when unknown."""
    parent = state.sites[state.main_site].parent.strip()
    for prefix in ("UBND ", "Ủy ban nhân dân ", "Uỷ ban nhân dân "):
        if parent.startswith(prefix):
            parent = parent[len(prefix):]
    for prefix in ("Thành phố ", "Tỉnh ", "thành phố ", "tỉnh "):
        if parent.startswith(prefix):
            return parent[len(prefix):]
    return ""
