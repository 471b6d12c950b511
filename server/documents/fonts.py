"""The fonts the PDF embeds, found by file so that the result never depends on what
fontconfig picks: a Times-like serif with every Vietnamese glyph (Liberation Serif 2, Debian
``fonts-liberation2``; the older ``fonts-liberation`` 1.x lacks them), else DejaVu Serif
(``fonts-dejavu-core``), and DejaVu Sans Mono for hashes. ``BRIDGECONF_FONT_DIR`` adds a
directory searched first (for a deployment that ships its own font files).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SERIF = "Minutes Serif"
MONO = "Minutes Mono"
# (family files: regular, bold, italic, bold italic) in order of preference
SERIF_CANDIDATES: tuple[tuple[str, ...], ...] = (
    ("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf", "LiberationSerif-Italic.ttf",
     "LiberationSerif-BoldItalic.ttf"),
    ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf"),
)
MONO_FILES = ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf")
SEARCH_DIRS = ("/usr/share/fonts/truetype/liberation2", "/usr/share/fonts/truetype/dejavu",
               "/usr/share/fonts/dejavu", "/usr/share/fonts/truetype")
PACKAGES = "fonts-liberation2 (preferred) or fonts-dejavu-core"


@dataclass(frozen=True)
class FontFace:
    family: str
    path: Path
    weight: str
    style: str


def _dirs() -> list[Path]:
    extra = os.environ.get("BRIDGECONF_FONT_DIR")
    return [Path(d) for d in ((extra,) if extra else ()) + SEARCH_DIRS]


def _find(name: str) -> Path | None:
    for d in _dirs():
        p = d / name
        if p.is_file():
            return p
    return None


@cache
def font_faces() -> tuple[FontFace, ...]:
    """The faces to embed; empty when no suitable font is installed."""
    faces: list[FontFace] = []
    for files in SERIF_CANDIDATES:
        regular = _find(files[0])
        if regular is None:
            continue
        for name, weight, style in zip(files, ("normal", "bold", "normal", "bold"),
                                       ("normal", "normal", "italic", "italic"), strict=True):
            path = _find(name)
            if path is not None:
                faces.append(FontFace(SERIF, path, weight, style))
        break
    for name, weight in zip(MONO_FILES, ("normal", "bold"), strict=True):
        path = _find(name)
        if path is not None:
            faces.append(FontFace(MONO, path, weight, "normal"))
    return tuple(faces)


def missing_font_message() -> str | None:
    """Why the PDF would lack Vietnamese glyphs, or None when a font is there."""
    if any(f.family == SERIF for f in font_faces()):
        return None
    return f"no font with Vietnamese glyphs found: install {PACKAGES}"


def font_css() -> str:
    """@font-face rules for the faces found, and their use throughout the document."""
    rules = [f'@font-face {{ font-family: "{f.family}"; src: url("{f.path.as_uri()}"); '
             f"font-weight: {f.weight}; font-style: {f.style}; }}" for f in font_faces()]
    rules.append(f'@page {{ font-family: "{SERIF}", serif; }}')
    rules.append(f'body, table, h1, h2, h3, h4, p, td, th, div, span {{ font-family: "{SERIF}", serif; }}')
    rules.append(f'.hash {{ font-family: "{MONO}", monospace; }}')
    return "\n".join(rules)


def allowed_urls() -> frozenset[str]:
    """The only resources a PDF render may load: these font files."""
    return frozenset(f.path.as_uri() for f in font_faces())
