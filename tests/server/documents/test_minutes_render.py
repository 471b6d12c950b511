"""The minutes of the realistic quarterly review, rendered to HTML, PDF and DOCX and read
back: the administrative header, attendance with totals, the agenda as run, every speaking
turn, conclusions, every action item, signatures and the verification block; Vietnamese
diacritics intact; a script in a note is text in every format."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from server.documents import RenderOptions, missing_font_message, render_docx, render_html
from server.documents.labels import labels
from server.documents.view import headers
from tests.server.documents.corpus import HOSTILE, Minutes
from tests.server.documents.readback import (
    docx_custom_properties,
    docx_document,
    docx_header_footer_text,
    docx_headings,
    docx_tables,
    docx_text,
    html_body_text,
    html_tree,
    pdf_fonts,
    pdf_text,
    squeeze,
)

HEADER_PHRASES = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "BIÊN BẢN HỘI NGHỊ",
                  "UBND THÀNH PHỐ HÀ NỘI", "Hà Nội, ngày 03 tháng 10 năm 2025", "Phường Ba Đình", "Xã Sóc Sơn",
                  "Phường Văn Miếu - Quốc Tử Giám", "KẾT LUẬN", "Chủ trì", "Thư ký", "THƯ KÝ", "CHỦ TRÌ",
                  "Lê Minh Quang – Chủ tịch UBND Thành phố", "Phạm Thị Lan", "Đỗ Anh Tuấn",
                  "Hội trường UBND Thành phố (điểm cầu chính)", "I. THÀNH PHẦN THAM DỰ",
                  "II. CHƯƠNG TRÌNH HỘI NGHỊ", "III. NỘI DUNG HỘI NGHỊ", "IV. NHIỆM VỤ ĐƯỢC GIAO",
                  "Từ 08:00 đến 11:33 ngày 03/10/2025", "Hội nghị kết thúc lúc 11 giờ 33 phút ngày 03/10/2025.")


def vn(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def expected_phrases(m: Minutes) -> list[str]:
    """What every format must say about this conference, derived from its content."""
    c: dict[str, Any] = m.approved.content
    present = sum(1 for a in c["attendance"] if a["present"])
    t = c["totals"]
    out = [*HEADER_PHRASES, f"{vn(t['people'])} người tại {present}/{t['invited']} điểm cầu (dự kiến "
                             f"{vn(t['expected'])} người)", HOSTILE]
    out += [a["name"] for a in c["attendance"]]
    out += [i["title"] for i in c["agenda"]]
    out += [n for i in c["agenda"] for n in i["notes"] + i["conclusions"]]
    out += [s["topic"] for i in c["agenda"] for s in i["speakers"]]
    out += [a["title"] for a in c["actions"]]
    out += [f"{a['due'][8:10]}/{a['due'][5:7]}/{a['due'][:4]}" for a in c["actions"]]
    assert m.approved.approval is not None
    out += [m.approved.approval.sha256, m.approved.approval.prev_sha256]
    return out


def missing(text: str, phrases: list[str]) -> list[str]:
    flat = squeeze(text)
    return [p for p in phrases if squeeze(p) not in flat]


def test_the_conference_has_the_figures_of_the_issue(minutes: Minutes) -> None:
    c = minutes.approved.content
    assert len(c["attendance"]) == 127 and c["totals"]["invited"] == 127
    assert len(c["agenda"]) == 8
    assert sum(len(i["speakers"]) for i in c["agenda"]) == 30
    assert len(c["actions"]) == 20


@pytest.mark.parametrize("fmt", ["html", "pdf", "docx"])
def test_every_format_says_everything(minutes: Minutes, fmt: str) -> None:
    data = minutes.files[fmt]
    text = {"html": lambda: html_body_text(html_tree(data)), "pdf": lambda: pdf_text(data),
            "docx": lambda: docx_text(docx_document(data))}[fmt]()
    assert missing(text, expected_phrases(minutes)) == []
    assert "DỰ THẢO" not in text


def test_pdf_embeds_fonts_with_vietnamese_glyphs(minutes: Minutes) -> None:
    assert missing_font_message() is None     # fonts-liberation2 or fonts-dejavu-core installed
    fonts = pdf_fonts(minutes.files["pdf"])
    assert fonts, "no fonts found"
    assert all(fonts.values()), f"not embedded: {[f for f, e in fonts.items() if not e]}"
    # every glyph comes from our serif (or the mono of the hashes): no fallback font was needed
    assert all(f.split("+", 1)[-1].startswith("Minutes-") for f in fonts), fonts


def test_pdf_is_a4_with_metadata_and_no_script(minutes: Minutes) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    data = minutes.files["pdf"]
    reader = PdfReader(BytesIO(data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    info = reader.metadata
    assert info is not None and info.title is not None and info.title.startswith("BIÊN BẢN HỘI NGHỊ")
    assert minutes.approved.approval is not None
    # WeasyPrint keeps letters and digits of a <meta> name: bridgeconf-sha256 -> /bridgeconfsha256
    assert info.get("/bridgeconfsha256") == minutes.approved.approval.sha256
    assert b"/JavaScript" not in data and b"/JS " not in data and b"/OpenAction" not in data
    text = pdf_text(data)
    assert f"Phiên bản 2 · SHA-256 {minutes.approved.approval.sha256[:16]}" in text
    # Decree 30/2020: the page number centred at the top, from page 2 on (pdftotext keeps the layout)
    pages = [_pdftotext(data, n) for n in (1, 2, len(reader.pages))]
    assert pages[0].splitlines()[0].strip() != "1"
    assert pages[1].splitlines()[0].strip() == "2" and pages[2].splitlines()[0].strip() == str(len(reader.pages))


def _pdftotext(data: bytes, page: int) -> str:
    out = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", "-", "-"], input=data,
                         capture_output=True, check=True)
    return out.stdout.decode().lstrip("\n")


def test_html_runs_no_script_from_a_note(minutes: Minutes) -> None:
    raw = minutes.files["html"]
    tree = html_tree(raw)
    scripts = tree.xpath("//script")
    assert [(s.get("type"), s.get("id")) for s in scripts] == [("application/json", "bridgeconf-minutes")]
    assert not tree.xpath("//body//img | //body//*[@onerror] | //body//b[contains(., 'đậm')]")
    assert any(p.text_content() == HOSTILE for p in tree.xpath("//p[@class='note']"))
    assert b"<script>alert" not in raw and b"</script>alert" not in raw
    data = json.loads(scripts[0].text)
    assert data["content"] == minutes.approved.content
    assert tree.get("lang") == "vi"
    assert [h.text_content() for h in tree.xpath("//h2")] == [
        "I. THÀNH PHẦN THAM DỰ", "II. CHƯƠNG TRÌNH HỘI NGHỊ", "III. NỘI DUNG HỘI NGHỊ", "IV. NHIỆM VỤ ĐƯỢC GIAO"]


def test_html_tables(minutes: Minutes) -> None:
    tree = html_tree(minutes.files["html"])
    rows = tree.xpath("//table[contains(@class, 'attendance')]/tbody/tr")
    assert len(rows) == 127 + 1      # every invited site, and the total
    ba_dinh = next(r for r in rows if "Phường Ba Đình" in r.text_content())
    cells = [td.text_content().strip() for td in ba_dinh.xpath("td")]
    assert cells[2] == "Có mặt" and cells[3].count(":") == 1 and "/" in cells[5]
    absent = [r for r in rows if "Vắng" in r.xpath("td")[2].text_content()]
    assert {r.xpath("td")[1].text_content().strip() for r in absent} == {"Xã Minh Châu", "Xã Suối Hai", "Xã Bất Bạt"}
    agenda = [[td.text_content().strip() for td in r.xpath("td")]
              for r in tree.xpath("//table[contains(@class, 'agenda')]/tbody/tr")]
    assert [a[0] for a in agenda] == [str(i) for i in range(1, 9)]
    y_kien = next(a for a in agenda if a[1].startswith("Ý kiến của các xã"))
    item = next(i for i in minutes.approved.content["agenda"] if i["item_id"] == "y-kien")
    actual = round(item["actual_seconds"] / 60)
    assert y_kien[4:7] == ["50", str(actual), f"+{actual - 50}"]
    assert len(tree.xpath("//table[contains(@class, 'speakers')]/tbody/tr")) == 30
    assert len(tree.xpath("//table[contains(@class, 'actions')]/tbody/tr")) == 20


def test_docx_structure(minutes: Minutes) -> None:
    data = minutes.files["docx"]
    document = docx_document(data)
    heads = docx_headings(document)
    assert [t for s, t in heads if s == "Heading 1"] == [
        "I. THÀNH PHẦN THAM DỰ", "II. CHƯƠNG TRÌNH HỘI NGHỊ", "III. NỘI DUNG HỘI NGHỊ", "IV. NHIỆM VỤ ĐƯỢC GIAO"]
    items = [t for s, t in heads if s == "Heading 2"]
    assert [t.split(".")[0] for t in items[:8]] == [str(i) for i in range(1, 9)]
    tables = docx_tables(document)
    h = headers(labels("vi"))
    attendance = next(t for t in tables if tuple(t[0]) == h.attendance)
    assert len(attendance) == 1 + 127 + 1
    assert attendance[-1][1] == "Tổng cộng"
    speakers = [t for t in tables if tuple(t[0]) == h.speakers]
    assert sum(len(t) - 1 for t in speakers) == 30
    actions = next(t for t in tables if tuple(t[0]) == h.actions)
    assert len(actions) == 21
    assert "Xã Sóc Sơn; Xã Đa Phúc; Xã Trung Giã" in [row[2] for row in actions]
    assert HOSTILE in [p.text for p in document.paragraphs]
    assert document.styles["Normal"].font.name == "Times New Roman"
    assert document.core_properties.language == "vi-VN"
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert "DỰ THẢO" not in docx_header_footer_text(document)
    assert minutes.approved.approval is not None
    props = docx_custom_properties(data)
    assert props["bridgeconf-sha256"] == minutes.approved.approval.sha256
    assert props["bridgeconf-version"] == "2" and props["bridgeconf-status"] == "approved"


def test_drafts_are_marked_in_every_format(minutes: Minutes) -> None:
    files = minutes.draft_files
    assert "DỰ THẢO" in pdf_text(files["pdf"])
    document = docx_document(files["docx"])
    assert "DỰ THẢO" in docx_header_footer_text(document) and "DỰ THẢO" in docx_text(document)
    tree = html_tree(files["html"])
    assert tree.xpath("//div[@class='watermark']")[0].text_content() == "DỰ THẢO"
    assert not tree.xpath("//div[@class='verification']")   # a draft has no hash to show
    assert "SHA-256" not in pdf_text(files["pdf"])


def test_english_labels(minutes: Minutes) -> None:
    options = RenderOptions(lang="en", names=minutes.options.names, place="Hanoi")
    page = render_html(minutes.approved, options)
    text = html_body_text(html_tree(page.encode()))
    for phrase in ("SOCIALIST REPUBLIC OF VIET NAM", "MINUTES OF THE CONFERENCE", "CONCLUSIONS", "Hanoi, 03/10/2025",
                   "I. ATTENDANCE", "IV. ACTION ITEMS", "Phường Ba Đình", "From 08:00 to 11:33 on 03/10/2025"):
        assert phrase in text, phrase
    assert "KẾT LUẬN" not in text and "BIÊN BẢN" not in text
    document = docx_document(render_docx(minutes.approved, options))
    assert ("Heading 1", "I. ATTENDANCE") in docx_headings(document)
    assert document.core_properties.language == "en-GB"
