"""Minutes as print-ready HTML (A4, the layout of a Vietnamese administrative document),
from a jinja2 template with autoescaping: every value from the content is text, never
markup. The same HTML, with embedded fonts, is what WeasyPrint turns into the PDF."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from .source import MinutesSource, RenderOptions
from .stamp import html_script_json
from .view import MinutesView, build_view
from .ward_view import ward_view

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render_html(source: MinutesSource, options: RenderOptions | None = None) -> str:
    """The minutes as one self-contained HTML page (styles inline, no scripts to run)."""
    options = options or RenderOptions()
    return html_from_view(build_view(source, options), source, options)


def html_from_view(view: MinutesView, source: MinutesSource, options: RenderOptions, *,
                   font_css: str = "") -> str:
    """``font_css`` is our own @font-face CSS (fonts.font_css) for the PDF render."""
    a = source.approval
    return _env().get_template("minutes.html").render(
        v=view, L=view.L, stamp_json=Markup(html_script_json(source, options)),
        font_css=Markup(font_css), sha256=a.sha256 if a else "", version=source.version,
        w=ward_view(source.content, view.lang))
