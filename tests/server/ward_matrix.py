"""The rows of test_authorization.py's matrices for recommendations, documents and votes:
the states their commands need, their fields, the REST bodies, and the set-up (a department
in the directory; a document and an attachment in the small seed's conference)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from scheduling import (
    Actor,
    AddDocument,
    FileRef,
    RegisterSite,
    SiteInfo,
    SiteKind,
    SubmitRecommendation,
)
from server.service.blobs import BlobStore
from server.service.service import utcnow

DEPT = "SO-TAI-CHINH"
OWN, ANOTHER = "P-AN", "P-BINH"
PDF = b"%PDF-1.4\n% a document of the matrix\n%%EOF\n"
ADMIN = Actor.account("admin", admin=True)


async def register_department(srv: Any) -> None:
    if DEPT not in srv.service.directory.state.sites:
        await srv.service.run_directory(RegisterSite(key="dept-matrix", site=SiteInfo(
            code=DEPT, name="Sở Tài chính", parent="Sở, ngành", kind=SiteKind.DEPARTMENT)), ADMIN)


def _rec(rec_id: str, site: str) -> dict[str, Any]:
    return {"rec_id": rec_id, "site": site, "title": "Vướng mắc", "text": "Nội dung", "field": "Đất đai"}


WARD_STATES: dict[str, tuple[str | None, list[tuple[str, str, dict[str, Any]]]]] = {
    "recs": ("live", [(f"site:{OWN}", "submit_recommendation", _rec("r1", OWN)),
                      (f"site:{ANOTHER}", "submit_recommendation", _rec("r2", ANOTHER))]),
    "rec_dept": ("recs", [("admin", "invite_sites", {"codes": [DEPT]})]),
    "rec_assigned": ("rec_dept", [("secretary", "assign_recommendation",
                                   {"rec_id": "r1", "departments": [DEPT], "due": "+7d"})]),
    "rec_answered": ("rec_assigned", [("secretary", "answer_recommendation",
                                       {"rec_id": "r1", "department": DEPT, "text": "Đã trả lời"})]),
    "document": ("live", [("secretary", "add_document", {"document_id": "d1", "file": {
        "name": "a.pdf", "size": 10, "content_type": "application/pdf", "sha256": "ab" * 32}})]),
    "vote": ("live", [(f"site:{OWN}", "check_in", {"site": OWN, "headcount": 30}),
                      (f"site:{ANOTHER}", "check_in", {"site": ANOTHER, "headcount": 20}),
                      ("chair", "open_vote", {"vote_id": "v1", "question": "Thông qua?", "deadline": "+30m"})]),
}

SITE = "<site>"
WARD_FIELDS: dict[str, dict[str, Any]] = {
    "submit_recommendation": _rec("r9", SITE),
    "merge_recommendations": {"into": "r1", "others": ["r2"]},
    "assign_recommendation": {"rec_id": "r1", "departments": [DEPT],
                              "due": (utcnow() + timedelta(days=10)).date().isoformat()},
    "mark_recommendation_for_meeting": {"rec_id": "r1", "item_id": "muc-2"},
    "answer_recommendation": {"rec_id": "r1", "department": DEPT, "text": "Trả lời bằng văn bản"},
    "decide_answer": {"rec_id": "r1", "accept": True},
    "give_recommendation_feedback": {"rec_id": "r1", "site": SITE, "resolved": True},
    "carry_recommendations": {"items": [{"rec_id": "c1", "origin": "quy-truoc/r1", "site": OWN, "title": "Cũ",
                                         "text": "Chưa xong", "field": "Đất đai", "sources": [OWN]}]},
    "add_document": {"document_id": "d9", "file": {"name": "b.pdf", "size": 10, "content_type": "application/pdf",
                                                   "sha256": "cd" * 32}},
    "remove_document": {"document_id": "d1"},
    "record_document_receipt": {"document_id": "d1", "site": SITE},
    "open_vote": {"vote_id": "v2", "question": "Biểu quyết", "deadline": (utcnow() + timedelta(minutes=30)).isoformat()},
    "cast_vote": {"vote_id": "v1", "site": SITE, "option": 0},
    "close_vote": {"vote_id": "v1"},
}

WARD_BODIES: dict[str, Any] = {
    "POST /api/v1/conferences/hop-nho/files?name=a.pdf": ("application/pdf", PDF),
    "POST /api/v1/conferences/hop-nho/documents?name=a.pdf": ("application/pdf", PDF),
    "POST /api/v1/conferences/mt-next/recommendations/carry": {},
    "PUT /api/v1/recommendation-fields": {"fields": ["Đất đai", "Tài chính – ngân sách", "Khác"]},
}


async def ward_setup(srv: Any) -> str:
    """A document (``tai-lieu``) and a recommendation with an attachment in hop-nho; its SHA-256."""
    svc = srv.service

    async def chunks() -> Any:
        yield PDF

    stored = await BlobStore(svc.config.data_dir / "blobs").put(chunks(), "application/pdf")
    ref = FileRef(name="tai-lieu.pdf", size=stored.size, content_type="application/pdf", sha256=stored.sha256)
    await svc.run_conference("hop-nho", AddDocument(key="m-doc", document_id="tai-lieu", file=ref),
                             Actor.account("thuky"))
    await svc.run_conference("hop-nho", SubmitRecommendation(
        key="m-rec", rec_id="kn-m", site=OWN, title="Kiến nghị", text="Có tệp", field="Đất đai", attachments=(ref,)),
        Actor.site(OWN))
    return stored.sha256
