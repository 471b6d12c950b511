"""What the wards bring, through a served app: conference documents uploaded, checked, kept
content-addressed and served safely with per-site receipts; recommendations submitted with an
attachment, answered only by an assigned department, carried into the next conference and
exported; quick votes over /ws. Bad input gets an error code and stores nothing."""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from openpyxl import load_workbook
from test_bad_input_ws import all_seqs

from scheduling import Actor, CreateConference, InviteSites, RegisterSite, SiteInfo, SiteKind
from server.service.blobs import BlobError, BlobStore
from server.tools.client import CommandRefused

StartServer = Callable[..., Awaitable[Any]]
pytestmark = pytest.mark.usefixtures("no_server_errors")
CONF = "hop-nho"
DEPT, OTHER_DEPT = "SO-TAI-CHINH", "SO-NOI-VU"
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" + b"%" * 2000 + b"\n%%EOF\n"
ADMIN = Actor.account("admin", admin=True)


async def _departments(srv: Any, conf: str = CONF) -> None:
    svc = srv.service
    for code, name in ((DEPT, "Sở Tài chính"), (OTHER_DEPT, "Sở Nội vụ")):
        if code not in svc.directory.state.sites:
            await svc.run_directory(RegisterSite(key=f"dept-{code}", site=SiteInfo(
                code=code, name=name, parent="Sở, ngành", kind=SiteKind.DEPARTMENT)), ADMIN)
    await svc.run_conference(conf, InviteSites(key=f"inv-depts-{conf}", codes=(DEPT, OTHER_DEPT)), ADMIN)


async def _upload(srv: Any, token: str, path: str, body: bytes, content_type: str,
                  headers: dict[str, str] | None = None) -> tuple[int, Any]:
    h = {"Authorization": f"Bearer {token}", "Content-Type": content_type, **(headers or {})}
    async with aiohttp.ClientSession() as http, http.post(srv.base_url + path, data=body, headers=h) as resp:
        return resp.status, await resp.json()


def _blobs(srv: Any) -> list[Path]:
    root = Path(srv.config.data_dir) / "blobs"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _docx(extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


async def test_a_document_uploaded_before_the_meeting_opened_by_a_ward_with_its_receipt(server: StartServer) -> None:
    srv = await server(seed="small")
    secretary = srv.session("secretary")
    docs = f"/api/v1/conferences/{CONF}/documents"
    status, added = await _upload(srv, secretary, docs + "?name=Báo cáo quý III.pdf&document_id=bao-cao",
                                  PDF_BYTES, "application/pdf")
    assert status == 201, added
    assert added["file"]["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()
    assert added["file"]["size"] == len(PDF_BYTES)
    # the log holds the reference, the file is under data_dir/blobs by its hash
    assert srv.state().documents["bao-cao"].file.sha256 == added["file"]["sha256"]
    assert [p.name for p in _blobs(srv)] == [added["file"]["sha256"][2:]]

    site = await srv.site_token("P-AN")
    listing = await srv.api(site).call("GET", f"/conferences/{CONF}/documents")
    assert [(d["document_id"], d["new"]) for d in listing["documents"]] == [("bao-cao", True)]
    async with aiohttp.ClientSession() as http, \
            http.get(f"{srv.base_url}{docs}/bao-cao?token={site}") as resp:
        assert resp.status == 200
        assert await resp.read() == PDF_BYTES
        assert resp.headers["Content-Type"] == "application/pdf"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Content-Disposition"].startswith("inline; ")
        assert "filename*=UTF-8''B%C3%A1o%20c%C3%A1o" in resp.headers["Content-Disposition"]
        assert "sandbox" not in resp.headers["Content-Security-Policy"]   # Chrome's PDF viewer shows it
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    listing = await srv.api(site).call("GET", f"/conferences/{CONF}/documents")
    assert listing["documents"][0]["new"] is False
    staff = await srv.api(secretary).call("GET", f"/conferences/{CONF}/documents")
    receipts = staff["documents"][0]["receipts"]
    assert list(receipts) == ["P-AN"] and receipts["P-AN"]["opened_at"]
    # opening again records nothing new; a download is its own receipt
    seq = srv.hub().seq
    async with aiohttp.ClientSession() as http, http.get(f"{srv.base_url}{docs}/bao-cao?token={site}") as resp:
        assert resp.status == 200
    assert srv.hub().seq == seq
    async with aiohttp.ClientSession() as http, \
            http.get(f"{srv.base_url}{docs}/bao-cao?token={site}&download=1") as resp:
        assert resp.headers["Content-Disposition"].startswith("attachment; ")
    assert srv.state().documents["bao-cao"].receipts["P-AN"].downloaded_at is not None


BAD_UPLOADS: list[tuple[str, str, bytes, str, int, str]] = [
    # (who, name, body, declared type, status, code)
    ("secretary", "bao-cao.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "application/pdf",
     415, "type_mismatch"),                                                  # an HTML page renamed .pdf
    ("secretary", "bao-cao.pdf", b"%PDF-1.4\n<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>\n%%EOF",
     "application/pdf", 415, "active_content"),                              # a script inside a PDF
    ("secretary", "bao-cao.html", b"<html></html>", "text/html", 415, "type_mismatch"),
    ("secretary", "bao-cao.docx", PDF_BYTES, "application/pdf", 415, "type_mismatch"),   # name and type disagree
    ("secretary", "to-trinh.docx", b"PK\x03\x04 not really a zip",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 415, "type_mismatch"),
    ("secretary", "to-trinh.docx", _docx({"word/vbaProject.bin": b"macro"}),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 415, "active_content"),
    ("secretary", "anh.png", b"GIF89a....", "image/png", 415, "type_mismatch"),
    ("secretary", "", PDF_BYTES, "application/pdf", 400, "bad_file"),
    ("secretary", "rong.pdf", b"", "application/pdf", 400, "bad_file"),
    ("site", "bao-cao.pdf", PDF_BYTES, "application/pdf", 403, "forbidden"),     # a ward adds no documents
    ("chair", "bao-cao.pdf", PDF_BYTES, "application/pdf", 403, "forbidden"),
]


async def test_bad_uploads_get_an_error_code_and_nothing_is_stored(server: StartServer) -> None:
    srv = await server(seed="small")
    tokens = {"secretary": srv.session("secretary"), "chair": srv.session("chair"),
              "site": await srv.site_token("P-AN")}
    before = all_seqs(srv)
    for who, name, body, ctype, status, code in BAD_UPLOADS:
        got = await _upload(srv, tokens[who], f"/api/v1/conferences/{CONF}/documents?name={name}", body, ctype)
        assert (got[0], got[1]["error"]["code"]) == (status, code), (who, name, got)
    # oversized, as declared: refused before a byte is read
    got = await _upload(srv, tokens["secretary"], f"/api/v1/conferences/{CONF}/files?name=lon.pdf", PDF_BYTES,
                        "application/pdf", headers={"Content-Length": str(len(PDF_BYTES))})
    assert got[0] == 201
    assert all_seqs(srv) == before
    assert len(_blobs(srv)) == 1   # only the one good upload of /files (not in the log until attached)


async def test_an_oversized_stream_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")

    async def chunks() -> Any:
        yield b"%PDF-1.4\n"
        for _ in range(20):
            yield b"0" * 1024

    with pytest.raises(BlobError) as info:
        await store.put(chunks(), "application/pdf", limit=10_000)
    assert info.value.code == "too_large"
    assert [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == []


async def test_the_recommendation_loop_through_the_api(server: StartServer) -> None:
    srv = await server(seed="small")
    await _departments(srv)
    ward, other_ward = await srv.site_token("P-AN"), await srv.site_token("P-BINH")
    status, att = await _upload(srv, ward, f"/api/v1/conferences/{CONF}/files?name=ho-so.pdf", PDF_BYTES,
                                "application/pdf")
    assert status == 201
    cmds = f"/conferences/{CONF}/commands"
    a, b = srv.api(ward), srv.api(other_ward)
    await a.call("POST", cmds, {"type": "submit_recommendation", "key": "kn-1", "rec_id": "kn-an-1", "site": "P-AN",
                                "title": "Vướng mắc cấp giấy chứng nhận", "text": "Đoạn 1.\n\nĐoạn 2.",
                                "field": "Đất đai", "item_id": "muc-2", "attachments": [att]})
    await b.call("POST", cmds, {"type": "submit_recommendation", "key": "kn-2", "rec_id": "kn-binh-1",
                                "site": "P-BINH", "title": "Cấp giấy chứng nhận chậm", "text": "Như trên.",
                                "field": "Đất đai"})
    with pytest.raises(CommandRefused) as refused:   # a ward acts only for itself
        await b.call("POST", cmds, {"type": "submit_recommendation", "key": "kn-3", "rec_id": "x", "site": "P-AN",
                                    "title": "T", "text": "N", "field": "Đất đai"})
    assert refused.value.code == "not_own_site"
    # the attachment is served to whoever is in the conference
    async with aiohttp.ClientSession() as http, \
            http.get(f"{srv.base_url}/api/v1/conferences/{CONF}/files/{att['sha256']}?token={other_ward}") as resp:
        assert resp.status == 200 and await resp.read() == PDF_BYTES
    secretary = srv.api(srv.session("secretary"))
    await secretary.call("POST", cmds, {"type": "merge_recommendations", "key": "m1", "into": "kn-an-1",
                                        "others": ["kn-binh-1"]})
    due = (srv.service.clock() + timedelta(days=20)).date().isoformat()
    await secretary.call("POST", cmds, {"type": "assign_recommendation", "key": "g1", "rec_id": "kn-an-1",
                                        "departments": [DEPT], "due": due})
    # a department not assigned answers: refused, nothing stored
    other_dept = srv.api(await srv.site_token(OTHER_DEPT))
    before = all_seqs(srv)
    with pytest.raises(CommandRefused) as refused:
        await other_dept.call("POST", cmds, {"type": "answer_recommendation", "key": "tl-x", "rec_id": "kn-an-1",
                                             "department": OTHER_DEPT, "text": "Không phải việc của sở"})
    assert refused.value.code == "not_assignee"
    assert all_seqs(srv) == before
    dept = srv.api(await srv.site_token(DEPT))
    await dept.call("POST", cmds, {"type": "answer_recommendation", "key": "tl-1", "rec_id": "kn-an-1",
                                   "department": DEPT, "text": "Đã có hướng dẫn số 12/HD-STC."})
    await a.call("POST", cmds, {"type": "give_recommendation_feedback", "key": "ph-1", "rec_id": "kn-an-1",
                                "site": "P-AN", "resolved": True})
    rec = srv.state().recommendations["kn-an-1"]
    assert rec.sources == ("P-AN", "P-BINH") and rec.status.value == "answered" and rec.feedback == {"P-AN": True}

    # the dashboard, and the register as files
    board = await secretary.call("GET", "/recommendations?field=Đất đai")
    assert [r["rec_id"] for r in board["recommendations"]] == ["kn-an-1"]
    assert board["by"]["department"] == {DEPT: 1} and board["by"]["site"] == {"P-AN": 1, "P-BINH": 1}
    mine = await srv.api(other_ward).call("GET", "/recommendations")
    assert [r["rec_id"] for r in mine["recommendations"]] == ["kn-an-1"]   # P-BINH is one of its sources
    csv_text = (await secretary.download("/recommendations.csv")).decode("utf-8-sig")
    assert "Vướng mắc cấp giấy chứng nhận" in csv_text and "Phường An; Phường Bình" in csv_text
    wb = load_workbook(io.BytesIO(await secretary.download("/recommendations.xlsx?lang=en")))
    assert wb.active["C2"].value == "Vướng mắc cấp giấy chứng nhận"


async def test_open_recommendations_carry_into_the_next_conference_of_the_series(server: StartServer) -> None:
    srv = await server(seed="small")
    svc = srv.service
    # the small seed's conference has no series: make a series of two
    start = svc.clock().replace(microsecond=0) + timedelta(hours=2)
    for conf, offset in (("quy-3", 0), ("quy-4", 90)):
        await svc.run_conference(conf, CreateConference(
            key=f"c-{conf}", conference_id=conf, title=f"Giao ban {conf}", starts_at=start + timedelta(days=offset),
            ends_at=start + timedelta(days=offset, hours=3), main_site="TRU-SO", chair="chutri",
            secretaries=("thuky",), series="giao-ban"), ADMIN)
        await svc.run_conference(conf, InviteSites(key=f"i-{conf}", codes=("P-AN", "P-BINH")), ADMIN)
    await srv.run("secretary", "submit_recommendation", "quy-3", rec_id="kn-1", site="P-AN", title="Còn vướng",
                  text="Chưa giải quyết", field="Đất đai")
    secretary = srv.api(srv.session("secretary"))
    preview = await secretary.call("GET", "/conferences/quy-4/recommendations/carry")
    assert preview["from"] == "quy-3" and [i["origin"] for i in preview["items"]] == ["quy-3/kn-1"]
    done = await secretary.call("POST", "/conferences/quy-4/recommendations/carry", {"key": "carry-1"})
    assert done["carried"] == 1
    assert srv.state("quy-4").recommendations["kn-1"].carried_from == "quy-3/kn-1"
    again = await secretary.call("POST", "/conferences/quy-4/recommendations/carry", {"key": "carry-2"})
    assert again["carried"] == 0


async def test_a_quick_vote_over_the_websocket(server: StartServer) -> None:
    srv = await server(seed="small")
    await srv.go_live()
    chair = await srv.client(srv.session("chair"))
    sites = {code: await srv.client(await srv.site_token(code)) for code in ("P-AN", "P-BINH", "X-CHAU")}
    deadline = (srv.service.clock() + timedelta(seconds=3)).isoformat()
    await chair.command("open_vote", vote_id="v1", question="Thông qua kế hoạch quý IV?", deadline=deadline)
    await sites["P-AN"].command("cast_vote", vote_id="v1", site="P-AN", option=0)
    await sites["P-BINH"].command("cast_vote", vote_id="v1", site="P-BINH", option=1)
    before = all_seqs(srv)
    with pytest.raises(CommandRefused) as twice:
        await sites["P-AN"].command("cast_vote", vote_id="v1", site="P-AN", option=1)
    assert twice.value.code == "already_voted"
    with pytest.raises(CommandRefused) as opened_by_site:
        await sites["P-AN"].command("close_vote", vote_id="v1")
    assert opened_by_site.value.code == "forbidden"
    assert all_seqs(srv) == before
    # a site sees who voted, not what
    await sites["X-CHAU"].wait_for(lambda s: s is not None and "P-BINH" in s.votes["v1"].ballots)
    assert sites["X-CHAU"].state.votes["v1"].tally() == (0, 0, 0)
    assert chair.state.votes["v1"].tally() == (1, 1, 0)
    await asyncio.sleep(3.2)
    with pytest.raises(CommandRefused) as late:
        await sites["X-CHAU"].command("cast_vote", vote_id="v1", site="X-CHAU", option=0)
    assert late.value.code == "deadline_passed"
    assert set(srv.state().votes["v1"].ballots) == {"P-AN", "P-BINH"}   # nothing counted late
    assert all_seqs(srv)[f"conf-{CONF}"] <= before[f"conf-{CONF}"] + 1   # only the server's close, if any
    # the server closed it at its deadline; the chair's close is then nothing new
    await sites["X-CHAU"].wait_for(lambda s: s is not None and s.votes["v1"].closed_at is not None)
    assert sites["X-CHAU"].state.votes["v1"].result == (1, 1, 0)
    assert srv.state().votes["v1"].tally() == (1, 1, 0)
    assert (await chair.command("close_vote", vote_id="v1")).seq == srv.hub().seq
