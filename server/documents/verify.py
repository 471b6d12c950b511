"""Verification of the minutes: of the hash chain of approved versions, and of a downloaded
file against the version it claims to be.

A chain is sound when versions are numbered 1..n, version 1 follows the genesis hash
(64 zeros), each ``prev_sha256`` is the previous version's ``sha256``, and each ``sha256``
is ``chain_hash(prev_sha256, content)`` recomputed.

A file passes when (1) it carries a stamp of an approved version, (2) the stamp's content
hashes to its SHA-256, (3) given the conference's chain, that SHA-256 is the one recorded for
that version, and (4) the text a reader sees is the text of that content: the file is
re-rendered from the stamp in its own format and both texts compared with whitespace, page
footers and repeated table headers set aside (so layout and pagination do not matter, words
do). Without the chain, (3) is skipped and the report says so: a forger who rewrites both the
content and its hash is caught only against the conference's log.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scheduling.reports import chain_hash

from .errors import VerifyCode
from .extract import MAX_FILE, detect_format, pdf_support, read_stamp, squeeze, visible_text
from .render_docx import render_docx
from .render_html import render_html
from .render_pdf import render_pdf
from .source import ApprovedVersion, MinutesSource, RenderOptions, check_options
from .stamp import Stamp, parse_stamp
from .view import GENESIS, MinutesView, build_view


@dataclass(frozen=True)
class VersionCheck:
    version: int
    sha256: str
    ok: bool
    message: str = ""


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    code: VerifyCode
    message: str
    versions: tuple[VersionCheck, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "code": str(self.code), "message": self.message,
                "versions": [{"version": v.version, "sha256": v.sha256, "ok": v.ok, "message": v.message}
                             for v in self.versions]}


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    code: VerifyCode
    message: str
    format: str = ""
    conference_id: str = ""
    version: int | None = None
    sha256: str = ""
    checks: tuple[str, ...] = field(default=())   # what was checked and held

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "code": str(self.code), "message": self.message, "format": self.format,
                "conference_id": self.conference_id, "version": self.version, "sha256": self.sha256,
                "checks": list(self.checks)}


def verify_chain(versions: Sequence[ApprovedVersion]) -> ChainReport:
    """Recompute every link of a chain of approved versions (``MinutesVersion`` or
    ``MinutesApproved``, in order)."""
    checks: list[VersionCheck] = []
    prev = GENESIS
    for expected, v in enumerate(versions, start=1):
        problem = ""
        if v.version != expected:
            problem = f"numbered {v.version}, expected {expected}"
        elif v.prev_sha256 != prev:
            problem = f"prev_sha256 {v.prev_sha256[:12]}… does not match the previous version's {prev[:12]}…"
        elif chain_hash(v.prev_sha256, v.content) != v.sha256:
            problem = "its content does not hash to its sha256"
        checks.append(VersionCheck(v.version, v.sha256, not problem, problem))
        if problem:
            return ChainReport(False, VerifyCode.BROKEN_CHAIN, f"version {v.version}: {problem}", tuple(checks))
        prev = v.sha256
    n = len(checks)
    return ChainReport(True, VerifyCode.OK, f"{n} approved version{'s' if n != 1 else ''}, chain intact",
                       tuple(checks))


def verify_document(file: str | os.PathLike[str] | bytes, *,
                    chain: Sequence[ApprovedVersion] | None = None, check_text: bool = True) -> VerifyReport:
    """Check a rendered minutes file (HTML, PDF or DOCX; a path or its bytes). With
    ``chain`` (the conference's approved versions, in order) the file's hash is checked
    against the log; ``check_text=False`` skips the re-render (the hash checks stay)."""
    data = _load(file)
    if isinstance(data, VerifyReport):
        return data
    fmt = detect_format(data)
    if fmt is None:
        return VerifyReport(False, VerifyCode.UNREADABLE, "not an HTML, PDF or DOCX file")
    if fmt == "pdf" and (missing := pdf_support()) is not None:
        return VerifyReport(False, VerifyCode.UNREADABLE, missing, format=fmt)
    raw = read_stamp(data, fmt)
    if raw is None:
        return VerifyReport(False, VerifyCode.NO_STAMP, f"this {fmt.upper()} file carries no bridgeconf minutes data",
                            format=fmt)
    stamp = parse_stamp(raw)
    if isinstance(stamp, str):
        return VerifyReport(False, VerifyCode.BAD_STAMP, stamp, format=fmt)
    src, a = stamp.source, stamp.source.approval
    base = VerifyReport(False, VerifyCode.OK, "", format=fmt, conference_id=src.conference_id, version=src.version,
                        sha256=a.sha256 if a else "")
    if a is None:
        return replace(base, code=VerifyCode.DRAFT, message="a draft of the minutes: it has no approved hash to check")
    checks: list[str] = []
    if chain_hash(a.prev_sha256, src.content) != a.sha256:
        return replace(base, code=VerifyCode.CONTENT_TAMPERED,
                       message="the embedded content does not hash to the embedded SHA-256")
    checks.append("content hash")
    if chain is not None:
        problem = _anchor(chain, a.version, a.sha256, a.prev_sha256)
        if problem is not None:
            return replace(base, code=problem[0], message=problem[1], checks=tuple(checks))
        checks.append("conference chain")
    if check_text:
        problem = _compare_text(data, fmt, raw, stamp)
        if problem is not None:
            return replace(base, code=problem[0], message=problem[1], checks=tuple(checks))
        checks.append("visible text")
    note = "" if chain is not None else " (not checked against the conference's log: pass its chain for that)"
    return replace(base, ok=True, message=f"version {a.version} verified: {', '.join(checks)}{note}",
                   checks=tuple(checks))


def _load(file: str | os.PathLike[str] | bytes) -> bytes | VerifyReport:
    if isinstance(file, bytes | bytearray):
        data = bytes(file)
    else:
        path = Path(file)
        try:
            if path.stat().st_size > MAX_FILE:
                return VerifyReport(False, VerifyCode.UNREADABLE, f"{path.name}: larger than {MAX_FILE} bytes")
            data = path.read_bytes()
        except OSError as exc:
            return VerifyReport(False, VerifyCode.UNREADABLE, f"{path}: {exc.strerror or exc}")
    if len(data) > MAX_FILE:
        return VerifyReport(False, VerifyCode.UNREADABLE, f"larger than {MAX_FILE} bytes")
    return data


def _anchor(chain: Sequence[ApprovedVersion], version: int, sha: str, prev: str) -> tuple[VerifyCode, str] | None:
    report = verify_chain(chain)
    if not report.ok:
        return VerifyCode.BROKEN_CHAIN, f"the conference's chain itself is broken: {report.message}"
    if not 1 <= version <= len(chain):
        return VerifyCode.NOT_IN_CHAIN, f"the conference has no approved version {version}"
    recorded = chain[version - 1]
    if recorded.sha256 != sha or recorded.prev_sha256 != prev:
        return VerifyCode.NOT_IN_CHAIN, (f"version {version} was approved with SHA-256 {recorded.sha256[:16]}…, "
                                         f"this file claims {sha[:16]}…")
    return None


def _renderer(fmt: str) -> Callable[[MinutesSource, RenderOptions], str | bytes]:
    renderers: dict[str, Callable[[MinutesSource, RenderOptions], str | bytes]] = {
        "html": render_html, "pdf": render_pdf, "docx": render_docx}
    return renderers[fmt]


_EXPECTED: OrderedDict[tuple[str, str], str | tuple[VerifyCode, str]] = OrderedDict()
_EXPECTED_MAX = 8


def _expected_text(fmt: str, raw: str | bytes) -> str | tuple[VerifyCode, str]:
    """The comparable text of a fresh render of the stamp ``raw`` in ``fmt``. A pure
    function of its arguments (the stamp is the whole input of a render), so the last few
    are kept, keyed by digest: verifying many copies of one version renders it once."""
    key = (fmt, hashlib.sha256(raw.encode() if isinstance(raw, str) else raw).hexdigest())
    if key in _EXPECTED:
        _EXPECTED.move_to_end(key)
        return _EXPECTED[key]
    result = _render_expected(fmt, raw)
    _EXPECTED[key] = result
    if len(_EXPECTED) > _EXPECTED_MAX:
        _EXPECTED.popitem(last=False)
    return result


def _render_expected(fmt: str, raw: str | bytes) -> str | tuple[VerifyCode, str]:
    stamp = parse_stamp(raw)
    if isinstance(stamp, str):
        return VerifyCode.BAD_STAMP, stamp
    if check_options(stamp.options) is not None:
        return VerifyCode.BAD_STAMP, f"unknown language {stamp.options.lang[:10]!r} in the embedded data"
    try:
        view = build_view(stamp.source, stamp.options)
        rendered = _renderer(fmt)(stamp.source, stamp.options)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        return VerifyCode.BAD_STAMP, f"the embedded content cannot be rendered: {type(exc).__name__}: {exc}"
    parts = visible_text(rendered.encode() if isinstance(rendered, str) else rendered, fmt)
    if parts is None:
        return VerifyCode.UNREADABLE, f"a fresh {fmt.upper()} render cannot be read back"
    return _comparable(parts, view, fmt)


def _compare_text(data: bytes, fmt: str, raw: str | bytes, stamp: Stamp) -> tuple[VerifyCode, str] | None:
    want = _expected_text(fmt, raw)
    if isinstance(want, tuple):
        return want
    actual = visible_text(data, fmt)
    if actual is None:
        return VerifyCode.UNREADABLE, f"the text of this {fmt.upper()} file cannot be read"
    got = _comparable(actual, build_view(stamp.source, stamp.options), fmt)
    if want == got:
        return None
    at = next((i for i, (x, y) in enumerate(zip(want, got, strict=False)) if x != y), min(len(want), len(got)))
    return VerifyCode.TEXT_TAMPERED, (f"the visible text differs from the approved content near "
                                      f"“{want[max(0, at - 30):at + 30]}” (file has “{got[max(0, at - 30):at + 30]}”)")


def _comparable(parts: list[str], view: MinutesView, fmt: str) -> str:
    """The words of a document without what layout repeats: page footers, page numbers
    ("Trang 3/13": ``parts`` are the pages of a PDF) and table headers (repeated after each
    page break)."""
    text = squeeze(parts)
    furniture = [squeeze([view.footer]), *(squeeze(list(h)) for h in view.headers.all())]
    if fmt == "pdf":
        label = squeeze([view.L["page"]])
        furniture += [f"{label}{i}/{len(parts)}" for i in range(1, len(parts) + 1)]
    for piece in sorted(furniture, key=len, reverse=True):
        if piece:
            text = text.replace(piece, "")
    return text
