"""Distribution with receipts, end to end with a real SMTP server (aiosmtpd on loopback):
every invited site with an address and every chosen account with one gets a Vietnamese
e-mail with the approved PDF, which verifies against the conference's chain; a refused
mailbox shows as ``email_failed`` in the tracker; sites acknowledge through the API with
their join-link token; reminders go to the sites that have not acknowledged, live and by
e-mail; the tracker exports as CSV."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import replace

import pytest

from server.documents import verify_document
from tests.fixtures.served import free_port
from tests.server.minutes.minutes_env import ACCOUNTS, SITES, Env

pytestmark = pytest.mark.asyncio(loop_scope="module")
CONF = "giao-ban-t11"
TITLE = f"Hội nghị giao ban {CONF}"


async def test_distribution_lands_in_the_inboxes_and_in_the_mailboxes(env: Env) -> None:
    await env.create(CONF)
    await env.hold(CONF, notes=("Thu ngân sách tháng 11 đạt 9,1% dự toán năm.",),
                   actions=(("nv-1", "Hoàn thành kiểm kê tài sản công", ("P-AN", "X-DUNG"), 20),))
    await env.command(CONF, "approve_minutes", role="chair")
    before = len(env.mailbox)
    ack = await env.command(CONF, "distribute_minutes", role="secretary", version=1, accounts=["chutri", "quansat"])
    assert ack["events"] == 1   # the command does not wait for the mail
    await env.mailer.idle()
    mails = env.mailbox.since(before)
    # P-AN and P-BINH (X-CHAU's mailbox is refused, X-DUNG and the main bridge have no address), and the
    # chair (the observer has no address)
    assert sorted(r for m in mails for r in m.recipients) == sorted(
        [SITES["P-AN"][1], SITES["P-BINH"][1], ACCOUNTS["chair"][2]])
    chain = env.state(CONF).minutes.approved
    for mail in mails:
        assert mail.sender == "vanphong@hanoi.gov.vn"
        assert mail.subject == f"Biên bản hội nghị: {TITLE} (phiên bản 1)"
        assert mail.message["X-Bridgeconf-Version"] == "1"
        filename, content_type, data = mail.attachment()
        assert (filename, content_type) == (f"bien-ban-{CONF}-v1.pdf", "application/pdf")
        report = verify_document(data, chain=chain)
        assert report.ok, report
    (an,) = env.mailbox.to(SITES["P-AN"][1])
    assert an.message["To"].addresses[0].display_name == "Phường An Hòa"
    text = an.text()
    assert text.startswith("Kính gửi: Phường An Hòa,") and "xác nhận đã nhận biên bản" in text
    assert f"{env.base_url}/join/" in text and chain[0].sha256 in text   # its own link to acknowledge
    (chair,) = env.mailbox.to(ACCOUNTS["chair"][2])
    assert "/join/" not in chair.text() and f"/api/v1/conferences/{CONF}/minutes/1.html" in chair.text()


async def test_the_tracker_shows_each_site_and_each_mail(env: Env) -> None:
    overview = await env.call("GET", f"/conferences/{CONF}/minutes", role="secretary")
    (v1,) = overview["versions"]
    rows = {r["site"]: r for r in v1["receipts"]}
    assert set(rows) == {"TRU-SO", "P-AN", "P-BINH", "X-CHAU", "X-DUNG"}
    assert {code: r["email_status"] for code, r in rows.items()} == {
        "TRU-SO": "no_address", "P-AN": "sent", "P-BINH": "sent", "X-CHAU": "email_failed", "X-DUNG": "no_address"}
    assert "550" in rows["X-CHAU"]["email_error"] and "User unknown" in rows["X-CHAU"]["email_error"]
    assert all(r["status"] == "delivered" and r["delivered_at"].endswith("+07:00") for r in rows.values())
    assert {a["account"]: a["email_status"] for a in v1["accounts"]} == {"chutri": "sent", "quansat": "no_address"}
    assert v1["totals"] == {"sites": 5, "opened": 0, "acknowledged": 0, "waiting": 5, "reminded": 0,
                            "email_sent": 2, "email_failed": 1}


async def test_sites_open_and_acknowledge_with_their_token(env: Env) -> None:
    an, binh = await env.site_token(CONF, "P-AN"), await env.site_token(CONF, "P-BINH")
    await env.command(CONF, "acknowledge_minutes", token=an, version=1, site="P-AN")
    again = await env.command(CONF, "acknowledge_minutes", token=an, version=1, site="P-AN")
    assert again["events"] == 0
    status, _, _ = await env.get(f"/conferences/{CONF}/minutes/1.pdf", params={"token": binh})
    assert status == 200
    overview = await env.call("GET", f"/conferences/{CONF}/minutes", role="chair")
    rows = {r["site"]: r for r in overview["versions"][0]["receipts"]}
    assert (rows["P-AN"]["status"], rows["P-BINH"]["status"], rows["X-CHAU"]["status"]) == \
        ("acknowledged", "opened", "delivered")
    assert rows["P-AN"]["opened_at"] == rows["P-AN"]["acknowledged_at"] is not None
    assert overview["versions"][0]["totals"]["acknowledged"] == 1 and overview["versions"][0]["totals"]["opened"] == 2


async def test_a_reminder_reaches_the_sites_that_have_not_acknowledged(env: Env) -> None:
    before = len(env.mailbox)
    await env.command(CONF, "remind_minutes", role="secretary", version=1)
    await env.mailer.idle()
    r = env.state(CONF).minutes.receipts[1]
    assert {c: x.reminders for c, x in r.items()} == {"TRU-SO": 1, "P-AN": 0, "P-BINH": 1, "X-CHAU": 1, "X-DUNG": 1}
    # the site's page sees its reminder (and never the mailer's reports)
    seen = await env.call("GET", f"/conferences/{CONF}", token=await env.site_token(CONF, "P-BINH"))
    assert seen["minutes"]["receipts"]["1"]["P-BINH"]["reminders"] == 1 and seen["minutes"]["mail"] == {}
    staff = await env.call("GET", f"/conferences/{CONF}", role="secretary")
    assert staff["minutes"]["mail"]["1"]["site:X-CHAU"]["error"].startswith("550")
    mails = env.mailbox.since(before)
    assert [m.recipients for m in mails] == [[SITES["P-BINH"][1]]]
    assert mails[0].subject == f"Nhắc xác nhận đã nhận biên bản: {TITLE} (phiên bản 1)"
    assert "chưa xác nhận" in mails[0].text() and mails[0].attachment()[1] == "application/pdf"
    # a chosen site only, and only when it has not acknowledged
    await env.command(CONF, "remind_minutes", role="chair", version=1, sites=["X-CHAU"])
    nothing = await env.command(CONF, "remind_minutes", role="chair", version=1, sites=["P-AN"])
    assert nothing["events"] == 0
    await env.mailer.idle()
    assert env.state(CONF).minutes.receipts[1]["X-CHAU"].reminders == 2
    status, code, _ = await env.refused("POST", f"/conferences/{CONF}/commands",
                                        {"type": "remind_minutes", "version": 1}, role="observer")
    assert (status, code) == (403, "forbidden")


async def test_the_tracker_exports_as_csv(env: Env) -> None:
    status, headers, body = await env.get(f"/conferences/{CONF}/minutes/1/receipts.csv", role="secretary")
    assert status == 200 and headers["Content-Type"] == "text/csv; charset=utf-8"
    assert headers["Content-Disposition"] == f'attachment; filename="bien-ban-{CONF}-v1-nhan.csv"'
    assert body.startswith("\ufeff".encode())   # Excel reads the Vietnamese names right
    rows = {r["Mã điểm cầu"]: r for r in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))}   # in Vietnamese
    assert rows["P-AN"]["Điểm cầu"] == "Phường An Hòa" and rows["P-AN"]["Trạng thái"] == "Đã xác nhận"
    assert rows["P-BINH"]["Trạng thái"] == "Đã mở" and rows["P-BINH"]["Số lần nhắc"] == "1"
    assert rows["X-CHAU"]["Tình trạng thư"] == "Gửi thư lỗi" and rows["X-CHAU"]["Số lần nhắc"] == "2"
    assert rows["X-DUNG"]["Tình trạng thư"] == "Không có địa chỉ" and rows["X-DUNG"]["Thư điện tử"] == ""
    assert rows["P-AN"]["Xác nhận đã nhận lúc"].endswith("+07:00")   # Asia/Ho_Chi_Minh
    _, _, english = await env.get(f"/conferences/{CONF}/minutes/1/receipts.csv", role="secretary",
                                  params={"lang": "en"})
    en = {r["Site"]: r for r in csv.DictReader(io.StringIO(english.decode("utf-8-sig")))}
    assert en["P-AN"]["Status"] == "Acknowledged" and en["X-CHAU"]["E-mail status"] == "E-mail failed"
    status, code, _ = await env.refused("GET", f"/conferences/{CONF}/minutes/1/receipts.csv",
                                        token=await env.site_token(CONF, "P-AN"))
    assert (status, code) == (403, "forbidden")


async def test_when_the_smtp_server_is_down_the_failure_is_logged_and_tracked(
        env: Env, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="server.reactors.mailer")
    settings = env.mailer.settings
    env.mailer.settings = replace(settings, port=free_port())   # nobody listens there
    try:
        await env.command(CONF, "open_correction", role="secretary", reason="Bổ sung số liệu thu ngân sách")
        await env.command(CONF, "add_note", role="secretary", note_id="bo-sung", text="Bổ sung: thu đạt 9,3%.")
        await env.command(CONF, "approve_minutes", role="chair")
        await env.command(CONF, "distribute_minutes", role="secretary", version=2, sites=["P-AN", "P-BINH"])
        await env.mailer.idle()
    finally:
        env.mailer.settings = settings
    mail = env.state(CONF).minutes.mail[2]
    assert set(mail) == {"site:P-AN", "site:P-BINH"} and all("ConnectionRefusedError" in m.error for m in mail.values())
    overview = await env.call("GET", f"/conferences/{CONF}/minutes", role="secretary")
    assert overview["versions"][1]["totals"]["email_failed"] == 2
    assert any("failed" in r.getMessage() and "P-AN" in r.getMessage() for r in caplog.records)
    # the inbox did not depend on it
    assert set(env.state(CONF).minutes.receipts[2]) == {"P-AN", "P-BINH"}
