"""Minutes as PDF: WeasyPrint lays out the same HTML, with the fonts of fonts.py embedded
(subset) so that Vietnamese text shows and extracts the same on every machine. The stamp
travels as an embedded file, the hash and version as document metadata. WeasyPrint may load
nothing but those font files: the content is text, but no URL is ever followed."""

from __future__ import annotations

from typing import Any

from .fonts import allowed_urls, font_css
from .render_html import html_from_view
from .source import MinutesSource, RenderOptions
from .stamp import PDF_NAME, stamp_json
from .view import build_view


def fonts_only_fetcher(allowed: frozenset[str]) -> Any:
    """A WeasyPrint URL fetcher that fetches our font files and refuses every other URL.
    (WeasyPrint is imported on first use: it costs a second at start-up otherwise.)"""
    from weasyprint.urls import URLFetcher

    class FontsOnlyFetcher(URLFetcher):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(allowed_protocols=("file",), fail_on_errors=False)

        def fetch(self, url: str, headers: object = None) -> object:
            if url not in allowed:
                raise ValueError(f"minutes documents load no resources: {url[:80]}")
            return super().fetch(url, headers)

    return FontsOnlyFetcher()


def render_pdf(source: MinutesSource, options: RenderOptions | None = None) -> bytes:
    from weasyprint import HTML, Attachment

    options = options or RenderOptions()
    view = build_view(source, options)
    html = html_from_view(view, source, options, font_css=font_css())
    attachment = Attachment(string=stamp_json(source, options), name=PDF_NAME,
                            description="bridgeconf minutes: canonical content and SHA-256")
    document = HTML(string=html, url_fetcher=fonts_only_fetcher(allowed_urls()), base_url="about:blank")
    pdf = document.write_pdf(attachments=[attachment], custom_metadata=True)
    if pdf is None:   # write_pdf returns the bytes when no target is given
        raise RuntimeError("WeasyPrint returned no PDF")
    return bytes(pdf)
