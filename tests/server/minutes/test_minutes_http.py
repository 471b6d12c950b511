"""The minutes over HTTP: no document before the conference ends; the draft and each
approved version as HTML, PDF and DOCX (content type, file name, Vietnamese, verification
against the conference's chain); display names in the approved content; approved versions
cannot change; a site reads only what was sent to it; script in a note runs nowhere."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import docx
import pytest
from lxml import html as lxml_html
from pypdf import PdfReader

from server.documents import VerifyCode, verify_document
from tests.server.minutes.minutes_env import ACCOUNTS, HOSTILE, Env

pytestmark = pytest.mark.asyncio(loop_scope="module")
CONF = "giao-ban-t10"
OTHER = "hop-xa-em"     # X-EM is invited here only
ACTIONS = (("nv-1", "Rà soát hộ nghèo, cận nghèo cuối năm", ("P-AN",), 14),
           ("nv-2", "Báo cáo tiến độ giải ngân vốn đầu tư công", ("P-BINH", "X-CHAU"), 7))


def doc_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    return "\n".join([p.text for p in document.paragraphs]
                     + [c.text for t in document.tables for row in t.rows for c in row.cells])


async def test_no_document_before_the_conference_ends(env: Env) -> None:
    await env.create(CONF, series="giao-ban-thang")
    await env.create(OTHER, sites=("X-EM",))
    await env.hold(CONF, notes=("Tăng trưởng GRDP quý III đạt 7,2%; thu ngân sách đạt 82% dự toán.", HOSTILE),
                   actions=ACTIONS, end=False)
    status, code, message = await env.refused("GET", f"/conferences/{CONF}/minutes/draft.pdf", role="secretary")
    assert (status, code) == (409, "not_ended") and "live" in message
    overview = await env.call("GET", f"/conferences/{CONF}/minutes", role="secretary")
    assert overview["phase"] == "live" and overview["versions"] == [] and overview["draft"]["files"] == {}
    # the secretaries' live preview has the content in every phase, names included
    status, headers, body = await env.get(f"/conferences/{CONF}/minutes/content", role="secretary")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    content = json.loads(body)["content"]
    assert content["header"]["names"] == {"chutri": ACCOUNTS["chair"][1], "thuky": ACCOUNTS["secretary"][1]}
    assert HOSTILE in content["agenda"][0]["notes"]
    assert [a["action_id"] for a in content["actions"]] == ["nv-1", "nv-2"]


async def test_a_due_date_in_the_past_is_refused(env: Env) -> None:
    yesterday = (env.today() - timedelta(days=1)).isoformat()
    status, code, message = await env.refused(
        "POST", f"/conferences/{CONF}/commands", {"type": "create_action_item", "action_id": "nv-cu",
                                                 "title": "Việc đã qua", "assignees": ["P-AN"], "due": yesterday},
        role="secretary")
    assert (status, code) == (400, "due_in_past") and yesterday in message


async def test_the_draft_in_three_formats_once_ended(env: Env) -> None:
    await env.command(CONF, "end_conference", role="chair")
    overview = await env.call("GET", f"/conferences/{CONF}/minutes", role="secretary")
    assert set(overview["draft"]["files"]) == {"html", "pdf", "docx"}
    expected = {"html": "text/html; charset=utf-8", "pdf": "application/pdf",
                "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
    for fmt, media_type in expected.items():
        status, headers, body = await env.get(f"/conferences/{CONF}/minutes/draft.{fmt}", role="secretary")
        assert status == 200 and headers["Content-Type"] == media_type
        disposition = "attachment" if fmt == "docx" else "inline"
        assert headers["Content-Disposition"] == f'{disposition}; filename="bien-ban-{CONF}-du-thao-v1.{fmt}"'
        assert headers["Cache-Control"] == "private, no-store"
        report = verify_document(body, check_text=False)
        assert report.code is VerifyCode.DRAFT, report
    status, headers, _ = await env.get(f"/conferences/{CONF}/minutes/draft.html", role="chair",
                                       params={"download": "1"})
    assert headers["Content-Disposition"].startswith("attachment;")


async def test_an_approved_version_in_three_formats_verifies_against_the_chain(env: Env) -> None:
    await env.command(CONF, "approve_minutes", role="chair")
    state = env.state(CONF)
    (v1,) = state.minutes.approved
    assert v1.content["header"]["names"]["chutri"] == "Lê Minh Quang – Chủ tịch UBND Thành phố"
    bodies = {}
    for fmt in ("html", "pdf", "docx"):
        status, headers, body = await env.get(f"/conferences/{CONF}/minutes/1.{fmt}", role="observer")
        assert status == 200, body[:300]
        assert f'filename="bien-ban-{CONF}-v1.{fmt}"' in headers["Content-Disposition"]
        report = verify_document(body, chain=state.minutes.approved)
        assert report.ok, report
        assert report.checks == ("content hash", "approval and issuer fields", "conference chain", "visible text")
        assert (report.version, report.sha256) == (1, v1.sha256)
        bodies[fmt] = body
    pdf = "".join(page.extract_text() for page in PdfReader(io.BytesIO(bodies["pdf"])).pages)
    for text in (pdf, doc_text(bodies["docx"]), lxml_html.fromstring(bodies["html"]).text_content()):
        squeezed = " ".join(text.split())
        assert "BIÊN BẢN HỘI NGHỊ" in squeezed and "Hà Nội, ngày" in squeezed
        assert "Lê Minh Quang – Chủ tịch UBND Thành phố" in squeezed   # the display name, not "chutri"
        assert "Phường An Hòa" in squeezed and "Rà soát hộ nghèo, cận nghèo cuối năm" in squeezed
    status, headers, body = await env.get(f"/conferences/{CONF}/minutes/1.html", role="chair", params={"lang": "en"})
    assert status == 200 and b"MINUTES OF THE CONFERENCE" in body
    overview = await env.call("GET", f"/conferences/{CONF}/minutes", role="secretary")
    (version,) = overview["versions"]
    assert (version["version"], version["sha256"], version["approved_by"]) == (1, v1.sha256, "chutri")
    assert version["approved_by_name"] == ACCOUNTS["chair"][1]
    assert overview["chain"]["ok"] and overview["draft"]["editing"] is False


async def test_an_approved_version_cannot_change(env: Env) -> None:
    for cmd, code in ((dict(type="add_note", note_id="muon", text="Ghi thêm"), "minutes_approved"),
                      (dict(type="edit_note", note_id="ghi-0", text="Sửa số liệu", rev=1), "minutes_approved"),
                      (dict(type="delete_note", note_id="ghi-0", rev=1), "minutes_approved"),
                      (dict(type="approve_minutes"), "nothing_to_approve")):
        status, got, message = await env.refused("POST", f"/conferences/{CONF}/commands", cmd, role="chair")
        assert (status, got) == (409, code), message
    status, code, message = await env.refused("POST", f"/conferences/{CONF}/commands",
                                              {"type": "add_note", "note_id": "muon", "text": "x"}, role="secretary")
    assert "version 1 of the minutes is approved" in message and "open a correction" in message


async def test_script_in_a_note_runs_nowhere(env: Env) -> None:
    status, headers, body = await env.get(f"/conferences/{CONF}/minutes/1.html", role="secretary")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp and "script-src" not in csp   # no script at all
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"
    assert b"<script>alert" not in body and b"<img src=x" not in body
    tree = lxml_html.fromstring(body)
    assert [s.get("type") for s in tree.iter("script")] == ["application/json"]   # the stamp: data, not code
    assert not tree.xpath("//img") and not any(k.startswith("on") for e in tree.iter() for k in e.attrib)
    assert HOSTILE in " ".join(tree.text_content().split())
    for fmt in ("pdf", "docx"):
        status, headers, body = await env.get(f"/conferences/{CONF}/minutes/1.{fmt}", role="secretary")
        assert headers["X-Content-Type-Options"] == "nosniff" and b"/JavaScript" not in body


async def test_a_site_reads_only_the_versions_sent_to_it(env: Env) -> None:
    await env.command(CONF, "distribute_minutes", role="secretary", version=1, sites=["P-AN"])
    await env.mailer.idle()
    an, binh = await env.site_token(CONF, "P-AN"), await env.site_token(CONF, "P-BINH")
    path = f"/conferences/{CONF}/minutes/1.html"
    # the inbox opens a new tab: the token comes in the query
    async with env.http.get(f"{env.base_url}/api/v1{path}", params={"token": an}) as resp:
        assert resp.status == 200 and resp.headers["Referrer-Policy"] == "no-referrer"
        assert verify_document(await resp.read(), chain=env.state(CONF).minutes.approved).ok
    assert env.state(CONF).minutes.receipts[1]["P-AN"].opened_at is not None   # opening it is the receipt
    status, _, body = await env.get(path, token=an)   # or in the Authorization header
    assert status == 200
    status, code, _ = await env.refused("GET", path, params={"token": binh})
    assert (status, code) == (409, "not_distributed")
    status, code, _ = await env.refused("GET", f"/conferences/{CONF}/minutes/draft.html", params={"token": an})
    assert (status, code) == (403, "forbidden")
    status, code, message = await env.refused("GET", path, params={"token": await env.site_token(OTHER, "X-EM")})
    assert (status, code) == (403, "forbidden") and "another conference" in message
    status, code, _ = await env.refused("GET", path, role="norole")
    assert (status, code) == (403, "forbidden")
    status, code, _ = await env.refused("GET", path)
    assert (status, code) == (401, "unauthorized")
    status, code, _ = await env.refused("GET", path, params={"token": "gia-mao.abc"})
    assert status == 401
    status, code, _ = await env.refused("GET", f"/conferences/{CONF}/minutes/content", token=an)
    assert (status, code) == (403, "forbidden")


async def test_receipts_and_reminders_for_sites_that_are_not_invited(env: Env) -> None:
    em = await env.site_token(OTHER, "X-EM")
    status, code, message = await env.refused("POST", f"/conferences/{CONF}/commands", {
        "type": "acknowledge_minutes", "version": 1, "site": "X-EM"}, token=em)
    assert (status, code) == (403, "forbidden") and "another conference" in message
    an = await env.site_token(CONF, "P-AN")
    status, code, _ = await env.refused("POST", f"/conferences/{CONF}/commands", {
        "type": "acknowledge_minutes", "version": 1, "site": "X-EM"}, token=an)
    assert (status, code) == (403, "not_own_site")
    for kind in ("distribute_minutes", "remind_minutes"):
        status, code, message = await env.refused("POST", f"/conferences/{CONF}/commands", {
            "type": kind, "version": 1, "sites": ["X-EM"]}, role="secretary")
        assert (status, code) == (403, "site_not_invited") and "X-EM" in message
    status, code, _ = await env.refused("POST", f"/conferences/{CONF}/commands", {
        "type": "acknowledge_minutes", "version": 1, "site": "P-BINH"},
        token=await env.site_token(CONF, "P-BINH"))
    assert (status, code) == (409, "not_distributed")
    status, code, _ = await env.refused("POST", f"/conferences/{CONF}/commands", {
        "type": "record_minutes_mail", "version": 1, "results": [{"recipient": "site:P-AN"}]}, role="chair")
    assert (status, code) == (403, "forbidden")


async def test_unknown_versions_files_and_languages(env: Env) -> None:
    base = f"/conferences/{CONF}/minutes"
    for path, params, expected in ((f"{base}/9.pdf", None, (404, "unknown_version")),
                                   (f"{base}/1.txt", None, (404, "not_found")),
                                   (f"{base}/..%2Fsecret.html", None, (404, "not_found")),
                                   (f"{base}/1.html", {"lang": "fr"}, (400, "unknown_lang")),
                                   (f"{base}/9/receipts.csv", None, (404, "unknown_version")),
                                   (f"{base}/x/receipts.csv", None, (400, "bad_request")),
                                   # a conference that does not exist answers as one not yours (but to an admin)
                                   ("/conferences/khong-co/minutes/1.pdf", None, (403, "forbidden"))):
        status, code, _ = await env.refused("GET", path, role="secretary", params=params)
        assert (status, code) == expected, path


async def test_the_openapi_document_lists_the_routes(env: Env) -> None:
    doc = await env.call("GET", "/openapi.json")
    for path in ("/conferences/{conf_id}/minutes", "/conferences/{conf_id}/minutes/content",
                 "/conferences/{conf_id}/minutes/{file}", "/conferences/{conf_id}/minutes/{version}/receipts.csv",
                 "/conferences/{conf_id}/follow-up", "/conferences/{conf_id}/invite.ics", "/actions.csv",
                 "/actions.xlsx", "/actions.ics"):
        assert "/api/v1" + path in doc["paths"], path
    assert set(doc["paths"]["/api/v1/conferences/{conf_id}/follow-up"]) == {"get", "post"}
