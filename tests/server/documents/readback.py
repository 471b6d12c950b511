"""Reading rendered minutes back with the readers' own libraries (pypdf, python-docx, lxml),
independently of server.documents.extract, so the tests check what a reader really gets."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from functools import cache

import docx
from docx.document import Document
from docx.table import Table
from lxml import etree, html
from pypdf import PdfReader


def squeeze(text: str) -> str:
    """Without whitespace (line wrapping differs between formats), NFC."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text))


@cache
def pdf_text(data: bytes) -> str:
    """The text pypdf extracts (cached: extraction takes ~1.5 s for the whole minutes)."""
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def pdf_fonts(data: bytes) -> dict[str, bool]:
    """Every font the PDF uses -> whether its glyphs are embedded."""
    fonts: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        resources = page.get("/Resources")
        if resources is None:
            continue
        for font in (resources.get_object().get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            fonts[str(font.get("/BaseFont"))] = embedded
    return fonts


def docx_document(data: bytes) -> Document:
    return docx.Document(io.BytesIO(data))


def docx_tables(document: Document) -> list[list[list[str]]]:
    """Every top-level table as rows of cell texts."""
    return [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]


def docx_text(document: Document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts.extend(_table_text(table))
    return "\n".join(parts)


def _table_text(table: Table) -> list[str]:
    return [cell.text for row in table.rows for cell in row.cells]


def docx_headings(document: Document) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]


def docx_header_footer_text(document: Document) -> str:
    section = document.sections[0]
    return "\n".join(p.text for p in section.header.paragraphs + section.footer.paragraphs)


def docx_custom_properties(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        root = etree.fromstring(z.read("docProps/custom.xml"))
    return {p.get("name"): "".join(p.itertext()) for p in root}


def html_tree(data: bytes) -> html.HtmlElement:
    return html.fromstring(data.decode("utf-8"))


def html_body_text(tree: html.HtmlElement) -> str:
    body = tree.find("body")
    assert body is not None
    return body.text_content()
