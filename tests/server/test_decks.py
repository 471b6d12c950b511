"""Slide decks through a real server: a PDF uploaded by the secretary is rendered to page
images (really WebP, at three widths) served at immutable URLs; bad PDFs (not a PDF,
encrypted, too many pages, too large, one that the renderer cannot finish in time) are refused
with their code and leave nothing behind; the main bridge presents over the WebSocket, a page
turn reaches a ward, and one from a site that does not hold the presentation is refused."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from server.config import Config, MediaSettings
from server.tools import demo
from server.tools.client import ApiClient, BridgeClient, CommandRefused
from server.web.decks_api import DECKS
from tests.fixtures.decks import deck_pdf, encrypted_pdf
from tests.server.wshelp import free_port, seed_demo, serving

PASSWORD = "mat-khau-thu-nghiem"
DECKS_URL = f"/conferences/{demo.CONFERENCE}/decks"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(port=free_port(), data_dir=tmp_path, media=MediaSettings(enabled=False))


async def test_a_deck_is_rendered_served_immutable_and_presented(config: Config) -> None:
    async with serving(config) as app:
        _, tokens, state = await seed_demo(app, PASSWORD)
        secretary = await ApiClient.login(config.base_url, "thuky1", PASSWORD)
        chair_api = await ApiClient.login(config.base_url, "chutri", PASSWORD)
        ward_code = next(c for c in state.sites if c != state.main_site)
        clients: list = [secretary, chair_api]
        try:
            pdf = deck_pdf(5)
            deck = await secretary.upload(f"{DECKS_URL}?name=B%C3%A1o%20c%C3%A1o%20qu%C3%BD%20III.pdf&item_id=muc-1", pdf)
            assert (deck["name"], deck["pages"], deck["item_id"], deck["widths"]) == \
                ("Báo cáo quý III.pdf", 5, "muc-1", [640, 1280, 1920])
            again = await secretary.upload(DECKS_URL + "?name=lai.pdf", pdf)   # the same file: the same deck
            assert again["deck_id"] == deck["deck_id"] and "ack" not in again
            async with aiohttp.ClientSession() as http:
                for width in (640, 1280, 1920):
                    url = deck["page_url"].format(width=width, page=2)
                    async with http.get(config.base_url + url) as resp:   # no token: the URL is the capability
                        assert resp.status == 200
                        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
                        assert resp.headers["X-Content-Type-Options"] == "nosniff"
                        assert resp.content_type == "image/webp"
                        image = Image.open(io.BytesIO(await resp.read()))
                        assert image.format == "WEBP" and image.width == width
                for bad in (deck["page_url"].format(width=1920, page=6), deck["page_url"].format(width=800, page=1),
                            f"/api/v1/decks/{'0' * 64}/640/1.webp", "/api/v1/decks/..%2F..%2Fsecret.key/640/1.webp"):
                    async with http.get(config.base_url + bad) as resp:
                        assert resp.status == 404, bad

            listing = await chair_api.call("GET", DECKS_URL)
            assert [d["deck_id"] for d in listing["decks"]] == [deck["deck_id"]]

            main = await BridgeClient(config.base_url, demo.CONFERENCE, tokens[state.main_site]).connect()
            ward = await BridgeClient(config.base_url, demo.CONFERENCE, tokens[ward_code]).connect()
            chair = await BridgeClient(config.base_url, demo.CONFERENCE, chair_api.token).connect()
            clients += [main, ward, chair]
            await chair.command("open_conference")
            await main.command("start_presentation", site=state.main_site, deck_id=deck["deck_id"])
            ack = await main.command("show_slide", site=state.main_site, page=2)
            await ward.wait_seq(ack.seq)
            assert (ward.state.presentation.presenter, ward.state.presentation.page) == (state.main_site, 2)
            with pytest.raises(CommandRefused) as refused:
                await ward.command("show_slide", site=ward_code, page=3)
            assert refused.value.code == "not_presenter"
            with pytest.raises(CommandRefused) as refused:
                await main.command("show_slide", site=state.main_site, page=6)
            assert refused.value.code == "no_such_page"
            with pytest.raises(CommandRefused) as refused:   # a ward without the floor brings no deck
                await ApiClient(config.base_url, tokens[ward_code]).upload(DECKS_URL, deck_pdf(2))
            assert refused.value.code == "not_presenter"
        finally:
            for c in clients:
                await c.close()


@pytest.mark.parametrize(("body", "code"), [
    (b"<html>not a pdf</html>", "deck_not_pdf"),
    (b"", "deck_not_pdf"),
    (b"%PDF-1.7\n" + b"garbage" * 1000, "deck_not_pdf"),
    (encrypted_pdf(), "deck_encrypted"),
    (deck_pdf(301, size=(320, 180)), "deck_too_many_pages"),
])
async def test_bad_pdfs_are_refused_with_a_code_and_leave_nothing(config: Config, body: bytes, code: str) -> None:
    async with serving(config) as app:
        await seed_demo(app, PASSWORD)
        secretary = await ApiClient.login(config.base_url, "thuky1", PASSWORD)
        try:
            with pytest.raises(CommandRefused) as refused:
                await secretary.upload(DECKS_URL + "?name=x.pdf", body)
            assert refused.value.code == code, refused.value
            assert (await secretary.call("GET", DECKS_URL))["decks"] == []
            root = config.data_dir / "decks"
            assert not root.exists() or list(root.iterdir()) == []   # no scratch, nothing half-rendered
        finally:
            await secretary.close()


async def test_too_large_and_too_slow(config: Config) -> None:
    async with serving(config) as app:
        await seed_demo(app, PASSWORD)
        store = app[DECKS]
        secretary = await ApiClient.login(config.base_url, "thuky1", PASSWORD)
        try:
            store.max_bytes = 100_000
            with pytest.raises(CommandRefused) as refused:
                await secretary.upload(DECKS_URL, deck_pdf(2) + b" " * 100_000)
            assert refused.value.code == "deck_too_large"
            store.max_bytes, store.time_limit_s = 50 * 1024 * 1024, 0.05   # the renderer cannot start in 50 ms
            with pytest.raises(CommandRefused) as refused:
                await secretary.upload(DECKS_URL, deck_pdf(3))
            assert refused.value.code == "deck_timeout"
            await asyncio.sleep(0)
            assert list((config.data_dir / "decks").iterdir()) == []
            # a site account without a role, a wrong content type
            with pytest.raises(CommandRefused) as refused:
                await secretary.upload(DECKS_URL, deck_pdf(1), content_type="text/plain")
            assert refused.value.code == "deck_not_pdf"
        finally:
            await secretary.close()


async def test_the_recordings_chapters_mark_each_page(tmp_path: Path) -> None:
    config = Config(port=free_port(), data_dir=tmp_path, media=MediaSettings(record=True))
    async with serving(config) as app:
        _, tokens, state = await seed_demo(app, PASSWORD)
        chair_api = await ApiClient.login(config.base_url, "chutri", PASSWORD)
        main = await BridgeClient(config.base_url, demo.CONFERENCE, tokens[state.main_site]).connect()
        try:
            deck = await chair_api.upload(DECKS_URL + "?name=Ke-hoach.pdf", deck_pdf(3))
            await chair_api.call("POST", f"/conferences/{demo.CONFERENCE}/commands", {"type": "open_conference"})
            listing = await _recording(chair_api, True)
            await main.command("start_presentation", site=state.main_site, deck_id=deck["deck_id"])
            await main.command("show_slide", site=state.main_site, page=2)
            await chair_api.call("POST", f"/conferences/{demo.CONFERENCE}/commands", {"type": "end_conference"})
            listing = await _recording(chair_api, False)
            titles = [c["title"] for c in listing["files"][0]["chapters"]]
            assert "Trình chiếu: Ke-hoach.pdf — trang 1/3" in titles and "Trình chiếu: Ke-hoach.pdf — trang 2/3" in titles, titles
        finally:
            await main.close()
            await chair_api.close()


async def _recording(api: ApiClient, on: bool) -> dict:
    for _ in range(600):
        listing: dict = await api.call("GET", f"/conferences/{demo.CONFERENCE}/recordings")
        if listing["recording"] is on:
            return listing
        await asyncio.sleep(0.05)
    raise AssertionError(f"recording never became {on}")


async def test_a_headless_bridge_presents_a_deck(config: Config, tmp_path: Path) -> None:
    """`bridgeconf bridge --join LINK --present deck.pdf`: uploads, presents, turns pages."""
    async with serving(config) as app:
        _, tokens, state = await seed_demo(app, PASSWORD)
        chair_api = await ApiClient.login(config.base_url, "chutri", PASSWORD)
        ward_code = next(c for c in state.sites if c != state.main_site)
        ward = await BridgeClient(config.base_url, demo.CONFERENCE, tokens[ward_code]).connect()
        try:
            await chair_api.call("POST", f"/conferences/{demo.CONFERENCE}/commands", {"type": "open_conference"})
            pdf = tmp_path / "trinh-chieu.pdf"
            pdf.write_bytes(deck_pdf(3))
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "server.tools.cli", "bridge", "--join",
                f"{config.base_url}/join/{tokens[state.main_site]}", "--present", str(pdf), "--turn-every", "0.4",
                "--seconds", "3", "--no-media", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), 120)
            assert proc.returncode == 0, err.decode()[-2000:]
            report = json.loads(out.decode().strip().splitlines()[-1])
            presented = report["presented"]
            assert presented["pages"] == 3 and presented["turns"] >= 3 and presented["refused"] == [], report
            await ward.wait_for(lambda s: s is not None and len(s.presentation.shown) == presented["turns"] + 1)
            pages = [x.page for x in ward.state.presentation.shown]
            assert pages[:4] == [1, 2, 3, 1], pages
        finally:
            await ward.close()
            await chair_api.close()


async def test_a_renderer_that_crashes_gives_a_code_and_leaves_nothing(config: Config, tmp_path: Path) -> None:
    """The renderer process dies of a signal (as PDFium would on a PDF that crashes it)."""
    crash = tmp_path / "crash.py"
    crash.write_text("import os, signal, sys\nfrom pathlib import Path\n"
                     "Path(sys.argv[2], '640').mkdir(parents=True)\nPath(sys.argv[2], '640', '1.webp').write_bytes(b'x')\n"
                     "os.kill(os.getpid(), signal.SIGSEGV)\n")
    async with serving(config) as app:
        await seed_demo(app, PASSWORD)
        app[DECKS].renderer = crash
        secretary = await ApiClient.login(config.base_url, "thuky1", PASSWORD)
        try:
            with pytest.raises(CommandRefused) as refused:
                await secretary.upload(DECKS_URL, deck_pdf(2))
            assert refused.value.code == "deck_render_failed"
            assert list((config.data_dir / "decks").iterdir()) == []   # the half-written page is gone
            assert (await secretary.call("GET", DECKS_URL))["decks"] == []
        finally:
            await secretary.close()


async def test_a_floor_holder_the_chair_allows_brings_and_presents_its_deck(config: Config) -> None:
    async with serving(config) as app:
        _, tokens, state = await seed_demo(app, PASSWORD)
        chair_api = await ApiClient.login(config.base_url, "chutri", PASSWORD)
        ward_code = next(c for c in state.sites if c != state.main_site)
        ward_api = ApiClient(config.base_url, tokens[ward_code])
        ward = await BridgeClient(config.base_url, demo.CONFERENCE, tokens[ward_code]).connect()
        chair = await BridgeClient(config.base_url, demo.CONFERENCE, chair_api.token).connect()
        try:
            await chair.command("open_conference")
            await chair.command("give_floor", site=ward_code)
            with pytest.raises(CommandRefused) as refused:
                await ward_api.upload(DECKS_URL + "?name=phuong.pdf", deck_pdf(2))
            assert refused.value.code == "not_presenter"
            await chair.command("allow_presenting", site=ward_code)
            deck = await ward_api.upload(DECKS_URL + "?name=phuong.pdf", deck_pdf(2))
            await ward.command("start_presentation", site=ward_code, deck_id=deck["deck_id"])
            await ward.command("show_slide", site=ward_code, page=2)
            ack = await chair.command("revoke_floor", site=ward_code)   # its floor ends: so does its presentation
            await ward.wait_seq(ack.seq)
            assert ward.state.presentation.presenter is None and ward.state.presentation.allowed == set()
            with pytest.raises(CommandRefused) as refused:
                await ward.command("show_slide", site=ward_code, page=1)
            assert refused.value.code == "not_presenter"
        finally:
            for c in (ward, chair, ward_api, chair_api):
                await c.close()


async def test_attach_deck_is_refused_from_clients(config: Config) -> None:
    """Only the upload route records a deck (after rendering it): the command itself is refused."""
    async with serving(config) as app:
        await seed_demo(app, PASSWORD)
        secretary = await ApiClient.login(config.base_url, "thuky1", PASSWORD)
        ws = await BridgeClient(config.base_url, demo.CONFERENCE, secretary.token).connect()
        fake = {"deck_id": "d-fake", "name": "x.pdf", "size": 10, "pages": 3, "sha256": "ab" * 32}
        try:
            with pytest.raises(CommandRefused) as refused:
                await secretary.call("POST", f"/conferences/{demo.CONFERENCE}/commands", {"type": "attach_deck", **fake})
            assert refused.value.code == "forbidden"
            with pytest.raises(CommandRefused) as refused:
                await ws.command("attach_deck", **fake)
            assert refused.value.code == "forbidden"
            assert (await secretary.call("GET", DECKS_URL))["decks"] == []
        finally:
            await ws.close()
            await secretary.close()
