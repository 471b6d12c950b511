"""Minutes documents: the biên bản of a conference rendered as HTML, PDF and DOCX from the
minutes' canonical content, and verification of approved versions (their hash chain, and a
downloaded file against the version it claims to be). See docs/documents.md.

    source = source_for(state, version)            # MinutesSource | DocumentError
    doc = render(source, "pdf", RenderOptions(lang="vi", names=..., place="Hà Nội"))
    report = verify_document(path_or_bytes, chain=state.minutes.approved)
"""

from .errors import DocumentError, DocumentErrorCode, VerifyCode
from .fonts import missing_font_message
from .formats import FORMATS, Rendered, render
from .labels import LANGS
from .render_docx import render_docx
from .render_html import render_html
from .render_pdf import render_pdf
from .source import (
    Approval,
    ApprovedVersion,
    MinutesSource,
    RenderOptions,
    approved_source,
    draft_source,
    source_for,
)
from .verify import ChainReport, VerifyReport, VersionCheck, verify_chain, verify_document

__all__ = [
    "FORMATS", "LANGS", "Approval", "ApprovedVersion", "ChainReport", "DocumentError", "DocumentErrorCode",
    "MinutesSource", "RenderOptions", "Rendered", "VerifyCode", "VerifyReport", "VersionCheck",
    "approved_source", "draft_source", "missing_font_message", "render", "render_docx", "render_html",
    "render_pdf", "source_for", "verify_chain", "verify_document",
]
