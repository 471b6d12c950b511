"""The minutes print the slides shown (issue 12): per speaking turn "Trình chiếu: <deck> —
trang 3, 4, 5", and the slides shown outside any turn with their presenter, in the PDF
(read back with poppler's pdftotext) and the DOCX (python-docx). The field is part of the
approved content, so it is inside the record's hash and the PDF's signature: the approved
files verify, and a copy whose slides were changed (in the visible text, in the content with
or without rehashing, after signing) does not."""

from __future__ import annotations

import copy
import dataclasses
import io
import random
import re
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from scheduling import Actor, chain_hash
from server.documents import (
    MinutesSource,
    RenderOptions,
    VerifyCode,
    render_docx,
    render_html,
    render_pdf,
    source_for,
    verify_document,
)
from server.documents.demo_pki import make_ca, make_org_p12
from server.documents.signing import Pkcs12Signer
from tests.fixtures import script
from tests.fixtures.conference import (
    ABSENT_SITES,
    CHAIR,
    LATE_SITES,
    MAIN_SITE,
    SECRETARIES,
    STAFF_NAMES,
    BuiltConference,
    Runner,
    build_directory,
    build_quarterly_review,
    end,
    join_and_check_in,
    local,
    minutes,
    prepare,
)
from tests.server.documents.readback import docx_document, squeeze

DECK = "Báo cáo kinh tế – xã hội quý III"
ANNEX = "Phụ lục số liệu"
DURING_TURN = f"Trình chiếu: {DECK} — trang 3, 4, 5"
OUTSIDE_TURN = f"Trình chiếu: {DECK} — trang 1–4; {ANNEX} — trang 2 (Hội trường UBND Thành phố (điểm cầu chính))"
SHA = "ab" * 32


def build_with_slides() -> tuple[BuiltConference, str]:
    """The quarterly review's rehearsal and check-in, then its first item: the main bridge
    presents a deck (pages 1-4 and an annex's page 2, nobody holding the floor), a ward takes
    the floor, the chair lets it present and it shows pages 3, 4, 5, then releases the floor."""
    created = local(2025, 9, 26, 9, 0)
    directory = build_directory(created)
    run = Runner(directory=directory, now=created)
    rng = random.Random(20251003)
    prepare(run)
    join_and_check_in(run, rng)
    ward = next(c for c in run.conference.remote_sites() if c not in ABSENT_SITES + LATE_SITES)
    item = script.AGENDA[0].item_id
    main = Actor.site(MAIN_SITE)
    run.do(CHAIR, {"type": "open_conference"}, at=local(2025, 10, 3, 8, 0))
    run.do(CHAIR, {"type": "start_item", "item_id": item}, after=minutes(1))
    for deck_id, name, pages in (("bc-q3", DECK, 12), ("phu-luc", ANNEX, 4)):
        run.do(SECRETARIES[0], {"type": "attach_deck", "deck_id": deck_id, "name": name, "size": 48_213,
                                "pages": pages, "sha256": SHA, "item_id": item})
    run.do(main, {"type": "start_presentation", "site": MAIN_SITE, "deck_id": "bc-q3", "page": 1})
    for page in (2, 3, 4, 2):
        run.do(main, {"type": "show_slide", "site": MAIN_SITE, "page": page}, after=minutes(1))
    run.do(main, {"type": "start_presentation", "site": MAIN_SITE, "deck_id": "phu-luc", "page": 2}, after=minutes(1))
    run.do(main, {"type": "stop_presentation"}, after=minutes(1))
    run.do(Actor.site(ward), {"type": "request_floor", "site": ward, "item_id": item,
                              "topic": "Đ/c Nguyễn Thị Hằng, Chủ tịch UBND phường: giải ngân vốn đầu tư công"})
    run.do(CHAIR, {"type": "grant_floor", "site": ward}, after=timedelta(seconds=20))
    run.do(CHAIR, {"type": "allow_presenting", "site": ward}, after=timedelta(seconds=5))
    run.do(Actor.site(ward), {"type": "start_presentation", "site": ward, "deck_id": "bc-q3", "page": 3},
           after=timedelta(seconds=10))
    for page in (4, 5):
        run.do(Actor.site(ward), {"type": "show_slide", "site": ward, "page": page}, after=minutes(1))
    run.do(Actor.site(ward), {"type": "release_floor", "site": ward}, after=minutes(1))
    run.do(CHAIR, {"type": "finish_item", "item_id": item}, after=minutes(1))
    end(run, rng)
    run.do(CHAIR, {"type": "approve_minutes"}, after=minutes(30))
    built = BuiltConference(state=run.conference, events=run.events, directory=directory, runner=run,
                            names=dict(STAFF_NAMES))
    return built, ward


@pytest.fixture(scope="module")
def built() -> tuple[BuiltConference, str]:
    return build_with_slides()


@pytest.fixture(scope="module")
def approved(built: tuple[BuiltConference, str]) -> MinutesSource:
    src = source_for(built[0].state, 1)
    assert isinstance(src, MinutesSource)
    return src


@pytest.fixture(scope="module")
def pdf(approved: MinutesSource) -> bytes:
    return render_pdf(approved, RenderOptions(lang="vi"))


@pytest.fixture(scope="module")
def docx(approved: MinutesSource) -> bytes:
    return render_docx(approved, RenderOptions(lang="vi"))


def pdftotext(data: bytes, tmp: Path) -> str:
    path = tmp / "bien-ban.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                         timeout=60, check=True)
    return out.stdout


def docx_turn_cells(data: bytes) -> list[str]:
    """The text of every cell of every speakers table (its header: "Người phát biểu / nội dung")."""
    cells = []
    for table in docx_document(data).tables:
        if "Người phát biểu / nội dung" in [c.text for c in table.rows[0].cells]:
            cells += [row.cells[2].text for row in table.rows[1:]]
    return cells


def test_the_content_records_the_slides_of_the_turn_and_outside_it(approved: MinutesSource,
                                                                   built: tuple[BuiltConference, str]) -> None:
    slides = approved.content["agenda"][0]["slides"]
    ward = built[1]
    assert [(x["deck"], x["page"], x["turn"]) for x in slides] == [
        (DECK, 1, None), (DECK, 2, None), (DECK, 3, None), (DECK, 4, None), (DECK, 2, None), (ANNEX, 2, None),
        (DECK, 3, ward), (DECK, 4, ward), (DECK, 5, ward)]
    assert all("slides" not in item for item in approved.content["agenda"][1:])


def test_the_pdf_prints_the_slides_per_speaking_turn(pdf: bytes, tmp_path: Path) -> None:
    text = squeeze(pdftotext(pdf, tmp_path))
    assert squeeze(DURING_TURN) in text, "the turn's slides are not in the PDF"
    assert squeeze(OUTSIDE_TURN) in text, "the slides outside the turn are not in the PDF"
    assert text.count(squeeze("Trình chiếu:")) == 2


def test_the_docx_prints_the_slides_in_the_turns_row(docx: bytes) -> None:
    cells = docx_turn_cells(docx)
    assert len(cells) == 1 and cells[0].endswith("\n" + DURING_TURN), cells
    paragraphs = [p.text for p in docx_document(docx).paragraphs]
    assert OUTSIDE_TURN in paragraphs


def test_english_labels(approved: MinutesSource) -> None:
    page = render_html(approved, RenderOptions(lang="en"))
    assert f"Slides shown: {DECK} — pages 3, 4, 5" in page
    assert f"Slides shown: {DECK} — pages 1–4; {ANNEX} — page 2 (" in page


def test_minutes_without_slides_print_none() -> None:
    b = build_quarterly_review()
    src = source_for(b.state, None)
    assert isinstance(src, MinutesSource)
    assert "Trình chiếu:" not in render_html(src, RenderOptions())


def test_the_approved_files_verify(pdf: bytes, docx: bytes, approved: MinutesSource) -> None:
    chain = [approved_version(approved)]
    for data in (pdf, docx, render_html(approved, RenderOptions()).encode()):
        report = verify_document(data, chain=chain)
        assert report.ok, report


def test_slides_edited_in_the_visible_text_fail(docx: bytes) -> None:
    edited = edit_docx(docx, "trang 3, 4, 5", "trang 3, 4, 9")
    assert verify_document(edited).code is VerifyCode.TEXT_TAMPERED


def test_slides_edited_in_the_content_fail(approved: MinutesSource) -> None:
    def other_page(c: dict[str, Any]) -> None:
        c["agenda"][0]["slides"][-1]["page"] = 9

    chain = [approved_version(approved)]
    page = render_html(forge(approved, other_page, rehash=False), RenderOptions()).encode()
    assert verify_document(page).code is VerifyCode.CONTENT_TAMPERED
    page = render_html(forge(approved, other_page), RenderOptions()).encode()
    assert verify_document(page).ok        # self-consistent: only the log can tell
    report = verify_document(page, chain=chain)
    assert report.code is VerifyCode.FIELD_MISMATCH and "agenda: differs from the conference's log" in report.message


def test_the_signature_covers_the_slides(pdf: bytes, tmp_path: Path) -> None:
    ca = make_ca()
    p12 = tmp_path / "org.p12"
    p12.write_bytes(make_org_p12(ca, "Văn phòng UBND Thành phố", password=b"mat-khau"))
    signed = Pkcs12Signer(p12, b"mat-khau").sign(pdf, reason="Phê duyệt biên bản", location="Hà Nội")
    report = verify_document(signed, trust_roots=[ca.certificate])
    assert report.ok and "signature" in " ".join(report.checks), report
    tampered = bytearray(signed)
    at = tampered.index(b"/Producer")     # a byte the signature covers, as the slides' text is
    tampered[at + 1] = ord("Q")
    report = verify_document(bytes(tampered), trust_roots=[ca.certificate])
    assert report.code is VerifyCode.BAD_SIGNATURE and "changed after signing" in report.message, report


# -- helpers ---------------------------------------------------------------------------------

def forge(src: MinutesSource, edit: Any, *, rehash: bool = True) -> MinutesSource:
    content = copy.deepcopy(src.content)
    edit(content)
    a = src.approval
    assert a is not None
    return MinutesSource(content=content, approval=dataclasses.replace(
        a, sha256=chain_hash(a.prev_sha256, content) if rehash else a.sha256))


@dataclasses.dataclass(frozen=True)
class _Version:
    version: int
    sha256: str
    prev_sha256: str
    content: dict[str, Any]
    approved_at: Any
    approved_by: str


def approved_version(src: MinutesSource) -> Any:
    a = src.approval
    assert a is not None and a.approved_at is not None
    return _Version(a.version, a.sha256, a.prev_sha256, src.content, a.approved_at, "account:" + a.approved_by)


def edit_docx(data: bytes, old: str, new: str) -> bytes:
    """The DOCX with ``old`` replaced by ``new`` in its document text (as a person editing it)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "word/document.xml":
                text = body.decode()
                assert old in text, f"{old!r} is not one run of the document"
                body = re.sub(re.escape(old), new, text, count=1).encode()
            dst.writestr(info, body)
    return out.getvalue()
