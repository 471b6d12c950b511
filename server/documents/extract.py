"""Reading a rendered file back: which format it is, the stamp it carries, and the text a
reader sees (HTML body text, PDF text per poppler's pdftotext or pypdf, DOCX paragraphs and
table cells in body order). Input is untrusted: sizes are bounded, XML is parsed without entities or network,
and every failure is a value (None), never an exception to the caller."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import unicodedata
import zipfile
from html.parser import HTMLParser

from lxml import etree

from .stamp import HTML_ID, PDF_NAME, XML_NS

PDFTOTEXT = shutil.which("pdftotext")   # Debian poppler-utils (RUN_DEBS)
MAX_FILE = 50_000_000
MAX_UNZIPPED = 200_000_000
_WS = re.compile(r"\s+")


def detect_format(data: bytes) -> str | None:
    """"pdf", "docx", "html", or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return "docx" if "word/document.xml" in z.namelist() else None
        except zipfile.BadZipFile:
            return None
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<!doctype html") or head.startswith(b"<html"):
        return "html"
    return None


# -- HTML ----------------------------------------------------------------------------------

class _HtmlReader(HTMLParser):
    """Collects the body's text (outside script/style/head) and our JSON script block."""

    HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.stamp: str | None = None
        self._hidden: list[str] = []
        self._in_stamp = False
        self._stamp_parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden.append(tag)
            if tag == "script" and dict(attrs).get("id") == HTML_ID and self.stamp is None:
                self._in_stamp = True

    def handle_endtag(self, tag: str) -> None:
        if self._hidden and self._hidden[-1] == tag:
            self._hidden.pop()
            if tag == "script" and self._in_stamp:
                self._in_stamp = False
                self.stamp = "".join(self._stamp_parts)

    def handle_data(self, data: str) -> None:
        if self._in_stamp:
            self._stamp_parts.append(data)
        elif not self._hidden:
            self.text.append(data)


def _html(data: bytes) -> _HtmlReader | None:
    try:
        reader = _HtmlReader()
        reader.feed(data.decode("utf-8"))
        reader.close()
        return reader
    except (UnicodeDecodeError, ValueError, AssertionError):
        return None


# -- PDF -----------------------------------------------------------------------------------

def pdf_support() -> str | None:
    """Why PDFs cannot be read here, or None. (pypdf is a test extra of pyproject.toml; the
    servers that verify PDFs need it installed.)"""
    try:
        import pypdf  # noqa: F401
    except ImportError:
        return "reading PDF files needs the pypdf package (pip install pypdf)"
    return None


def _pdf_reader(data: bytes):  # type: ignore[no-untyped-def]
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        return PdfReader(io.BytesIO(data))
    except (PyPdfError, ValueError, KeyError, TypeError):
        return None


def _pdf_stamp(data: bytes) -> bytes | None:
    reader = _pdf_reader(data)
    if reader is None:
        return None
    try:
        found = reader.attachments.get(PDF_NAME)
    except Exception:   # pypdf raises many kinds on malformed files
        return None
    return found[0] if found else None


def _pdf_text(data: bytes) -> list[str] | None:
    """The text of each page: poppler's ``pdftotext -raw`` (content-stream order, the order
    pypdf reads too, ~20 times faster) when it is installed, else pypdf."""
    if PDFTOTEXT is not None:
        try:
            out = subprocess.run([PDFTOTEXT, "-raw", "-enc", "UTF-8", "-q", "-", "-"], input=data,
                                 capture_output=True, timeout=120, check=True).stdout
            pages = out.decode("utf-8", "replace").split("\f")
            return pages[:-1] if pages and not pages[-1].strip() else pages
        except (OSError, subprocess.SubprocessError):
            return None
    reader = _pdf_reader(data)
    if reader is None:
        return None
    try:
        return [page.extract_text() or "" for page in reader.pages]
    except Exception:   # idem
        return None


# -- DOCX ----------------------------------------------------------------------------------

def _docx_stamp(data: bytes) -> str | None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if sum(i.file_size for i in z.infolist()) > MAX_UNZIPPED:
                return None
            for name in sorted(n for n in z.namelist() if re.fullmatch(r"customXml/item\d+\.xml", n)):
                root = etree.fromstring(z.read(name), parser)
                if root.tag == f"{{{XML_NS}}}minutes":
                    return root.text or ""
    except (zipfile.BadZipFile, etree.XMLSyntaxError, KeyError, ValueError):
        return None
    return None


def _docx_text(data: bytes) -> list[str] | None:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if sum(i.file_size for i in z.infolist()) > MAX_UNZIPPED:
                return None
        document = docx.Document(io.BytesIO(data))
    except Exception:   # python-docx raises many kinds on malformed files
        return None
    out: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        if child.tag.endswith("}p"):
            out.append(Paragraph(child, document).text)
        elif child.tag.endswith("}tbl"):
            for row in Table(child, document).rows:
                out.extend(cell.text for cell in row.cells)
    return out


# -- the two questions ---------------------------------------------------------------------

def read_stamp(data: bytes, fmt: str) -> str | bytes | None:
    """The raw stamp JSON a file carries, or None."""
    if fmt == "html":
        reader = _html(data)
        return reader.stamp if reader else None
    if fmt == "pdf":
        return _pdf_stamp(data)
    if fmt == "docx":
        return _docx_stamp(data)
    return None


def visible_text(data: bytes, fmt: str) -> list[str] | None:
    """The text a reader sees, in reading order, or None if the file cannot be read."""
    if fmt == "html":
        reader = _html(data)
        return reader.text if reader else None
    if fmt == "pdf":
        return _pdf_text(data)
    if fmt == "docx":
        return _docx_text(data)
    return None


def squeeze(parts: list[str]) -> str:
    """Text without any whitespace, NFC: line breaks and wrapping differ between layouts,
    the words do not."""
    return _WS.sub("", unicodedata.normalize("NFC", "".join(parts)))
