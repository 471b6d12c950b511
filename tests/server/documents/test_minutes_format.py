"""The format of Decree 30/2020/NĐ-CP in the files an official opens: the issuer's lines, the
number, the place and date, the signature block's titles and names, Nơi nhận, page numbers
centred at the top from page 2 — read back with pdftotext (poppler) and python-docx — and
the DOCX's own metadata (not the library template's)."""

from __future__ import annotations

import io
import subprocess
import zipfile

import docx
import pytest

from server.documents import MinutesSource, RenderOptions, render_docx, render_pdf, source_for
from tests.fixtures.conference import BuiltConference, build_quarterly_review
from tests.server.documents.test_minutes_forgery import approve_with_record

OPTIONS = RenderOptions(lang="vi")


@pytest.fixture(scope="module")
def approved() -> MinutesSource:
    built: BuiltConference = build_quarterly_review()
    approve_with_record(built, 27)
    src = source_for(built.state, 1)
    assert isinstance(src, MinutesSource)
    return src


def pdftotext(pdf: bytes, *pages: int) -> str:
    args = ["pdftotext", "-layout"]
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[-1])]
    return subprocess.run([*args, "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def test_the_pdf_has_the_decree_30_layout(approved: MinutesSource) -> None:
    pdf = render_pdf(approved, OPTIONS)
    first = pdftotext(pdf, 1).splitlines()
    head = [line for line in first if line.strip()][:4]
    assert head[0].split()[:4] == ["UBND", "THÀNH", "PHỐ", "HÀ"] and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in head[0]
    assert "VĂN PHÒNG" in head[1] and "Độc lập - Tự do - Hạnh phúc" in head[1]
    assert "Số: 27/BB-VP" in "\n".join(first[:8])
    assert "Hà Nội, ngày 03 tháng 10 năm 2025" in "\n".join(first[:10])
    assert first[0].strip() != "1"                                     # no number on the first page
    second = pdftotext(pdf, 2).lstrip("\n").splitlines()
    assert second[0].strip() == "2"                                    # centred at the top from page 2
    indent = len(second[0]) - len(second[0].lstrip())
    assert 25 < indent < 60, indent                                    # centred, not at a margin
    text = pdftotext(pdf)
    for line in ("CHỦ TỌA", "THƯ KÝ", "Lê Minh Quang", "Nơi nhận:", "- Như trên;", "- Lưu: VT, VP."):
        assert line in text, line


def test_the_docx_has_the_decree_30_layout_and_its_own_metadata(approved: MinutesSource) -> None:
    data = render_docx(approved, OPTIONS)
    d = docx.Document(io.BytesIO(data))
    assert d.paragraphs[0].text.startswith("BẢN ĐỂ CHỈNH SỬA – không phải bản gốc đã ký số")
    masthead = [p.text for cell in d.tables[0].rows[0].cells for p in cell.paragraphs]
    assert masthead[:2] == ["UBND THÀNH PHỐ HÀ NỘI", "VĂN PHÒNG"] and "Số: 27/BB-VP" in masthead
    texts = [p.text for p in d.paragraphs if p.text]
    assert "Hà Nội, ngày 03 tháng 10 năm 2025" in texts
    assert texts[-3:] == ["Nơi nhận:", "- Như trên;", "- Lưu: VT, VP."]
    signatures = [p.text for cell in d.tables[-2].rows[0].cells for p in cell.paragraphs if p.text]
    assert signatures[0] == "THƯ KÝ" and "CHỦ TỌA" in signatures and "Lê Minh Quang" in signatures
    section = d.sections[0]
    assert section.different_first_page_header_footer
    assert section.header._element.xpath(".//w:fldSimple/@w:instr") == ["PAGE"]
    assert section.header.paragraphs[-1].alignment == 1               # centred
    assert section.first_page_header._element.xpath(".//w:fldSimple/@w:instr") == []
    core = d.core_properties
    assert core.author == "UBND THÀNH PHỐ HÀ NỘI – VĂN PHÒNG" and core.title.startswith("BIÊN BẢN HỘI NGHỊ – ")
    a = approved.approval
    assert a is not None and a.approved_at is not None
    assert core.created == core.modified == a.approved_at.replace(microsecond=0)   # the approval, not 2013
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        app = z.read("docProps/app.xml").decode()
    assert not any("thumbnail" in n for n in names)
    assert "Microsoft" not in app and "<Application>bridgeconf</Application>" in app
