"""Renders one PDF to page images, run as a child process by ``decks.py`` (never in the
server's event loop): ``python server/documents/deck_render.py PDF OUT_DIR`` (a script: it
imports nothing of ours).

Each page is rendered once by PDFium (pypdfium2) at the largest width and scaled down with
Pillow to the others; every width is written as ``OUT_DIR/<width>/<page>.webp``. The last line
on stdout is one JSON object: ``{"pages": n, "sizes": [[w, h], ...] (at the largest width),
"max_rss_kb": ...}`` or ``{"error": code, "message": ...}`` (exit status 2). The caller
puts a time limit on the process and kills it when it runs over; this process caps its own
address space, so a PDF that asks for absurd amounts of memory ends it, not the server.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

WIDTHS = (640, 1280, 1920)
MAX_PAGES = 300
MAX_ASPECT = 4.0            # a page taller than 4x its width is rendered narrower, not taller
WEBP_QUALITY = 80
WEBP_METHOD = 1             # libwebp effort 0-6: 1 is ~3x faster than the default 4 for ~1.3x the bytes
MEMORY_LIMIT = 2 * 1024 ** 3


class RenderError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def render(pdf_path: Path, out: Path, widths: tuple[int, ...] = WIDTHS, max_pages: int = MAX_PAGES) -> list[tuple[int, int]]:
    """Write every page at every width under ``out``; the sizes at the largest width."""
    with pdf_path.open("rb") as f:
        if b"%PDF-" not in f.read(1024):
            raise RenderError("deck_not_pdf", "the file is not a PDF (no %PDF- header)")
    try:
        pdf = pdfium.PdfDocument(str(pdf_path))
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise RenderError("deck_encrypted", "the PDF is protected by a password: save it without one") from None
        raise RenderError("deck_not_pdf", f"the PDF cannot be read ({exc})") from None
    try:
        n = len(pdf)
        if n == 0:
            raise RenderError("deck_not_pdf", "the PDF has no pages")
        if n > max_pages:
            raise RenderError("deck_too_many_pages", f"the PDF has {n} pages; at most {max_pages}")
        top = max(widths)
        for w in widths:
            (out / str(w)).mkdir(parents=True, exist_ok=True)
        sizes = []
        for i in range(n):
            page = pdf[i]
            try:
                pw, ph = page.get_size()
                if pw <= 0 or ph <= 0:
                    raise RenderError("deck_render_failed", f"page {i + 1} has no size")
                width = min(top, round(top * MAX_ASPECT * pw / ph)) if ph / pw > MAX_ASPECT else top
                bitmap = page.render(scale=width / pw)
                try:
                    image = bitmap.to_pil().convert("RGB")   # a copy: the bitmap's memory can go
                finally:
                    bitmap.close()
            finally:
                page.close()
            sizes.append(image.size)
            for w in widths:
                scaled = image if w >= image.width else image.resize(
                    (w, max(1, round(image.height * w / image.width))), Image.Resampling.LANCZOS, reducing_gap=3.0)
                scaled.save(out / str(w) / f"{i + 1}.webp", "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
        return sizes
    finally:
        pdf.close()


def peak_rss_kb() -> int:
    """This process's peak resident memory. Linux's ``ru_maxrss`` survives ``exec`` (a child of a
    big server would report the server's size); ``VmHWM`` belongs to this program alone."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python deck_render.py PDF OUT_DIR", file=sys.stderr)
        return 64
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    os.nice(5)   # below the server: a deck being rendered never slows the chair's commands
    try:
        sizes = render(Path(argv[0]), Path(argv[1]))
    except RenderError as exc:
        print(json.dumps({"error": exc.code, "message": exc.message}))
        return 2
    except MemoryError:
        print(json.dumps({"error": "deck_render_failed", "message": "the PDF needs too much memory to render"}))
        return 2
    print(json.dumps({"pages": len(sizes), "sizes": sizes, "max_rss_kb": peak_rss_kb()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
