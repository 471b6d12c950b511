"""Verification: the hash chain of approved versions recomputes; a downloaded file verifies
against its version, and fails with a clear code when its content, its visible text or its
hash has been tampered with."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import docx
import pytest
from pypdf import PdfReader, PdfWriter

from scheduling import chain_hash
from scheduling.minutes import MinutesApproved
from server.documents import (
    Approval,
    MinutesSource,
    VerifyCode,
    render_html,
    verify_chain,
    verify_document,
)
from server.documents.stamp import PDF_NAME
from tests.server.documents.corpus import Minutes


def chain(m: Minutes) -> list[Any]:
    return list(m.built.state.minutes.approved)


# -- the chain -----------------------------------------------------------------------------

def test_chain_of_the_conference_verifies(minutes: Minutes) -> None:
    report = verify_chain(chain(minutes))
    assert report.ok and report.code is VerifyCode.OK
    assert [v.version for v in report.versions] == [1, 2]
    events = [e for e in minutes.built.events if isinstance(e, MinutesApproved)]
    assert verify_chain(events).ok                   # the recorded events verify the same way
    assert verify_chain([]).ok


def test_a_changed_version_breaks_the_chain(minutes: Minutes) -> None:
    v1, v2 = chain(minutes)
    content = copy.deepcopy(v1.content)
    content["totals"]["people"] += 100
    report = verify_chain([dataclasses.replace(v1, content=content), v2])
    assert not report.ok and report.code is VerifyCode.BROKEN_CHAIN
    assert report.message.startswith("version 1:") and "hash" in report.message
    relinked = dataclasses.replace(v2, prev_sha256="f" * 64)
    assert "prev_sha256" in verify_chain([v1, relinked]).message
    assert "numbered 2, expected 1" in verify_chain([v2]).message


# -- a file against its version ------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["html", "docx", "pdf"])
def test_every_format_verifies_against_the_chain(minutes: Minutes, fmt: str) -> None:
    report = verify_document(minutes.files[fmt], chain=chain(minutes))
    assert report.ok, report.message
    assert report.code is VerifyCode.OK and report.format == fmt and report.version == 2
    assert report.checks == ("content hash", "approval and issuer fields", "conference chain", "visible text")
    assert minutes.approved.approval is not None and report.sha256 == minutes.approved.approval.sha256


def test_without_the_chain_the_report_says_what_was_not_checked(minutes: Minutes, tmp_path: Path) -> None:
    path = tmp_path / "bien-ban.html"
    path.write_bytes(minutes.files["html"])
    for arg in (path, str(path)):
        report = verify_document(arg)
        assert report.ok and "conference chain" not in report.checks
        assert "not checked against the conference's log" in report.message


def test_html_with_edited_visible_text_is_tampered(minutes: Minutes) -> None:
    page = minutes.files["html"].decode()
    head, body = page.split("</head>", 1)
    people = minutes.approved.content["totals"]["people"]
    shown = f"{people:,}".replace(",", ".")
    assert shown in body
    forged = head + "</head>" + body.replace(shown, f"{people + 250:,}".replace(",", "."), 1)
    report = verify_document(forged.encode(), chain=chain(minutes))
    assert report.code is VerifyCode.TEXT_TAMPERED and not report.ok
    assert report.checks == ("content hash", "approval and issuer fields", "conference chain")


def test_html_with_edited_embedded_content_is_tampered(minutes: Minutes) -> None:
    page = minutes.files["html"].decode()
    start = page.index('id="bridgeconf-minutes">') + len('id="bridgeconf-minutes">')
    end = page.index("</script>", start)
    data = json.loads(page[start:end])
    data["content"]["actions"][0]["due"] = "2026-06-30"
    forged = page[:start] + json.dumps(data).replace("<", "\\u003c") + page[end:]
    report = verify_document(forged.encode())
    assert report.code is VerifyCode.CONTENT_TAMPERED


def test_a_consistent_forgery_is_caught_only_by_the_chain(minutes: Minutes) -> None:
    """Someone rewrites the content and recomputes its hash: the file is self-consistent,
    and only the conference's log can tell that version 2 was approved with another hash."""
    a = minutes.approved.approval
    assert a is not None
    content = copy.deepcopy(minutes.approved.content)
    content["agenda"][-1]["conclusions"][0] = "Không giao thêm nhiệm vụ nào."
    forged = MinutesSource(content=content, approval=dataclasses.replace(
        a, sha256=chain_hash(a.prev_sha256, content)))
    page = render_html(forged, minutes.options).encode()
    assert verify_document(page).ok
    report = verify_document(page, chain=chain(minutes))
    assert report.code is VerifyCode.FIELD_MISMATCH, report
    assert report.message.startswith("not what the conference approved as version 2: agenda: differs")
    assert verify_document(minutes.files["html"], chain=chain(minutes)[:1]).code is VerifyCode.NOT_IN_CHAIN


def test_docx_edited_in_word_is_tampered(minutes: Minutes) -> None:
    document = docx.Document(io.BytesIO(minutes.files["docx"]))
    out = io.BytesIO()
    document.save(out)      # opened and saved unchanged: the stamp part survives, still OK
    assert verify_document(out.getvalue(), chain=chain(minutes)).ok
    conclusion = next(p for p in document.paragraphs if p.text.startswith("Thống nhất đánh giá"))
    conclusion.runs[0].text = "Chưa thống nhất đánh giá mô hình."
    out = io.BytesIO()
    document.save(out)
    report = verify_document(out.getvalue(), chain=chain(minutes))
    assert report.code is VerifyCode.TEXT_TAMPERED
    assert "Thống" in report.message


def _repack_pdf(data: bytes, attachment: bytes | None) -> bytes:
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(data)))
    if attachment is not None:
        writer.add_attachment(PDF_NAME, attachment)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_tampering(minutes: Minutes) -> None:
    genuine = PdfReader(io.BytesIO(minutes.files["pdf"])).attachments[PDF_NAME][0]
    assert verify_document(_repack_pdf(minutes.files["pdf"], None)).code is VerifyCode.NO_STAMP
    data = json.loads(genuine)
    data["content"]["attendance"][5]["headcount"] += 7
    edited = _repack_pdf(minutes.files["pdf"], json.dumps(data).encode())
    assert verify_document(edited).code is VerifyCode.CONTENT_TAMPERED
    # the draft's pages carrying version 2's genuine stamp: the words are not version 2's
    passed_off = _repack_pdf(minutes.draft_files["pdf"], genuine)
    report = verify_document(passed_off, chain=chain(minutes))
    assert report.code is VerifyCode.TEXT_TAMPERED, report.message


@pytest.mark.parametrize("fmt", ["html", "docx", "pdf"])
def test_a_draft_has_nothing_to_verify(minutes: Minutes, fmt: str) -> None:
    report = verify_document(minutes.draft_files[fmt])
    assert report.code is VerifyCode.DRAFT and not report.ok and report.version == 3


def test_files_that_are_not_minutes(minutes: Minutes, tmp_path: Path) -> None:
    assert verify_document(b"\x00\x01 not a document").code is VerifyCode.UNREADABLE
    assert verify_document(tmp_path / "missing.pdf").code is VerifyCode.UNREADABLE
    assert verify_document(b"<!DOCTYPE html><html><body>hi</body></html>").code is VerifyCode.NO_STAMP
    page = minutes.files["html"].decode()
    broken = page.replace('id="bridgeconf-minutes">{', 'id="bridgeconf-minutes">{{', 1)
    assert verify_document(broken.encode()).code is VerifyCode.BAD_STAMP
    assert verify_document(b"%PDF-1.7 garbage").code in (VerifyCode.NO_STAMP, VerifyCode.UNREADABLE)


def test_report_is_plain_data(minutes: Minutes) -> None:
    report = verify_document(minutes.files["html"], chain=chain(minutes), check_text=False)
    assert report.checks == ("content hash", "approval and issuer fields", "conference chain")
    assert json.loads(json.dumps(report.to_dict()))["code"] == "ok"
    assert json.loads(json.dumps(verify_chain(chain(minutes)).to_dict()))["ok"] is True


def test_approval_metadata_in_the_source_is_what_the_file_shows(minutes: Minutes) -> None:
    a = minutes.approved.approval
    assert isinstance(a, Approval) and a.version == 2 and a.approved_by == "chu.tich"
    assert a.prev_sha256 == chain(minutes)[0].sha256


def test_a_pdf_laid_out_with_other_fonts_still_verifies(minutes: Minutes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Verification compares words, not layout: a PDF made where only DejaVu Serif was
    installed (wider: other line breaks, one more page) verifies against today's render."""
    from server.documents import fonts, render_pdf

    with monkeypatch.context() as patch:
        patch.setattr(fonts, "SERIF_CANDIDATES", fonts.SERIF_CANDIDATES[1:])
        fonts.font_faces.cache_clear()
        assert "DejaVuSerif" in fonts.font_faces()[0].path.name
        other = render_pdf(minutes.approved, minutes.options)
    fonts.font_faces.cache_clear()
    assert len(PdfReader(io.BytesIO(other)).pages) != len(PdfReader(io.BytesIO(minutes.files["pdf"])).pages)
    report = verify_document(other, chain=chain(minutes))
    assert report.ok, report.message


def test_poppler_and_pypdf_read_the_same_words(minutes: Minutes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Verification reads a PDF with pdftotext when poppler is installed, else with pypdf:
    the words of every page are the same either way."""
    from server.documents import extract

    pdf = minutes.files["pdf"]
    assert extract.PDFTOTEXT is not None
    poppler = extract.visible_text(pdf, "pdf")
    monkeypatch.setattr(extract, "PDFTOTEXT", None)
    pypdf = extract.visible_text(pdf, "pdf")
    assert poppler is not None and pypdf is not None and len(poppler) == len(pypdf) > 10
    assert [extract.squeeze([p]) for p in poppler] == [extract.squeeze([p]) for p in pypdf]
