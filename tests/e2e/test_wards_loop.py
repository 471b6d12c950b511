"""What the wards bring, in the pages (issue 13's tests): a ward submits two recommendations
before the meeting, one with an attachment; the secretary merges one with another ward's and
assigns it to a department; in the meeting the department gets the floor and answers; the
ward sees "đã trả lời" and accepts; the other stays open and appears in the next conference
of the series; the minutes PDF lists both. A vote of 20 headless sites with the chair's live
tally and the result in the minutes. A document uploaded before the meeting, opened by a
ward, its receipt seen by the secretary.

The test makes its own series (two conferences, a department) so that the demo conference
the other browser tests use is left alone."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from e2e_helpers import Pages, comparable, screenshot, wait_js, wait_online
from pypdf import PdfReader
from test_reducer import FOLD

from scheduling import Role, event_to_dict
from scheduling.visibility import redact_for_site
from server.service.read_models import conference_view
from server.tools.client import ApiClient, BridgeClient
from tests.scheduling.scheduling_builders import SECRETARY
from tests.server.documents.test_ward_minutes import (
    _conference as conference_with_what_the_wards_bring,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

Q3, Q4, SERIES = "kien-nghi-q3", "kien-nghi-q4", "kien-nghi"
DEPT = "SO-TAI-CHINH"
# the elements under a selector that stick out of the window on the right
OUTSIDE = """(sel) => [...document.querySelectorAll(sel + ' *')]
  .filter((e) => e.getBoundingClientRect().right > innerWidth + 1)
  .slice(0, 8).map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def setup_series(base: str, password: str) -> tuple[list[str], dict[str, str]]:
    admin = await ApiClient.login(base, "admin", password)
    try:
        sites = [s["code"] for s in (await admin.call("GET", "/sites"))["sites"] if s["kind"] == "remote"][:22]
        await admin.call("POST", "/sites", {"code": DEPT, "name": "Sở Tài chính", "parent": "Sở, ngành",
                                            "kind": "department", "key": "e2e-dept"})
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
        for conf, days in ((Q3, 0), (Q4, 90)):
            await admin.call("POST", "/conferences", {
                "key": f"e2e-{conf}", "conference_id": conf, "title": f"Giao ban kiến nghị {conf}",
                "starts_at": (start + timedelta(days=days)).isoformat(),
                "ends_at": (start + timedelta(days=days, hours=3)).isoformat(), "main_site": "HN-TRU-SO",
                "chair": "chutri", "secretaries": ["thuky1"], "series": SERIES, "kind": "periodic_review"})
            cmd = f"/conferences/{conf}/commands"
            await admin.call("POST", cmd, {"type": "invite_sites", "key": f"inv-{conf}", "codes": [*sites, DEPT]})
            for n, title in ((1, "Ý kiến của các phường, xã"), (2, "Giải đáp của các sở, ngành")):
                await admin.call("POST", cmd, {"type": "add_agenda_item", "key": f"item-{conf}-{n}", "item_id": f"muc-{n}",
                                               "title": title, "planned_minutes": 20})
            await admin.call("POST", cmd, {"type": "schedule_conference", "key": f"sched-{conf}"})
        links = {r["site"]: r["url"] for r in (await admin.call("GET", f"/conferences/{Q3}/links"))["links"]}
    finally:
        await admin.close()
    return sites, links


async def submit(page: Any, title: str, text: str, *, attach: bool = False) -> None:
    await page.fill("#rec-title", title)
    await page.select_option("#rec-field", "Đất đai")
    await page.select_option("#rec-item", "muc-1")
    await page.fill("#rec-text", text)
    if attach:
        await page.set_input_files("#rec-files", files=[{"name": "ho-so.pdf", "mimeType": "application/pdf",
                                                         "buffer": PDF}])
    await page.click("#rec-submit")
    await page.wait_for_selector(f"#ward-recs li.rec-card:has-text('{title}')")


async def test_the_recommendations_documents_and_votes_loop(pages: Pages, web_server: Any, artifacts: Any) -> None:
    base = web_server.base
    sites, links = await setup_series(base, web_server.password)
    ward, other = sites[0], sites[1]

    # -- before the meeting: the secretary uploads a document --------------------------------------
    secretary = await pages.open(f"/c/{Q3}/secretary", account="thuky1")
    await wait_online(secretary)
    await secretary.click("#tab-wards")
    await secretary.set_input_files("#doc-file", files=[{"name": "Báo cáo quý III.pdf", "mimeType": "application/pdf",
                                                        "buffer": PDF}])
    await secretary.click("#doc-form button[type=submit]")
    await secretary.wait_for_selector("#doc-list li.doc-card")

    # -- the ward: two recommendations (one with an attachment), the document with "mới" -----------
    site = await pages.open(links[ward])
    await wait_online(site)
    await site.click("#tab-wards")
    await site.wait_for_selector("#ward-docs .chip-new")
    await submit(site, "Vướng mắc cấp giấy chứng nhận", "Hồ sơ tồn đọng.\n\nĐề nghị hướng dẫn.", attach=True)
    await submit(site, "Thiếu biên chế địa chính", "Đề nghị bổ sung biên chế.")
    async with site.expect_popup() as popup:
        await site.click("#ward-docs a")
    doc = await popup.value
    await doc.close()
    await site.wait_for_selector("#ward-docs .chip-new", state="detached")
    # the receipt on the secretary's desk
    await secretary.wait_for_selector("#doc-list .doc-receipts:has-text('1/')")
    await secretary.click("#doc-list details summary")
    await secretary.wait_for_selector(f"#doc-list li[data-site='{ward}']")

    # another ward raises the same obstacle (through the API, as its page would)
    other_token = links[other].rsplit("/join/", 1)[1]
    api = ApiClient(base, other_token)
    try:
        await api.call("POST", f"/conferences/{Q3}/commands", {
            "type": "submit_recommendation", "key": "other-1", "rec_id": "kn-khac", "site": other,
            "title": "Cấp giấy chứng nhận chậm", "text": "Như trên.", "field": "Đất đai"})
    finally:
        await api.close()

    # -- the secretary merges it with the ward's, assigns it, marks it for the meeting ------------
    recs = await wait_js(secretary, """() => { const s = window.bc.store.state;
        return Object.values(s.recommendations).length === 3 && s.recommendations; }""")
    first = next(r for r in recs.values() if r["title"] == "Vướng mắc cấp giấy chứng nhận")["rec_id"]
    second = next(r for r in recs.values() if r["title"] == "Thiếu biên chế địa chính")["rec_id"]
    await secretary.check(f"#triage-list li[data-rec='{first}'] input")
    await secretary.check("#triage-list li[data-rec='kn-khac'] input")
    await secretary.click("#merge-btn")
    await secretary.wait_for_selector("#triage-list li[data-rec='kn-khac']", state="detached")
    await secretary.check(f"#triage-list li[data-rec='{first}'] input")
    await secretary.check(f"#assign-departments input[value='{DEPT}']")
    await secretary.click("#assign-btn")
    await secretary.wait_for_selector(f"#triage-list li[data-rec='{first}'].rec-assigned")
    await secretary.check(f"#triage-list li[data-rec='{first}'] input")
    await secretary.click("#mark-btn")
    await wait_js(secretary, f"() => window.bc.store.state.recommendations['{first}'].in_meeting")
    await screenshot(secretary, artifacts, "wards-secretary-triage")
    for width in (1920, 1366, 390):   # nothing of the triage panel sticks out (the top bar is not ours)
        await secretary.set_viewport_size({"width": width, "height": 900})
        assert await secretary.evaluate(OUTSIDE, "#wards-triage") == [], width
    await secretary.set_viewport_size({"width": 1440, "height": 900})

    # -- in the meeting: the department gets the floor and answers; the chair accepts -------------
    chair = await pages.open(f"/c/{Q3}/chair", account="chutri")
    chair.on("dialog", lambda d: asyncio.ensure_future(d.accept()))
    await wait_online(chair)
    await chair.click("#btn-open")
    await chair.wait_for_selector("#phase.phase-live")
    card = f"#chair-recs li[data-rec='{first}']"
    await chair.click(f"{card} button:has-text('Mời Sở Tài chính')")
    await chair.wait_for_selector(f"{card} button:has-text('Sở Tài chính đã trả lời')")
    await chair.click(f"{card} button:has-text('Sở Tài chính đã trả lời')")
    await chair.click(f"{card} button:has-text('Chấp nhận trả lời')")
    await wait_js(chair, f"() => window.bc.store.state.recommendations['{first}'].status === 'accepted'")

    # -- the ward sees the answer and says it resolves its obstacle ---------------------------------
    mine = f"#ward-recs li[data-rec='{first}']"
    await site.wait_for_selector(f"{mine} .rec-accepted, {mine}.rec-accepted")
    assert "trả lời tại hội nghị" in (await site.locator(mine).text_content() or "")
    await site.click(f"{mine} button:has-text('Đã giải quyết')")
    await wait_js(site, f"() => window.bc.store.state.recommendations['{first}'].feedback['{ward}'] === true")
    await screenshot(site, artifacts, "wards-site")
    for width in (390, 1366, 1920):   # the ward's panel fits a phone and the hall's screens
        await site.set_viewport_size({"width": width, "height": 900})
        assert await site.evaluate(OUTSIDE, "#pane-wards") == [], width
    await screenshot(site, artifacts, "wards-site-390")

    # -- a vote of 20 headless sites, the chair's live tally ------------------------------------------
    voters = sites[2:22]
    await chair.fill("#vote-question", "Thông qua kế hoạch quý IV")
    await chair.click("#vote-form button[type=submit]")
    vote_id = await wait_js(chair, "() => Object.keys(window.bc.store.state.votes)[0]")
    admin = await ApiClient.login(base, "admin", web_server.password)
    tokens = {r["site"]: r["url"].rsplit("/join/", 1)[1]
              for r in (await admin.call("GET", f"/conferences/{Q3}/links"))["links"] if r["site"] in voters}
    await admin.close()
    clients = [BridgeClient(base, Q3, tokens[c], reconnect=False) for c in voters]
    try:
        await asyncio.gather(*(c.connect() for c in clients))
        for c, code in zip(clients, voters, strict=True):   # presence records each page online
            await c.wait_for(lambda s, code=code: s is not None and s.attendance[code].connection.value == "online",
                             timeout=15)
        await asyncio.gather(*(c.command("cast_vote", vote_id=vote_id, site=code, option=i % 3)
                               for i, (c, code) in enumerate(zip(clients, voters, strict=True))))
        await chair.wait_for_selector(f"#chair-votes [data-vote='{vote_id}'] .vote-voters:has-text('20/')")
        counts = await chair.locator(f"#chair-votes [data-vote='{vote_id}'] .tally-count").all_text_contents()
        assert counts == ["7", "7", "6"]
        await screenshot(chair, artifacts, "wards-chair-tally")
        await chair.click(f"#chair-votes [data-vote='{vote_id}'] button:has-text('Kết thúc biểu quyết')")
        await wait_js(chair, f"() => window.bc.store.state.votes['{vote_id}'].closed_at !== null")
    finally:
        for c in clients:
            await c.close()

    # -- the end; the minutes PDF lists both recommendations and the vote ------------------------------
    await chair.click("#btn-end")
    await chair.wait_for_selector("#phase.phase-ended")
    resp = await secretary.context.request.get(f"{base}/api/v1/conferences/{Q3}/minutes/draft.pdf")
    assert resp.status == 200
    text = "".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(await resp.body())).pages)
    flat = "".join(text.split())
    for needle in ("TỔNGHỢPKIẾNNGHỊVÀTRẢLỜI", "Vướngmắccấpgiấychứngnhận", "Thiếubiênchếđịachính",
                   "Chưatrảlời", "KẾTQUẢBIỂUQUYẾT", "Tánthành:7"):
        assert needle in flat, needle

    # -- the next conference of the series takes up the one still open ------------------------------
    nxt = await pages.open(f"/c/{Q4}/secretary", account="thuky1")
    await wait_online(nxt)
    await nxt.click("#tab-wards")
    await nxt.click("#carry-btn")
    await nxt.wait_for_selector("#triage-list li:has-text('Thiếu biên chế địa chính')")
    carried = await wait_js(nxt, "() => Object.values(window.bc.store.state.recommendations)")
    assert [r["carried_from"] for r in carried] == [f"{Q3}/{second}"]


async def test_the_reducer_folds_the_wards_events_like_evolve(pages: Pages) -> None:
    """reducer.js (ward_reducer.js) against the domain's evolve, for staff and for a site."""
    h = conference_with_what_the_wards_bring()
    h.run(SECRETARY, {"type": "add_document", "document_id": "d1", "file": {
        "name": "bao-cao.pdf", "size": 10, "content_type": "application/pdf", "sha256": "ab" * 32}})
    events = [json.loads(json.dumps(event_to_dict(e))) for e in h.log]
    page = await pages.open("/login")
    staff = await page.evaluate(FOLD, events)
    assert staff["state"] == comparable(conference_view(h.s, frozenset({Role.CHAIR}), h.now))
    site = await page.evaluate(FOLD, [redact_for_site(e) for e in events])
    assert site["state"] == comparable(conference_view(h.s, frozenset({Role.SITE}), h.now))
