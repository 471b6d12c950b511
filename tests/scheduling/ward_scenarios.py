"""The authorization matrix's scenarios for recommendations, documents and votes: a harness
where each command succeeds for someone allowed, the command about P-HAI-CHAU."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scheduling_builders import HAI_CHAU, SECRETARY, Harness, build
from ward_builders import (
    PDF,
    TAI_CHINH,
    answered,
    hai_chau_as_department,
    live_with_rec,
    open_vote,
    submit,
    with_departments,
)


def _live_with(*steps: Callable[[Harness], Any], assigned: bool = True) -> Callable[[], Harness]:
    def make() -> Harness:
        h = live_with_rec(assigned=assigned)
        for step in steps:
            step(h)
        return h
    return make


def _document(h: Harness) -> None:
    h.run(SECRETARY, {"type": "add_document", "document_id": "d1", "file": PDF})


def _online_vote() -> Harness:
    h = build("live")
    h.online(HAI_CHAU)
    open_vote(h)
    return h


def _vote_only() -> Harness:
    h = build("live")
    open_vote(h)
    return h


CARRIED = {"rec_id": "c1", "origin": "giao-ban-q2-2025/r7", "site": HAI_CHAU, "title": "Vướng mắc đất đai",
           "text": "Chưa được giải quyết.", "field": "Đất đai", "sources": [HAI_CHAU], "departments": [TAI_CHINH],
           "due": "2025-10-31"}

WARD_SCENARIOS: dict[str, tuple[Callable[[], Harness], dict[str, Any]]] = {
    "submit_recommendation": (lambda: with_departments(build("live")),
                              {"rec_id": "r1", "site": HAI_CHAU, "title": "Vướng mắc", "text": "Nội dung",
                               "field": "Đất đai"}),
    "merge_recommendations": (_live_with(lambda h: submit(h, "r2", "X-HOA-BAC"), assigned=False),
                              {"into": "r1", "others": ["r2"]}),
    "assign_recommendation": (_live_with(assigned=False), {"rec_id": "r1", "departments": [TAI_CHINH],
                                                          "due": "2025-10-31"}),
    "mark_recommendation_for_meeting": (_live_with(), {"rec_id": "r1", "in_meeting": True, "item_id": "i3"}),
    "answer_recommendation": (hai_chau_as_department, {"rec_id": "r1", "department": HAI_CHAU, "text": "Trả lời"}),
    "decide_answer": (_live_with(answered), {"rec_id": "r1", "accept": True}),
    "give_recommendation_feedback": (_live_with(answered), {"rec_id": "r1", "site": HAI_CHAU, "resolved": True}),
    "carry_recommendations": (lambda: with_departments(build("live")), {"items": [CARRIED]}),
    "add_document": (lambda: build("live"), {"document_id": "d1", "file": PDF}),
    "remove_document": (lambda: _with(_document), {"document_id": "d1"}),
    "record_document_receipt": (lambda: _with(_document), {"document_id": "d1", "site": HAI_CHAU}),
    "open_vote": (lambda: build("live"), {"vote_id": "v1", "question": "Thông qua?",
                                          "deadline": "2025-10-03T08:05:00+07:00"}),
    "cast_vote": (_online_vote, {"vote_id": "v1", "site": HAI_CHAU, "option": 0}),
    "close_vote": (_vote_only, {"vote_id": "v1"}),
}


def _with(*steps: Callable[[Harness], Any]) -> Harness:
    h = build("live")
    for step in steps:
        step(h)
    return h
