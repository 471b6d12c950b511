"""The slides shown, through a real server (issue 12): a deck uploaded and presented by a ward
during its speaking turn is printed in the approved minutes the server signs — the signed PDF
(pdftotext) and the DOCX downloaded over HTTP say "Trình chiếu: <deck> — trang 3, 4, 5", and
both verify against the conference's log and the organisation's trust root."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from server.config import SigningSettings
from server.documents import approved_source, verify_document
from server.documents.demo_pki import make_ca, make_org_p12
from server.documents.signing import load_certificates
from tests.fixtures.decks import deck_pdf
from tests.server.documents.readback import docx_document, squeeze
from tests.server.minutes.minutes_env import Env, start_env

pytestmark = pytest.mark.asyncio(loop_scope="module")

CONF = "trinh-chieu-ky-so"
WARD = "P-AN"
DECK = "Báo cáo quý III.pdf"
LINE = f"Trình chiếu: {DECK} — trang 3, 4, 5"


@pytest.fixture(scope="module")
def signing(tmp_path_factory: pytest.TempPathFactory) -> SigningSettings:
    d = tmp_path_factory.mktemp("pki-slides")
    ca = make_ca()
    (d / "ca.pem").write_bytes(ca.pem())
    (d / "org.p12").write_bytes(make_org_p12(ca, "DEMO Văn phòng UBND Thành phố Hà Nội"))
    return SigningSettings(certificate=d / "org.p12", password="demo", trust_roots=d / "ca.pem")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory, signing: SigningSettings) -> AsyncIterator[Env]:
    e = await start_env(tmp_path_factory.mktemp("slides-server"), signing)
    yield e
    with contextlib.suppress(Exception):
        await e.close()


async def test_the_signed_minutes_print_the_slides_of_the_turn(env: Env, signing: SigningSettings) -> None:
    await env.create(CONF)
    await env.command(CONF, "open_conference", role="chair")
    await env.command(CONF, "start_item", role="chair", item_id="muc-1")
    async with env.http.post(f"{env.base_url}/api/v1/conferences/{CONF}/decks", data=deck_pdf(6),
                             params={"name": DECK, "item_id": "muc-1"},
                             headers={"Content-Type": "application/pdf",
                                      "Authorization": f"Bearer {env.session('secretary')}"}) as resp:
        assert resp.status == 201, await resp.text()
    deck_id = next(iter(env.state(CONF).presentation.decks))
    await env.as_site(CONF, WARD, "request_floor", topic="Đ/c Trần Văn Bình: giải ngân vốn đầu tư công")
    await env.command(CONF, "grant_floor", role="chair", site=WARD)
    await env.command(CONF, "allow_presenting", role="chair", site=WARD)
    await env.as_site(CONF, WARD, "start_presentation", deck_id=deck_id, page=3)
    for page in (4, 5):
        await env.as_site(CONF, WARD, "show_slide", page=page)
    await env.as_site(CONF, WARD, "release_floor")
    await env.command(CONF, "finish_item", role="chair", item_id="muc-1")
    await env.command(CONF, "end_conference", role="chair")
    await env.command(CONF, "approve_minutes", role="chair")

    approved = env.state(CONF).minutes.approved
    records = env.service.records
    await env.until(lambda: records.is_signed(approved_source(approved[0])), 60)
    roots = load_certificates(signing.trust_roots) if signing.trust_roots else []
    status, _, pdf = await env.get(f"/conferences/{CONF}/minutes/1.pdf", role="secretary")
    assert status == 200
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                          check=True, timeout=60).stdout.decode()
    assert squeeze(LINE) in squeeze(text), "the signed PDF does not print the turn's slides"
    checked = verify_document(pdf, chain=approved, trust_roots=roots)
    assert checked.ok and "signature: signature intact" in checked.checks, checked

    status, _, docx = await env.get(f"/conferences/{CONF}/minutes/1.docx", role="secretary")
    assert status == 200
    cells = [c.text for t in docx_document(docx).tables for row in t.rows for c in row.cells]
    assert any(c.endswith("\n" + LINE) for c in cells), "the DOCX does not print the turn's slides"
    assert verify_document(docx, chain=approved).ok

    # the slides are part of what was approved (and hashed), with the turn they were shown in
    slides = approved[0].content["agenda"][0]["slides"]
    assert [(x["page"], x["turn"]) for x in slides] == [(3, WARD), (4, WARD), (5, WARD)]
