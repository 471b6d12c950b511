"""The minutes as the reader sees them: every string already formatted (times in the
conference's time zone, dd/mm/yyyy and HH:MM, numbers, durations, labels in the chosen
language, site names instead of codes). The HTML, PDF and DOCX renderers only lay this out,
so the three formats always say the same thing.

Text from the content is untrusted: it is kept as text here (never markup) and each renderer
escapes it for its format; characters no document format can carry are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .labels import labels, number
from .source import MinutesSource, RenderOptions, account_id

_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
GENESIS = "0" * 64


def clean(text: Any) -> str:
    """Plain text that every format can carry (no C0 controls, no lone surrogates)."""
    return _UNSAFE.sub("", str(text))


@dataclass(frozen=True)
class Field:
    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class AttendanceRow:
    number: str
    site: str
    main: bool
    present: bool
    presence: str
    joined: str
    left: str
    headcount: str
    leaders_present: str            # "2/3", empty when the site reported no leaders
    leaders_absent: tuple[str, ...]  # "Name (title): reason"


@dataclass(frozen=True)
class AgendaRow:
    number: str
    title: str
    presenter: str
    start: str
    planned: str
    actual: str
    delta: str
    status: str


@dataclass(frozen=True)
class SpeakerRow:
    number: str
    site: str
    topic: str
    start: str
    duration: str
    slides: str = ""                    # "Trình chiếu: Báo cáo quý III — trang 3, 4, 5" (during this turn)


@dataclass(frozen=True)
class ItemSection:
    number: str
    title: str
    presenter: str
    time_line: str
    follow_up: str                      # references of reviewed action items without a status
    follow_up_lines: tuple[str, ...]    # reviewed action items with the status the minutes record
    speakers: tuple[SpeakerRow, ...]
    notes: tuple[str, ...]
    conclusions: tuple[str, ...]
    slides: tuple[str, ...] = ()        # slides shown outside any speaking turn, per presenter


@dataclass(frozen=True)
class ActionRow:
    number: str
    title: str
    description: str
    assignees: str
    due: str
    item: str
    status: str


@dataclass(frozen=True)
class Headers:
    """The header row of each table (shared by the renderers and by verification, which
    ignores them where a page break repeats them)."""

    attendance: tuple[str, ...]
    agenda: tuple[str, ...]
    speakers: tuple[str, ...]
    actions: tuple[str, ...]

    def all(self) -> tuple[tuple[str, ...], ...]:
        return (self.attendance, self.agenda, self.speakers, self.actions)


def headers(L: dict[str, str]) -> Headers:
    return Headers(
        attendance=(L["col_no"], L["col_site"], L["col_presence"], L["col_joined"], L["col_left"],
                    L["col_headcount"], L["col_leaders_present"], L["col_leaders"]),
        agenda=(L["col_no"], L["col_item"], L["col_presenter"], L["col_start"], L["col_planned"],
                L["col_actual"], L["col_delta"], L["col_status"]),
        speakers=(L["col_no"], L["col_site"], L["col_speaker"], L["col_start"], L["col_duration"]),
        actions=(L["col_no"], L["col_task"], L["col_assignees"], L["col_due"], L["col_from_item"], L["col_status"]),
    )


@dataclass(frozen=True)
class MinutesView:
    lang: str
    L: dict[str, str]
    headers: Headers
    draft: bool
    governing_body: str                 # the line above the issuing body ("" when none)
    organization: str                   # the issuing body
    number_line: str                    # "Số: 12/BB-VP" ("Số: …/BB-VP" for a draft; "" without settings)
    place_date: str
    title: str
    fields: tuple[Field, ...]
    attendance: tuple[AttendanceRow, ...]
    attendance_total: str
    agenda: tuple[AgendaRow, ...]
    sections: tuple[ItemSection, ...]
    general_notes: tuple[str, ...]
    actions: tuple[ActionRow, ...]
    closing: str
    secretaries: tuple[str, ...]
    chair: str
    secretary_title: str
    chair_title: str
    recipients: tuple[str, ...]         # Nơi nhận ("" when none)
    verification: tuple[Field, ...]     # empty for a draft
    footer: str                         # the line printed at the foot of every page
    doc_title: str                      # file metadata title


class _Fmt:
    """Formatting in the conference's time zone and the chosen language."""

    def __init__(self, tz: str, lang: str, day: datetime | None) -> None:
        self.tz = ZoneInfo(tz)
        self.lang = lang
        self.day = day.astimezone(self.tz).date() if day else None

    def at(self, iso: str | None) -> datetime | None:
        return datetime.fromisoformat(iso).astimezone(self.tz) if iso else None

    def hm(self, iso: str | None) -> str:
        """HH:MM, with the date in front when it is not the conference's day."""
        t = self.at(iso)
        if t is None:
            return "—"
        return t.strftime("%H:%M") if t.date() == self.day else t.strftime("%d/%m/%Y %H:%M")

    def date(self, iso: str | None) -> str:
        t = self.at(iso)
        return t.strftime("%d/%m/%Y") if t else "—"

    def n(self, value: int) -> str:
        return number(value, self.lang)

    def duration(self, seconds: int) -> str:
        m, s = divmod(max(0, int(seconds)), 60)
        return f"{m} phút {s:02d} giây" if self.lang == "vi" else f"{m} min {s:02d} s"


def build_view(source: MinutesSource, options: RenderOptions) -> MinutesView:
    c = source.content
    h = c["header"]
    L = labels(options.lang)
    start_iso = h.get("opened_at") or h["planned_start"]
    f = _Fmt(h["timezone"], options.lang, datetime.fromisoformat(start_iso))
    main = h["main_site"]
    name = _namer(options, h.get("names") or {})
    attendance = tuple(_attendance_row(i, row, main["code"], L, f) for i, row in enumerate(c["attendance"], 1))
    present = sum(1 for r in attendance if r.present)
    totals = c["totals"]
    totals_line = L["totals_line"].format(
        people=f.n(totals["people"]), present=present, invited=len(attendance),
        expected=f.n(totals["expected"]), absent=len(attendance) - present)
    items = {item["item_id"]: str(i) for i, item in enumerate(c["agenda"], 1)}
    end_iso = h.get("ended_at") or h["planned_end"]
    fields = (
        Field(L["time"], _time_line(h, L, f)),
        Field(L["form"], L["form_value"].format(n=max(0, len(attendance) - 1))),
        Field(L["main_site"], clean(main["name"])),
        Field(L["chair"], name(h["chair"])),
        Field(L["secretaries"], "; ".join(name(s) for s in h["secretaries"]) or "—"),
        Field(L["attendance_total"], totals_line),
    )
    end = f.at(end_iso)
    sites = {row["code"]: clean(row["name"]) for row in c["attendance"]}
    closing = L["closing"].format(time=_clock(end, options.lang), date=f.date(end_iso)) if end else ""
    record = c.get("record")   # the issuer's settings and number, inside the hash (absent in older versions)
    place = str(record.get("place", "")) if record is not None else options.place
    return MinutesView(
        lang=options.lang, L=L, headers=headers(L), draft=source.is_draft,
        governing_body=clean(record.get("governing_body", "")).upper() if record else "",
        organization=(clean(record.get("issuing_body", "")).upper() if record else "")
        or clean(main.get("parent") or main["name"]).upper(),
        number_line=_number_line(record, L),
        place_date=_place_date(place, f.at(start_iso), L),
        title=clean(h["title"]), fields=fields, attendance=attendance,
        attendance_total=f"{f.n(totals['people'])} / {f.n(totals['expected'])}",
        agenda=tuple(_agenda_row(i, item, L, f) for i, item in enumerate(c["agenda"], 1)),
        sections=tuple(_section(i, item, L, f, name, {**sites, main["code"]: clean(main["name"])})
                       for i, item in enumerate(c["agenda"], 1)),
        general_notes=tuple(clean(n["text"]) for n in c.get("general_notes", [])),
        actions=tuple(_action_row(i, a, sites, items, L, f) for i, a in enumerate(c["actions"], 1)),
        closing=closing,
        secretaries=tuple(_signature(name(s)) for s in h["secretaries"]),
        chair=_signature(name(h["chair"])),
        secretary_title=(clean(record.get("secretary_title", "")).upper() if record else "") or L["sign_secretary"],
        chair_title=(clean(record.get("chair_title", "")).upper() if record else "") or L["sign_chair"],
        recipients=tuple(clean(r) for r in record.get("recipients", [])) if record else (),
        verification=_verification(source, L, f, name),
        footer=_footer(source, L),
        doc_title=f"{L['doc_kind']} – {clean(h['title'])}",
    )


def _namer(options: RenderOptions, recorded: dict[str, str]) -> Any:
    """Display names: those the content records (covered by its hash) before the options'."""
    def name(account: str) -> str:
        key = account_id(str(account))
        return clean(recorded.get(key) or options.names.get(key, key))
    return name


def _number_line(record: dict[str, Any] | None, L: dict[str, str]) -> str:
    if record is None:
        return ""
    number = record.get("number_text") or f"…/{record.get('symbol', '')}"
    return f"{L['number']}: {clean(number)}"


def _signature(display: str) -> str:
    """The name alone under a signature ("Lê Minh Quang – Chủ tịch …" -> "Lê Minh Quang")."""
    return display.split(" – ", 1)[0]


def _clock(t: datetime, lang: str) -> str:
    return f"{t.hour:02d} giờ {t.minute:02d} phút" if lang == "vi" else f"{t:%H:%M}"


def _place_date(place: str, day: datetime | None, L: dict[str, str]) -> str:
    if day is None:
        return ""
    phrase = L["day_phrase"].format(d=day.day, m=day.month, y=day.year)
    return f"{clean(place)}, {phrase}" if place else phrase[:1].upper() + phrase[1:]


def _time_line(h: dict[str, Any], L: dict[str, str], f: _Fmt) -> str:
    start, end = h.get("opened_at") or h["planned_start"], h.get("ended_at") or h["planned_end"]
    actual = L["time_range"].format(start=f.hm(start), end=f.hm(end), date=f.date(start))
    planned = L["planned_range"].format(start=f.hm(h["planned_start"]), end=f.hm(h["planned_end"]))
    return f"{actual} ({planned})"


def _attendance_row(i: int, row: dict[str, Any], main: str, L: dict[str, str], f: _Fmt) -> AttendanceRow:
    leaders = row.get("leaders") or []
    absent = [x for x in leaders if not x.get("present", True)]
    absent_lines = tuple(clean(x["name"]) + (f" ({clean(x['title'])})" if x.get("title") else "")
                         + f": {clean(x.get('reason', ''))}" for x in absent)
    present = bool(row["present"])
    return AttendanceRow(
        number=str(i), site=clean(row["name"]), main=row["code"] == main,
        present=present, presence=L["present"] if present else L["absent"],
        joined=f.hm(row.get("joined")) if present else "—", left=f.hm(row.get("left")) if present else "—",
        headcount=f"{f.n(row['headcount'])} / {f.n(row['expected'])}" if present else f"— / {f.n(row['expected'])}",
        leaders_present=f"{len(leaders) - len(absent)}/{len(leaders)}" if leaders else "—",
        leaders_absent=absent_lines)


def _minutes_of(seconds: int) -> int:
    return int(round(seconds / 60))


def _agenda_row(i: int, item: dict[str, Any], L: dict[str, str], f: _Fmt) -> AgendaRow:
    runs = item.get("runs") or []
    actual = _minutes_of(item.get("actual_seconds", 0))
    planned = int(item.get("planned_minutes") or 0)
    delta = actual - planned if runs and planned else None
    return AgendaRow(
        number=str(i), title=clean(item["title"]), presenter=clean(item.get("presenter", "")),
        start=f.hm(runs[0]["started"]) if runs else "—", planned=str(planned) if planned else "—",
        actual=str(actual) if runs else "—",
        delta="—" if delta is None else ("0" if delta == 0 else f"{delta:+d}".replace("-", "−")),
        status=L.get(f"status_{item.get('status', '')}", clean(item.get("status", ""))))


def _section(i: int, item: dict[str, Any], L: dict[str, str], f: _Fmt, name: Any,
             sites: dict[str, str]) -> ItemSection:
    runs = item.get("runs") or []
    ranges = ", ".join(f"{f.hm(r['started'])} – {f.hm(r['ended'])}" for r in runs) or "—"
    planned = int(item.get("planned_minutes") or 0)
    time_line = L["item_time"].format(range=ranges, planned=planned or "—",
                                      actual=_minutes_of(item.get("actual_seconds", 0)) if runs else "—")
    rows = item.get("speakers") or []
    during, outside = _slides_by_turn(rows, item.get("slides") or [])
    speakers = tuple(SpeakerRow(number=str(k), site=clean(s.get("name") or s["site"]), topic=clean(s.get("topic", "")),
                                start=f.hm(s["started"]), duration=f.duration(s["seconds"]),
                                slides=_slides_line(during.get(k - 1, []), L))
                     for k, s in enumerate(rows, 1))
    by_presenter: dict[str, list[dict[str, Any]]] = {}
    for x in outside:
        by_presenter.setdefault(str(x.get("presenter", "")), []).append(x)
    slides = tuple(L["slides_by"].format(line=_slides_line(shown, L), presenter=sites.get(who) or clean(who))
                   for who, shown in by_presenter.items())
    statuses = {x["ref"]: x for x in item.get("follow_up_status") or []}
    refs = item.get("follow_up") or []
    lines = tuple(_follow_up_line(statuses[r], L, f) for r in refs if r in statuses)
    follow_up = ", ".join(clean(r) for r in refs if r not in statuses)
    return ItemSection(number=str(i), title=clean(item["title"]), presenter=clean(item.get("presenter", "")),
                       time_line=time_line, follow_up=follow_up, follow_up_lines=lines, speakers=speakers,
                       notes=tuple(clean(n) for n in item.get("notes") or []),
                       conclusions=tuple(clean(n) for n in item.get("conclusions") or []), slides=slides)


def _slides_by_turn(rows: list[dict[str, Any]], slides: list[dict[str, Any]],
                    ) -> tuple[dict[int, list[dict[str, Any]]], list[dict[str, Any]]]:
    """The slides shown during each speaking turn (by the turn's index in ``rows``: the last
    turn of the site the slide records as holding the floor that started before it) and those
    shown outside any turn."""
    during: dict[int, list[dict[str, Any]]] = {}
    outside: list[dict[str, Any]] = []
    for x in slides:
        at = datetime.fromisoformat(str(x["at"]))
        turns = [k for k, r in enumerate(rows)
                 if x.get("turn") and r.get("site") == x["turn"] and datetime.fromisoformat(r["started"]) <= at]
        if turns:
            during.setdefault(turns[-1], []).append(x)
        else:
            outside.append(x)
    return during, outside


def _slides_line(shown: list[dict[str, Any]], L: dict[str, str]) -> str:
    """"Trình chiếu: Báo cáo quý III — trang 3–5, 8; Phụ lục — trang 1": each deck in the
    order first shown, its pages in order (four or more in a row as a range)."""
    if not shown:
        return ""
    pages: dict[str, set[int]] = {}
    for x in shown:
        pages.setdefault(clean(x.get("deck") or x.get("deck_id", "")), set()).add(int(x["page"]))
    decks = [L["slides_deck_one" if len(p) == 1 else "slides_deck_many"].format(deck=deck, pages=_page_ranges(p))
             for deck, p in pages.items()]
    return L["slides_line"].format(decks="; ".join(decks))


def _page_ranges(pages: set[int]) -> str:
    """{1, 2, 3, 4, 8} -> "1–4, 8"; {3, 4, 5} -> "3, 4, 5"."""
    out: list[str] = []
    run: list[int] = []
    for p in sorted(pages):
        if run and p != run[-1] + 1:
            out.append(_run_text(run))
            run = []
        run.append(p)
    if run:
        out.append(_run_text(run))
    return ", ".join(out)


def _run_text(run: list[int]) -> str:
    return f"{run[0]}–{run[-1]}" if len(run) >= 4 else ", ".join(str(p) for p in run)


def _follow_up_line(x: dict[str, Any], L: dict[str, str], f: _Fmt) -> str:
    """"Rà soát hộ nghèo (Phường An; hạn 31/10/2025): Đang thực hiện, quá hạn — tiến độ
    gần nhất 20/10/2025: Đã rà soát 12/15 tổ (80%)"."""
    due = x["due"]
    status = L.get(f"action_{x.get('status', '')}", clean(x.get("status", "")))
    if x.get("overdue"):
        status += f", {L['overdue']}"
    line = (f"{clean(x['title'])} ({'; '.join(clean(n) for n in x.get('assignee_names') or [])}; "
            f"{L['due_short']} {due[8:10]}/{due[5:7]}/{due[0:4]}): {status}")
    p = x.get("last_progress")
    if p:
        at = f.date(p["at"])
        percent = f" ({p['percent']}%)" if p.get("percent") is not None else ""
        line += f" — {L['last_progress']} {at}: {clean(p['text'])}{percent}"
    return line


def _action_row(i: int, a: dict[str, Any], sites: dict[str, str], items: dict[str, str],
                L: dict[str, str], f: _Fmt) -> ActionRow:
    due = a["due"]
    return ActionRow(
        number=str(i), title=clean(a["title"]), description=clean(a.get("description", "")),
        assignees="; ".join(sites.get(code, clean(code)) for code in a["assignees"]),
        due=f"{due[8:10]}/{due[5:7]}/{due[0:4]}", item=items.get(a.get("item_id") or "", "—"),
        status=L.get(f"action_{a.get('status', '')}", clean(a.get("status", ""))))


def _verification(source: MinutesSource, L: dict[str, str], f: _Fmt, name: Any) -> tuple[Field, ...]:
    a = source.approval
    if a is None:
        return ()
    block = source.content.get("approval")
    if isinstance(block, dict):   # what the hash covers: who approved, as whom, when, after which version
        at = f.at(str(block["approved_at"]))
        who = clean(block.get("approver_name") or "") or name(block["approved_by"])
        role = L.get(f"role_{block.get('role', '')}", clean(block.get("role", "")))
        when = f"{at:%d/%m/%Y %H:%M}" if at else "—"
        return (
            Field(L["version"], str(block["version"])),
            Field(L["approved"], L["approved_value"].format(when=when, who=f"{who} ({role})")),
            Field(L["sha256"], a.sha256),
            Field(L["prev_sha256"], str(block["prev_sha256"]), L["genesis"] if block["prev_sha256"] == GENESIS else ""),
        )
    when = f"{f.date(a.approved_at.isoformat())} {a.approved_at.astimezone(f.tz):%H:%M}" if a.approved_at else "—"
    return (
        Field(L["version"], str(a.version)),
        Field(L["approved"], L["approved_value"].format(when=when, who=name(a.approved_by) if a.approved_by else "—")),
        Field(L["sha256"], a.sha256),
        Field(L["prev_sha256"], a.prev_sha256, L["genesis"] if a.prev_sha256 == GENESIS else ""),
    )


def _footer(source: MinutesSource, L: dict[str, str]) -> str:
    a = source.approval
    if a is None:
        return L["draft"]
    return f"{L['version']} {a.version} · SHA-256 {a.sha256[:16]}…"
