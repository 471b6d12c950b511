"""Builders for the tests of what the wards bring (recommendations, documents, votes):
departments in the directory and invited, a recommendation assigned, a vote open, and the
property generators of these commands (test_sched_properties.py takes them in)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from scheduling_builders import (
    ADMIN,
    CHAIR,
    HAI_CHAU,
    INVITED,
    MAIN,
    SECRETARY,
    THANH_KHE,
    VN,
    Harness,
    build,
    site,
)

from scheduling import SiteInfo, SiteKind, decide_directory, evolve_directory, parse_command
from scheduling.codec import to_plain

TAI_CHINH = "SO-TAI-CHINH"
NOI_VU = "SO-NOI-VU"
DEPARTMENTS = (
    SiteInfo(code=TAI_CHINH, name="Sở Tài chính", parent="Sở, ngành", kind=SiteKind.DEPARTMENT, expected_headcount=3),
    SiteInfo(code=NOI_VU, name="Sở Nội vụ", parent="Sở, ngành", kind=SiteKind.DEPARTMENT, expected_headcount=3),
)
PDF = {"name": "kien-nghi.pdf", "size": 1234, "content_type": "application/pdf", "sha256": "ab" * 32}


def register(h: Harness, *sites: SiteInfo) -> None:
    """Put sites in the harness's directory, through the directory's own commands."""
    for info in sites:
        cmd = parse_command({"type": "register_site", "key": f"dir-{info.code}", "site": to_plain(info)})
        for ev in decide_directory(h.directory, cmd, ADMIN, now=h.now):
            evolve_directory(h.directory, ev)


def with_departments(h: Harness) -> Harness:
    """The two departments in the directory and invited (any phase that allows invitations)."""
    register(h, *DEPARTMENTS)
    h.run(ADMIN, {"type": "invite_sites", "codes": [TAI_CHINH, NOI_VU]})
    return h


def submit(h: Harness, rec_id: str, code: str = HAI_CHAU, *, title: str = "Vướng mắc cấp giấy chứng nhận",
           item_id: str | None = "i2", field: str = "Đất đai") -> None:
    h.run(site(code), {"type": "submit_recommendation", "rec_id": rec_id, "site": code, "title": title,
                               "text": "Đề nghị hướng dẫn thủ tục.\n\nLý do: hồ sơ tồn đọng.", "field": field,
                               "item_id": item_id})


def assign(h: Harness, rec_id: str, *departments: str, due: str = "2025-10-31") -> None:
    h.run(SECRETARY, {"type": "assign_recommendation", "rec_id": rec_id,
                      "departments": list(departments or (TAI_CHINH,)), "due": due})


def live_with_rec(*, assigned: bool = True) -> Harness:
    """Live, departments invited, r1 from HAI_CHAU (assigned to the Sở Tài chính)."""
    h = with_departments(build("live"))
    submit(h, "r1")
    if assigned:
        assign(h, "r1")
    return h


def answered(h: Harness, rec_id: str = "r1") -> Harness:
    h.run(site(TAI_CHINH), {"type": "answer_recommendation", "rec_id": rec_id, "department": TAI_CHINH,
                                    "text": "Sở Tài chính đã ban hành hướng dẫn số 12/HD-STC."})
    return h


def hai_chau_as_department() -> Harness:
    """A live conference where P-HAI-CHAU is a department (for the authorization matrix: the
    site column answers as itself), assigned r1 raised by P-THANH-KHE-DONG."""
    h = build("draft")
    info = h.directory.sites[HAI_CHAU]
    cmd = parse_command({"type": "update_site", "key": "dept", "site": {**to_plain(info), "kind": "department"}})
    for ev in decide_directory(h.directory, cmd, ADMIN, now=h.now):
        evolve_directory(h.directory, ev)
    h.run(ADMIN, {"type": "uninvite_sites", "codes": [HAI_CHAU]})
    h.run(ADMIN, {"type": "invite_sites", "codes": [HAI_CHAU]})
    h.run(ADMIN, {"type": "schedule_conference"})
    h.run(CHAIR, {"type": "start_rehearsal"})
    h.now = datetime(2025, 10, 3, 8, 0, tzinfo=VN)
    h.run(CHAIR, {"type": "open_conference"})
    submit(h, "r1", THANH_KHE)
    assign(h, "r1", HAI_CHAU)
    return h


def open_vote(h: Harness, vote_id: str = "v1", *, mode: str = "per_site", secret: bool = False,
              minutes: int = 5) -> None:
    h.run(CHAIR, {"type": "open_vote", "vote_id": vote_id, "question": "Thông qua kế hoạch quý IV?",
                  "mode": mode, "secret": secret, "deadline": (h.now + timedelta(minutes=minutes)).isoformat()})


# -- property generators ------------------------------------------------------------------------

Draw = Callable[[st.SearchStrategy[Any]], Any]
RECS = ("r1", "r2", "r3")
VOTES = ("v1", "v2")
DOCS = ("d1", "d2")
SITES = (MAIN, *INVITED, TAI_CHINH, "P-KHONG-CO")


def _pick(draw: Draw, existing: list[str], pool: tuple[str, ...]) -> str:
    if existing and draw(st.booleans()):
        return draw(st.sampled_from(existing))  # type: ignore[no-any-return]
    return draw(st.sampled_from(pool))  # type: ignore[no-any-return]


def _recs(h: Harness) -> list[str]:
    return list(h.s.recommendations)


def _votes(h: Harness) -> list[str]:
    return list(h.s.votes)


WARD_GENERATORS: dict[str, Callable[[Draw, Harness], dict[str, Any]]] = {
    "submit_recommendation": lambda d, h: {"rec_id": d(st.sampled_from(RECS)), "site": d(st.sampled_from(SITES)),
                                           "title": "Kiến nghị", "text": "Nội dung",
                                           "field": d(st.sampled_from(["Đất đai", "Khác", "Không có"]))},
    "merge_recommendations": lambda d, h: {"into": _pick(d, _recs(h), RECS),
                                           "others": [_pick(d, _recs(h), RECS)]},
    "assign_recommendation": lambda d, h: {"rec_id": _pick(d, _recs(h), RECS),
                                           "departments": [d(st.sampled_from(SITES))],
                                           "due": (h.now.date() + timedelta(days=d(st.integers(-2, 30)))).isoformat()},
    "mark_recommendation_for_meeting": lambda d, h: {"rec_id": _pick(d, _recs(h), RECS), "in_meeting": d(st.booleans())},
    "answer_recommendation": lambda d, h: {"rec_id": _pick(d, _recs(h), RECS), "department": d(st.sampled_from(SITES)),
                                           "mode": d(st.sampled_from(["written", "in_meeting"])), "text": "Trả lời"},
    "decide_answer": lambda d, h: {"rec_id": _pick(d, _recs(h), RECS), "accept": d(st.booleans())},
    "give_recommendation_feedback": lambda d, h: {"rec_id": _pick(d, _recs(h), RECS), "site": d(st.sampled_from(SITES)),
                                                  "resolved": d(st.booleans())},
    "carry_recommendations": lambda d, h: {"items": [{
        "rec_id": d(st.sampled_from(RECS)), "origin": "quy-2/r1", "site": HAI_CHAU, "title": "Cũ", "text": "Cũ",
        "field": "Đất đai", "sources": [HAI_CHAU]}]},
    "add_document": lambda d, h: {"document_id": d(st.sampled_from(DOCS)), "file": PDF},
    "remove_document": lambda d, h: {"document_id": d(st.sampled_from(DOCS))},
    "record_document_receipt": lambda d, h: {"document_id": d(st.sampled_from(DOCS)), "site": d(st.sampled_from(SITES)),
                                             "how": d(st.sampled_from(["open", "download"]))},
    "open_vote": lambda d, h: {"vote_id": d(st.sampled_from(VOTES)), "question": "Biểu quyết",
                               "mode": d(st.sampled_from(["per_site", "per_delegate"])),
                               "deadline": (h.now + timedelta(seconds=d(st.integers(-60, 900)))).isoformat()},
    "cast_vote": lambda d, h: {"vote_id": _pick(d, _votes(h), VOTES), "site": d(st.sampled_from(SITES)), **d(
        st.one_of(st.integers(0, 3).map(lambda o: {"option": o}),
                  st.lists(st.integers(0, 30), min_size=3, max_size=3).map(lambda c: {"counts": c})))},
    "close_vote": lambda d, h: {"vote_id": _pick(d, _votes(h), VOTES)},
}
WARD_SITE_COMMANDS = {"submit_recommendation", "give_recommendation_feedback", "record_document_receipt", "cast_vote"}
WARD_SECRETARY_COMMANDS = {"merge_recommendations", "assign_recommendation", "mark_recommendation_for_meeting",
                           "carry_recommendations", "add_document", "remove_document"}
WARD_LIVE_COMMANDS = ["submit_recommendation", "merge_recommendations", "assign_recommendation", "open_vote",
                      "cast_vote", "cast_vote", "close_vote", "add_document", "record_document_receipt"]
