"""The minutes' sections of what the wards brought, as the reader sees them: "Tổng hợp kiến
nghị và trả lời" (one row per recommendation: its sources, departments, answers or "chưa trả
lời", status) and the results of the votes. Built from the content alone (``recommendations``
and ``votes``, see scheduling/ward_minutes.py), every string formatted, so that the HTML, PDF
and DOCX say the same thing and verification can re-render it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .view import clean

LABELS = {
    "vi": {
        "sec_recs": "TỔNG HỢP KIẾN NGHỊ VÀ TRẢ LỜI", "sec_votes": "KẾT QUẢ BIỂU QUYẾT",
        "cols": ("STT", "Kiến nghị", "Đơn vị kiến nghị", "Cơ quan trả lời, hạn", "Nội dung trả lời", "Trạng thái"),
        "no_answer": "Chưa trả lời", "in_meeting": "Trả lời tại hội nghị", "due": "hạn",
        "kept_open": "Chủ trì đề nghị tiếp tục giải quyết", "resolved": "đã giải quyết được vướng mắc",
        "not_resolved": "chưa giải quyết được vướng mắc", "carried": "Chuyển từ", "field": "Lĩnh vực",
        "status": {"submitted": "Chưa phân công", "assigned": "Đang giải quyết", "answered": "Đã trả lời",
                   "accepted": "Đã chấp nhận trả lời"},
        "per_site": "theo điểm cầu", "per_delegate": "theo đại biểu", "secret": "bỏ phiếu kín",
        "open": "công khai", "voters": "{n} điểm cầu đã biểu quyết", "not_closed": "(chưa kết thúc)",
        "who": "Biểu quyết của từng điểm cầu",
    },
    "en": {
        "sec_recs": "RECOMMENDATIONS AND ANSWERS", "sec_votes": "VOTE RESULTS",
        "cols": ("No.", "Recommendation", "Raised by", "Answering body, due", "Answer", "Status"),
        "no_answer": "Not answered", "in_meeting": "Answered in the meeting", "due": "due",
        "kept_open": "The chair kept it open", "resolved": "obstacle resolved", "not_resolved": "obstacle not resolved",
        "carried": "Carried from", "field": "Field",
        "status": {"submitted": "Not assigned", "assigned": "In progress", "answered": "Answered",
                   "accepted": "Answer accepted"},
        "per_site": "per site", "per_delegate": "per delegate", "secret": "secret ballot", "open": "open",
        "voters": "{n} sites voted", "not_closed": "(not closed)", "who": "How each site voted",
    },
}


@dataclass(frozen=True)
class RecRow:
    number: str
    title: str
    field: str                # the field, and where it was carried from
    sources: str
    departments: str
    answers: tuple[str, ...]
    status: str


@dataclass(frozen=True)
class VoteBlock:
    question: str
    how: str
    results: tuple[str, ...]   # "Tán thành: 40"
    voters: str
    who: tuple[str, ...]       # "Phường An: Tán thành" (open votes only)


@dataclass(frozen=True)
class WardView:
    L: dict[str, Any]
    recs: tuple[RecRow, ...]
    votes: tuple[VoteBlock, ...]

    @property
    def empty(self) -> bool:
        return not self.recs and not self.votes


def ward_view(content: dict[str, Any], lang: str) -> WardView:
    L = LABELS.get(lang, LABELS["vi"])
    tz = ZoneInfo(content["header"]["timezone"])
    names = {row["code"]: clean(row["name"]) for row in content.get("attendance", [])}

    def name(code: str) -> str:
        return names.get(code, code)

    def clock(iso: str) -> str:
        return datetime.fromisoformat(iso).astimezone(tz).strftime("%H:%M %d/%m/%Y")

    recs = []
    for i, r in enumerate(content.get("recommendations", []), 1):
        answers = []
        for a in r["answers"]:
            head = f"{name(a['department'])} ({clock(a['at'])})"
            if a["mode"] == "in_meeting":
                head += f" – {L['in_meeting']}"
            answers.append(f"{head}: {clean(a['text'])}" if a["text"] else head)
        answers += [f"{L['kept_open']}: {clean(reason)}" if reason else L["kept_open"] for reason in r["kept_open"]]
        answers += [f"{name(site)}: {L['resolved'] if ok else L['not_resolved']}" for site, ok in r["feedback"].items()]
        field = clean(r["field"]) + (f"; {L['carried']}: {clean(r['carried_from'])}" if r["carried_from"] else "")
        due = f"{L['due']} {datetime.fromisoformat(r['due']).strftime('%d/%m/%Y')}" if r["due"] else ""
        recs.append(RecRow(
            number=str(i), title=clean(r["title"]), field=field,
            sources="; ".join(name(s) for s in r["sources"]),
            departments="; ".join([*(name(d) for d in r["departments"]), *([due] if due else [])]) or "—",
            answers=tuple(answers) or (L["no_answer"],), status=L["status"].get(r["status"], r["status"])))
    votes = []
    for v in content.get("votes", []):
        options = v["options"]
        how = f"{L[v['mode']]}, {L['secret'] if v['secret'] else L['open']}"
        if v["closed_at"] is None:
            how += f" {L['not_closed']}"
        who = tuple(f"{name(b['site'])}: " + ", ".join(f"{clean(options[k])} {n}" if v["mode"] == "per_delegate"
                                                       else clean(options[k]) for k, n in enumerate(b["counts"]) if n)
                    for b in v["ballots"])
        votes.append(VoteBlock(question=clean(v["question"]), how=how,
                               results=tuple(f"{clean(o)}: {n}" for o, n in zip(options, v["tally"], strict=True)),
                               voters=L["voters"].format(n=v["voters"]), who=who))
    return WardView(L=L, recs=tuple(recs), votes=tuple(votes))
