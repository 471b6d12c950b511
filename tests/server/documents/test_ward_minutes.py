"""The minutes' section "Tổng hợp kiến nghị và trả lời" and the vote results: in the content
(so inside the approved version's hash), in the HTML, PDF and DOCX alike, and each format
still verifies against the chain."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import docx
import pytest
from lxml import html

from scheduling import (
    Actor,
    SiteInfo,
    SiteKind,
    decide_directory,
    evolve_directory,
    minutes_content,
    parse_command,
)
from scheduling.codec import to_plain
from server.documents import RenderOptions, render_docx, render_html, verify_document
from server.documents.render_pdf import render_pdf
from server.documents.source import approved_source
from tests.scheduling.scheduling_builders import (
    CHAIR,
    HAI_CHAU,
    SECRETARY,
    THANH_KHE,
    Harness,
    build,
)
from tests.server.documents.readback import docx_text, pdf_text, squeeze

DEPT = "SO-TAI-CHINH"
ADMIN = Actor.account("quan_tri", admin=True)


def _conference() -> Harness:
    h = build("live")
    info = SiteInfo(code=DEPT, name="Sở Tài chính", parent="Sở, ngành", kind=SiteKind.DEPARTMENT)
    cmd = parse_command({"type": "register_site", "key": "dept", "site": to_plain(info)})
    for ev in decide_directory(h.directory, cmd, ADMIN, now=h.now):
        evolve_directory(h.directory, ev)
    h.run(ADMIN, {"type": "invite_sites", "codes": [DEPT]})
    for rec_id, code, title in (("kn-1", HAI_CHAU, "Vướng mắc cấp giấy chứng nhận quyền sử dụng đất"),
                                ("kn-2", THANH_KHE, "Thiếu biên chế công chức địa chính"),
                                ("kn-3", "X-HOA-BAC", "Cấp giấy chứng nhận chậm")):
        h.run(Actor.site(code), {"type": "submit_recommendation", "rec_id": rec_id, "site": code, "title": title,
                                 "text": "Đoạn một.\n\nĐoạn hai.", "field": "Đất đai", "item_id": "i2"})
    h.run(SECRETARY, {"type": "merge_recommendations", "into": "kn-1", "others": ["kn-3"]})
    h.run(SECRETARY, {"type": "assign_recommendation", "rec_id": "kn-1", "departments": [DEPT], "due": "2025-10-31"})
    h.give(DEPT)
    h.tick(90)
    h.run(CHAIR, {"type": "revoke_floor", "site": DEPT})
    h.run(SECRETARY, {"type": "answer_recommendation", "rec_id": "kn-1", "department": DEPT, "mode": "in_meeting",
                      "text": "Sở sẽ ban hành hướng dẫn trong tháng 10."})
    h.run(CHAIR, {"type": "decide_answer", "rec_id": "kn-1", "accept": True})
    h.run(Actor.site(HAI_CHAU), {"type": "give_recommendation_feedback", "rec_id": "kn-1", "site": HAI_CHAU,
                                 "resolved": True})
    h.online(HAI_CHAU, THANH_KHE)
    h.run(CHAIR, {"type": "open_vote", "vote_id": "v1", "question": "Thông qua kế hoạch quý IV",
                  "deadline": (h.now + timedelta(minutes=5)).isoformat()})
    h.run(Actor.site(HAI_CHAU), {"type": "cast_vote", "vote_id": "v1", "site": HAI_CHAU, "option": 0})
    h.run(Actor.site(THANH_KHE), {"type": "cast_vote", "vote_id": "v1", "site": THANH_KHE, "option": 2})
    h.run(CHAIR, {"type": "close_vote", "vote_id": "v1"})
    h.tick(600)
    h.run(CHAIR, {"type": "end_conference"})
    h.run(CHAIR, {"type": "approve_minutes"})
    return h


@pytest.fixture(scope="module")
def approved() -> tuple[Harness, dict[str, Any]]:
    h = _conference()
    source = approved_source(h.s.minutes.approved[0])
    options = RenderOptions(lang="vi")
    files = {"html": render_html(source, options).encode(), "docx": render_docx(source, options),
             "pdf": render_pdf(source, options)}
    return h, files


def test_the_register_and_the_votes_are_in_the_hashed_content(approved: tuple[Harness, dict[str, Any]]) -> None:
    h, _ = approved
    content = h.s.minutes.approved[0].content
    recs = {r["rec_id"]: r for r in content["recommendations"]}
    assert set(recs) == {"kn-1", "kn-2"}     # kn-3 lives on in kn-1
    assert recs["kn-1"]["sources"] == [HAI_CHAU, "X-HOA-BAC"] and recs["kn-1"]["status"] == "accepted"
    assert recs["kn-1"]["answers"][0]["mode"] == "in_meeting" and recs["kn-1"]["answers"][0]["turn_started"]
    assert recs["kn-2"]["answers"] == []
    (vote,) = content["votes"]
    assert vote["tally"] == [1, 0, 1] and [b["site"] for b in vote["ballots"]] == [HAI_CHAU, THANH_KHE]


@pytest.mark.parametrize("fmt", ["html", "docx", "pdf"])
def test_every_format_lists_both_recommendations_and_verifies(approved: tuple[Harness, dict[str, Any]],
                                                              fmt: str) -> None:
    h, files = approved
    data = files[fmt]
    text = {"html": lambda d: html.fromstring(d).text_content(),
            "docx": lambda d: docx_text(docx.Document(io.BytesIO(d))), "pdf": pdf_text}[fmt](data)
    flat = squeeze(text)
    for needle in ("TỔNG HỢP KIẾN NGHỊ VÀ TRẢ LỜI", "Vướng mắc cấp giấy chứng nhận quyền sử dụng đất",
                   "Thiếu biên chế công chức địa chính", "Chưa trả lời", "Trả lời tại hội nghị",
                   "Sở sẽ ban hành hướng dẫn", "KẾT QUẢ BIỂU QUYẾT", "Tán thành: 1", "Không có ý kiến: 1",
                   "UBND xã Hòa Bắc"):
        assert squeeze(needle) in flat, (fmt, needle)
    report = verify_document(data, chain=list(h.s.minutes.approved))
    assert report.ok, report.message


def test_minutes_without_recommendations_or_votes_keep_their_content() -> None:
    h = build("ended")
    assert "recommendations" not in minutes_content(h.s) and "votes" not in minutes_content(h.s)
