"""Slide decks on disk: a PDF is taken in (size-limited, hashed as it arrives), rendered once
to page images by a child process (``deck_render.py``) with a time limit, and stored
content-addressed under ``DATA_DIR/decks/<sha256>/<width>/<page>.webp``.

A deck is rendered into a scratch folder and moved into place in one rename, so a deck is
either all there (with its ``deck.json``) or not at all: nothing half-rendered is ever served.
The same PDF uploaded twice (to any conference) is rendered once. Errors are values with a
code (:class:`DeckError`); the edge maps them to HTTP statuses (``server/errors.py``).

The PDF itself is kept too (``originals``: ``DATA_DIR/blobs/decks/<sha256>.pdf``, with the
other uploaded files), before the deck is recorded. The rendered pages are a cache: a process
asked for a page of a deck it has not rendered (another process took the upload; its
``decks/`` was emptied) renders it from the kept PDF on first request (:meth:`DeckStore.page`),
once however many pages ask at the same time. With several processes, ``blobs/`` is the shared
storage (docs/operations.md); ``decks/`` may stay local to each process.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .deck_render import MAX_PAGES, WIDTHS

log = logging.getLogger(__name__)

MAX_BYTES = 50 * 1024 * 1024
TIME_LIMIT_S = 120.0
SHA256_RE = re.compile(r"^[0-9a-f]{64}\Z")
IMAGE_TYPE = "image/webp"
RETRY_AFTER_FAILURE_S = 60.0   # a kept PDF that failed to render is not tried again sooner
RENDERER = Path(__file__).with_name("deck_render.py")
"""Run as a script (not ``-m``), so the child imports pypdfium2 and Pillow only, not the
documents package (WeasyPrint and the rest)."""


class DeckError(Exception):
    """A deck refused: ``deck_not_pdf``, ``deck_encrypted``, ``deck_too_large``,
    ``deck_too_many_pages``, ``deck_timeout``, ``deck_render_failed``, ``deck_busy``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class RenderedDeck:
    sha256: str
    size: int
    pages: int
    widths: tuple[int, ...]
    seconds: float = 0.0          # 0 when it had been rendered before
    max_rss_kb: int = 0           # the renderer's memory peak

    def image_path(self, width: int, page: int) -> str:
        return image_url(self.sha256, width, page)


def image_url(sha256: str, width: int, page: int) -> str:
    return f"/api/v1/decks/{sha256}/{width}/{page}.webp"


class DeckStore:
    """The rendered decks under ``root``; at most ``concurrency`` renders at once."""

    def __init__(self, root: Path, *, originals: Path | None = None, time_limit_s: float = TIME_LIMIT_S,
                 concurrency: int = 1, max_bytes: int = MAX_BYTES, max_pages: int = MAX_PAGES,
                 renderer: Path = RENDERER) -> None:
        self.root = root
        self.originals = originals   # where each deck's PDF is kept (None: not kept, no rendering on demand)
        self.renderer = renderer
        self.time_limit_s = time_limit_s
        self.max_bytes = max_bytes
        self.max_pages = max_pages
        self._slots = asyncio.Semaphore(concurrency)
        self._waiting = 0
        self._making: dict[str, asyncio.Future[RenderedDeck | None]] = {}
        self._failed: dict[str, float] = {}

    # -- reading -----------------------------------------------------------------------------
    def image(self, sha256: str, width: int, page: int) -> Path | None:
        """The file of one page image, or None (an unknown deck, width or page)."""
        if not SHA256_RE.match(sha256) or width not in WIDTHS or not 1 <= page <= self.max_pages:
            return None
        path = self.root / sha256 / str(width) / f"{page}.webp"
        return path if path.is_file() else None

    def rendered(self, sha256: str) -> RenderedDeck | None:
        if not SHA256_RE.match(sha256):
            return None
        try:
            meta = json.loads((self.root / sha256 / "deck.json").read_text())
        except (OSError, ValueError):
            return None
        return RenderedDeck(sha256, int(meta["size"]), int(meta["pages"]), tuple(meta["widths"]))

    def original(self, sha256: str) -> Path | None:
        """The kept PDF of a deck, or None."""
        if self.originals is None or not SHA256_RE.match(sha256):
            return None
        path = self.originals / f"{sha256}.pdf"
        return path if path.is_file() else None

    async def page(self, sha256: str, width: int, page: int) -> Path | None:
        """The file of one page image, rendered from the kept PDF first when this process has
        not rendered the deck; None for an unknown deck, width or page. Raises
        :class:`DeckError` (``deck_busy``) when too many decks are being rendered."""
        path = self.image(sha256, width, page)
        if path is not None or self._no_such_page(sha256, width, page) or self.rendered(sha256) is not None:
            return path
        if await self.from_original(sha256) is None:
            return None
        return self.image(sha256, width, page)

    def _no_such_page(self, sha256: str, width: int, page: int) -> bool:
        return not SHA256_RE.match(sha256) or width not in WIDTHS or not 1 <= page <= self.max_pages

    async def from_original(self, sha256: str) -> RenderedDeck | None:
        """Render a deck from its kept PDF (once: concurrent callers wait for the same render,
        which goes on when one of them gives up). None when no PDF is kept, or it failed to
        render in the last minute."""
        making = self._making.get(sha256)
        if making is None:
            failed = self._failed.get(sha256)
            if failed is not None and time.monotonic() - failed < RETRY_AFTER_FAILURE_S:
                return None
            original = self.original(sha256)
            if original is None:
                return None
            making = asyncio.ensure_future(self._render_original(original, sha256))
            self._making[sha256] = making
            making.add_done_callback(lambda _f: self._making.pop(sha256, None))
        return await asyncio.shield(making)

    async def _render_original(self, original: Path, sha: str) -> RenderedDeck | None:
        scratch = self.root / f".in-{uuid.uuid4().hex}"
        scratch.mkdir(parents=True)
        try:
            deck = await self._render(original, sha, original.stat().st_size, scratch)
            log.info("deck %s rendered on demand from its kept PDF", sha[:12])
            return deck
        except DeckError as exc:
            if exc.code == "deck_busy":
                raise
            log.warning("deck %s: its kept PDF could not be rendered: %s %s", sha[:12], exc.code, exc.message)
            self._failed[sha] = time.monotonic()
            return None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _keep_original(self, pdf: Path, sha: str) -> None:
        """Copy the PDF to ``originals`` (synced, then renamed: whole or absent)."""
        if self.originals is None or self.original(sha) is not None:
            return
        self.originals.mkdir(parents=True, exist_ok=True)
        tmp = self.originals / f".{sha}.{uuid.uuid4().hex}.tmp"
        try:
            with pdf.open("rb") as src, tmp.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(tmp, self.originals / f"{sha}.pdf")
        finally:
            tmp.unlink(missing_ok=True)

    # -- taking a PDF in ----------------------------------------------------------------------
    async def take(self, chunks: AsyncIterator[bytes]) -> RenderedDeck:
        """Read the PDF (at most ``max_bytes``), render it unless it was rendered before, and
        return what the log keeps of it. Raises :class:`DeckError`."""
        scratch = self.root / f".in-{uuid.uuid4().hex}"
        scratch.mkdir(parents=True)
        try:
            pdf = scratch / "deck.pdf"
            digest = hashlib.sha256()
            size = 0
            head = b""
            with pdf.open("wb") as f:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise DeckError("deck_too_large", f"the PDF is over {self.max_bytes // (1024 * 1024)} MB")
                    if len(head) < 1024:
                        head += chunk[: 1024 - len(head)]
                    digest.update(chunk)
                    f.write(chunk)
            if size == 0 or b"%PDF-" not in head:
                raise DeckError("deck_not_pdf", "the file is not a PDF (no %PDF- header)")
            sha = digest.hexdigest()
            deck = self.rendered(sha) or await self._render(pdf, sha, size, scratch)
            # kept before the deck is recorded: every process that sees it can render it
            await asyncio.to_thread(self._keep_original, pdf, sha)
            return deck
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    async def _render(self, pdf: Path, sha: str, size: int, scratch: Path) -> RenderedDeck:
        if self._waiting >= 8:
            raise DeckError("deck_busy", "too many decks are being rendered: try again in a minute")
        self._waiting += 1
        try:
            async with self._slots:
                done = self.rendered(sha)   # rendered by another upload meanwhile
                if done is not None:
                    return done
                out = scratch / "pages"
                started = time.monotonic()
                result = await self._run(pdf, out)
                seconds = time.monotonic() - started
                pages = int(result["pages"])
                meta = {"sha256": sha, "size": size, "pages": pages, "widths": list(WIDTHS),
                        "sizes": result.get("sizes", [])}
                (out / "deck.json").write_text(json.dumps(meta))
                final = self.root / sha
                try:
                    os.rename(out, final)   # all pages appear at once
                except OSError:
                    if self.rendered(sha) is None:
                        raise
                log.info("deck %s: %d pages rendered in %.1f s", sha[:12], pages, seconds)
                return RenderedDeck(sha, size, pages, WIDTHS, seconds, int(result.get("max_rss_kb", 0)))
        finally:
            self._waiting -= 1

    async def _run(self, pdf: Path, out: Path) -> dict[str, Any]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(self.renderer), str(pdf), str(out),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            stdout, stderr = await asyncio.wait_for(proc.communicate(), self.time_limit_s)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise DeckError("deck_timeout", f"rendering the PDF took over {self.time_limit_s:.0f} s: "
                            "it was stopped (simplify the file or split it)") from None
        except asyncio.CancelledError:
            proc.kill()
            await proc.wait()
            raise
        lines = stdout.decode(errors="replace").strip().splitlines()
        try:
            result = json.loads(lines[-1]) if lines else None
        except ValueError:
            result = None
        if isinstance(result, dict) and "error" in result:
            raise DeckError(str(result["error"]), str(result.get("message", "")))
        if proc.returncode != 0 or not isinstance(result, dict) or "pages" not in result:
            log.warning("deck renderer failed (exit %s): %s", proc.returncode, stderr.decode(errors="replace")[-2000:])
            raise DeckError("deck_render_failed", "the PDF could not be rendered (the renderer stopped "
                            f"with status {proc.returncode}): export it again from the original")
        return result
