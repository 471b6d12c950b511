"""The PDF's tables as laid out by WeasyPrint: no text runs past its cell's edge (through the
column's line) — not the 4-digit totals of the attendance table ("3.667 / 3.945"), not "STT"
in the header of the actions table. Measured on the layout boxes, not on pixels."""

from __future__ import annotations

from typing import Any

import pytest

from server.documents import RenderOptions
from server.documents.fonts import allowed_urls, font_css
from server.documents.render_html import html_from_view
from server.documents.render_pdf import fonts_only_fetcher
from server.documents.view import build_view
from tests.server.documents.corpus import Minutes

EPS = 0.5   # CSS px


def _walk(box: Any) -> Any:
    yield box
    for child in getattr(box, "children", []) or []:
        yield from _walk(child)


def _texts(box: Any) -> list[Any]:
    from weasyprint.formatting_structure.boxes import TextBox
    return [b for b in _walk(box) if isinstance(b, TextBox)]


@pytest.fixture(scope="module")
def pages(minutes: Minutes) -> list[Any]:
    from weasyprint import HTML

    options = RenderOptions(lang="vi", names=minutes.built.names, place="Hà Nội")
    view = build_view(minutes.approved, options)
    html = html_from_view(view, minutes.approved, options, font_css=font_css())
    doc = HTML(string=html, url_fetcher=fonts_only_fetcher(allowed_urls()), base_url="about:blank").render()
    return [page._page_box for page in doc.pages]


def overflowing_cells(pages: list[Any], table_class: str) -> list[str]:
    from weasyprint.formatting_structure.boxes import TableBox, TableCellBox

    out = []
    for page in pages:
        for table in (b for b in _walk(page) if isinstance(b, TableBox)
                      and table_class in (b.element.get("class") or "") if b.element is not None):
            for cell in (b for b in _walk(table) if isinstance(b, TableCellBox)):
                right = cell.content_box_x() + cell.width
                for text in _texts(cell):
                    if text.position_x + text.width > right + EPS:
                        out.append(f"{text.text!r} ends at {text.position_x + text.width:.1f} > {right:.1f}")
    return out


def test_the_attendance_totals_stay_inside_their_column(minutes: Minutes, pages: list[Any]) -> None:
    assert minutes.approved.content["totals"]["people"] >= 1000    # a 4-digit total, "3.667 / 3.945"
    assert overflowing_cells(pages, "attendance") == []


def test_stt_stays_inside_its_column_in_every_table(pages: list[Any]) -> None:
    for table in ("actions", "agenda", "speakers", "attendance"):
        assert overflowing_cells(pages, table) == [], table
