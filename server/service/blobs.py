"""The content-addressed file store of conference documents and recommendation attachments,
under ``<data_dir>/blobs/``: a file is kept once under its SHA-256 (``ab/cdef…``), written to a
temporary file first, synced and renamed, so that a file is either whole or absent (kill -9
included). The event log refers to files by name, size, type and SHA-256 only.

Every upload is checked before it is kept: its size (``MAX_FILE_BYTES``), and its content
against the type it declares (``sniff``): a PDF starts with ``%PDF-`` and has no JavaScript
or launch action, PNG and JPEG by their signatures, DOCX/XLSX/PPTX are ZIP packages with their
main part and no macros. An HTML page renamed ``.pdf`` is refused. With several server
processes (Redis), ``data_dir`` must be shared storage so that each process sees every file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import secrets
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from scheduling.ward_records import FILE_TYPES, MAX_FILE_BYTES, SHA256_RE

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
EXTENSIONS = {PDF: (".pdf",), PNG: (".png",), JPEG: (".jpg", ".jpeg"), DOCX: (".docx",), XLSX: (".xlsx",),
              PPTX: (".pptx",)}
OOXML_MAIN = {DOCX: "word/document.xml", XLSX: "xl/workbook.xml", PPTX: "ppt/presentation.xml"}
# what makes a PDF act rather than show: JavaScript, launching a program, embedded forms posting out
PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|SubmitForm|ImportData|RichMedia|XFA)(?![A-Za-z])")
HTML_HINT = re.compile(rb"<\s*(!doctype|html|script|svg|iframe|body|head)\b", re.IGNORECASE)
CHUNK = 64 * 1024
OVERLAP = 32   # bytes kept between chunks so that a marker split across two is still seen


class BlobError(Exception):
    """A refused upload (nothing kept): ``too_large``, ``bad_file``, ``type_mismatch`` or ``active_content``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Stored:
    sha256: str
    size: int
    content_type: str


def check_name(name: str, content_type: str) -> None:
    """The declared file name fits the declared type (``.pdf`` for a PDF, …)."""
    if content_type not in FILE_TYPES:
        raise BlobError("type_mismatch", f"{content_type[:80]!r} is not accepted: PDF, DOCX, XLSX, PPTX, PNG or JPEG")
    if not name or len(name) > 200 or "/" in name or "\\" in name or any(ord(c) < 32 for c in name):
        raise BlobError("bad_file", "name: a file name of 1-200 characters, no folder")
    if not name.lower().endswith(EXTENSIONS[content_type]):
        raise BlobError("type_mismatch", f"{name[:80]!r} does not end with {' or '.join(EXTENSIONS[content_type])}")


def sniff_head(head: bytes, content_type: str) -> None:
    """The first bytes match the declared type."""
    ok = {
        PDF: head.startswith(b"%PDF-"),
        PNG: head.startswith(b"\x89PNG\r\n\x1a\n"),
        JPEG: head.startswith(b"\xff\xd8\xff"),
    }.get(content_type, head.startswith(b"PK\x03\x04"))
    if not ok:
        what = "an HTML page" if HTML_HINT.search(head[:1024]) else "something else"
        raise BlobError("type_mismatch", f"the content is {what}, not the declared {content_type}")


def check_package(path: Path, content_type: str) -> None:
    """An Office Open XML package: a ZIP with its main part, its content types, and no macros."""
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise BlobError("type_mismatch", f"the content is not a {content_type} package") from None
    if "[Content_Types].xml" not in names or OOXML_MAIN[content_type] not in names:
        raise BlobError("type_mismatch", f"the content is not a {content_type} package")
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise BlobError("active_content", "the document holds macros (vbaProject.bin): save it without them")


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"

    def path(self, sha256: str) -> Path | None:
        """Where a kept file is, or None (also for anything that is not a SHA-256)."""
        if not SHA256_RE.match(sha256):
            return None
        path = self.root / sha256[:2] / sha256[2:]
        return path if path.is_file() else None

    async def put(self, chunks: AsyncIterator[bytes], content_type: str, *, limit: int = MAX_FILE_BYTES) -> Stored:
        """Keep an upload after checking it; raise BlobError and keep nothing otherwise."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        tmp = self.tmp / secrets.token_hex(16)
        digest, size, head, tail = hashlib.sha256(), 0, b"", b""
        try:
            with tmp.open("wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise BlobError("too_large", f"a file has at most {limit // (1024 * 1024)} MiB")
                    if len(head) < 1024:
                        head += chunk[:1024 - len(head)]
                        if len(head) >= 8:   # refuse a mismatch at once, not after 50 MiB
                            sniff_head(head, content_type)
                    window = tail + chunk
                    if content_type == PDF and PDF_ACTIVE.search(window):
                        raise BlobError("active_content", "the PDF holds JavaScript or actions: print it to PDF again")
                    tail = window[-OVERLAP:]
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                await asyncio.to_thread(os.fsync, out.fileno())
            if size == 0:
                raise BlobError("bad_file", "the file is empty")
            sniff_head(head, content_type)
            if content_type in OOXML_MAIN:
                await asyncio.to_thread(check_package, tmp, content_type)
            sha = digest.hexdigest()
            final = self.root / sha[:2] / sha[2:]
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)   # atomic; the same content twice is the same file
            return Stored(sha256=sha, size=size, content_type=content_type)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
