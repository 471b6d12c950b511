"""One entry point for the server: a format name in, the file (bytes, media type, file
name) or a DocumentError out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import DocumentError, DocumentErrorCode
from .render_docx import render_docx
from .render_html import render_html
from .render_pdf import render_pdf
from .source import MinutesSource, RenderOptions, check_options

MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
FORMATS = tuple(MEDIA_TYPES)


@dataclass(frozen=True)
class Rendered:
    body: bytes
    media_type: str
    filename: str


def filename(source: MinutesSource, fmt: str) -> str:
    """bien-ban-<conference>-v2.pdf, or bien-ban-<conference>-du-thao-v2.pdf for a draft."""
    draft = "-du-thao" if source.is_draft else ""
    return f"bien-ban-{source.conference_id or 'hoi-nghi'}{draft}-v{source.version}.{fmt}"


def render(source: MinutesSource, fmt: str, options: RenderOptions | None = None) -> Rendered | DocumentError:
    options = options or RenderOptions()
    if fmt not in MEDIA_TYPES:
        return DocumentError(DocumentErrorCode.UNKNOWN_FORMAT,
                             f"format {fmt[:20]!r} is not one of {', '.join(FORMATS)}")
    problem = check_options(options)
    if problem is not None:
        return problem
    renderers: dict[str, Callable[[MinutesSource, RenderOptions], str | bytes]] = {
        "html": render_html, "pdf": render_pdf, "docx": render_docx}
    body = renderers[fmt](source, options)
    return Rendered(body=body.encode() if isinstance(body, str) else body, media_type=MEDIA_TYPES[fmt],
                    filename=filename(source, fmt))
