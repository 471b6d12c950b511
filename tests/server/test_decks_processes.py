"""Slide decks with several server processes on one Redis (issue 12): a deck uploaded through
process A is kept as a PDF in ``DATA_DIR/blobs/decks/`` (the shared storage) before it is
recorded; process B, whose ``decks/`` never saw it, renders it from that PDF on the first
request for one of its pages — once, however many sites ask at the same moment — and serves
every page. A process without the shared ``blobs/`` cannot, and says "not found"."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image

from server.web.decks_api import DECKS
from tests.fixtures.decks import deck_pdf
from tests.server.wshelp import eventually

StartServer = Callable[..., Awaitable[Any]]
PAGES = 5


async def fetch(base: str, url: str) -> tuple[int, bytes, dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.get(base + url) as resp:
        return resp.status, await resp.read(), dict(resp.headers)


async def test_a_deck_uploaded_on_one_process_is_shown_by_another(
        server: StartServer, redis_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # A's and B's data directories are their own; blobs/ is one shared folder (a mount, here a link)
    (tmp_path / "server0" / "blobs").mkdir(parents=True)
    (tmp_path / "server1").mkdir()
    (tmp_path / "server1" / "blobs").symlink_to(tmp_path / "server0" / "blobs", target_is_directory=True)
    a = await server(store="redis", redis=redis_url, seed="small")
    b = await server(store="redis", redis=redis_url, seed="small")      # finds the seed in Redis
    c = await server(store="redis", redis=redis_url, seed="small")      # no shared blobs/
    assert a.config.data_dir != b.config.data_dir

    pdf = deck_pdf(PAGES)
    deck = await a.api(a.session("secretary")).upload(f"/conferences/{a.conference}/decks?name=quy-3.pdf", pdf)
    sha = deck["sha256"]
    kept = a.config.data_dir / "blobs" / "decks" / f"{sha}.pdf"
    assert kept.read_bytes() == pdf, "the PDF is kept with the other uploaded files"
    await eventually(lambda: deck["deck_id"] in b.state().presentation.decks, timeout=5)
    assert not (b.config.data_dir / "decks" / sha).exists(), "B has not rendered it yet"

    caplog.set_level(logging.INFO, logger="server.documents.decks")
    page_2 = deck["page_url"].format(width=640, page=2)
    answers = await asyncio.gather(*(fetch(b.base_url, page_2) for _ in range(12)))   # a dozen sites at once
    for status, body, headers in answers:
        assert status == 200 and headers["Cache-Control"] == "public, max-age=31536000, immutable"
        image = Image.open(io.BytesIO(body))
        assert (image.format, image.width) == ("WEBP", 640)
    assert len({body for _, body, _ in answers}) == 1
    on_demand = [r for r in caplog.records if "rendered on demand" in r.getMessage()]
    assert len(on_demand) == 1, "rendered once for all the requests"
    assert b.app[DECKS].rendered(sha) is not None and (b.config.data_dir / "decks" / sha / "1920" / "5.webp").is_file()

    # B now serves every page and width as A does, the same images; no page beyond the deck
    for width in (640, 1280, 1920):
        for page in range(1, PAGES + 1):
            url = deck["page_url"].format(width=width, page=page)
            on_a, on_b = await fetch(a.base_url, url), await fetch(b.base_url, url)
            assert on_a[0] == on_b[0] == 200 and on_a[1] == on_b[1], url
    assert (await fetch(b.base_url, deck["page_url"].format(width=640, page=PAGES + 1)))[0] == 404
    assert (await fetch(b.base_url, f"/api/v1/decks/{'0' * 64}/640/1.webp"))[0] == 404
    assert len([r for r in caplog.records if "rendered on demand" in r.getMessage()]) == 1

    # a process that does not share blobs/ has no way to the pages
    assert (await fetch(c.base_url, page_2))[0] == 404


async def test_a_kept_pdf_that_fails_to_render_is_not_tried_at_every_request(
        server: StartServer, redis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    srv = await server(store="redis", redis=redis_url, seed="small")
    store = srv.app[DECKS]
    sha = "ab" * 32
    assert store.originals is not None
    store.originals.mkdir(parents=True, exist_ok=True)
    (store.originals / f"{sha}.pdf").write_bytes(b"%PDF-1.7\n% not really a PDF\n")
    caplog.set_level(logging.WARNING, logger="server.documents.decks")
    for _ in range(3):
        assert (await fetch(srv.base_url, f"/api/v1/decks/{sha}/640/1.webp"))[0] == 404
    tried = [r for r in caplog.records if "could not be rendered" in r.getMessage()]
    assert len(tried) == 1, [r.getMessage() for r in caplog.records]
    assert not (store.root / sha).exists(), "nothing half-rendered"
