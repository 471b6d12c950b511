"""Signed records through a real server: the organisation's settings (admin, REST) and its
document numbers (gap-free, per year, kept across a crash between reservation and approval
and across a restart), approvals refused before anything is recorded when the certificate
cannot sign, and the signed PDF checked by a tool nobody here wrote (poppler's pdfsig) and
by ``verify`` — intact, one byte changed, an update appended after signing."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from server.config import SigningSettings
from server.documents import RenderOptions, VerifyCode, approved_source, render, verify_document
from server.documents.demo_pki import Authority, make_ca, make_org_p12
from server.documents.signing import check_signature, load_certificates
from server.service.records import load_signer
from tests.server.minutes.minutes_env import Env, start_env

ROOT = Path(__file__).resolve().parents[3]
ORG = {"governing_body": "UBND THÀNH PHỐ HÀ NỘI", "issuing_body": "Văn phòng", "symbol": "BB-VP", "place": "Hà Nội",
       "chair_title": "Chủ tọa", "secretary_title": "Thư ký", "recipients": ["Như trên;", "Lưu: VT, VP."]}


@dataclasses.dataclass
class Pki:
    ca: Authority
    dir: Path
    settings: SigningSettings

    def p12(self, name: str, password: bytes = b"demo", **kw: Any) -> SigningSettings:
        path = self.dir / f"{name}.p12"
        path.write_bytes(make_org_p12(self.ca, f"DEMO {name}", password=b"demo", **kw))
        return dataclasses.replace(self.settings, certificate=path, password=password.decode())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca = make_ca()
    (d / "ca.pem").write_bytes(ca.pem())
    (d / "org.p12").write_bytes(make_org_p12(ca, "DEMO Văn phòng UBND Thành phố Hà Nội"))
    return Pki(ca, d, SigningSettings(certificate=d / "org.p12", password="demo", trust_roots=d / "ca.pem"))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("signing-server")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(data_dir: Path, pki: Pki) -> AsyncIterator[Env]:
    e = await start_env(data_dir, pki.settings)
    yield e
    with contextlib.suppress(Exception):   # the last test stops it to restart the server
        await e.close()


pytestmark = pytest.mark.asyncio(loop_scope="module")


async def ended(env: Env, conf: str) -> None:
    await env.create(conf)
    await env.hold(conf, notes=("Tăng trưởng GRDP quý III đạt 7,2%.",))


async def approve(env: Env, conf: str) -> str:
    """Approve and return the record's number."""
    await env.command(conf, "approve_minutes", role="chair")
    overview = await env.call("GET", f"/conferences/{conf}/minutes", role="secretary")
    return str(overview["versions"][-1]["number"])


def pdfsig(data: bytes, tmp: Path) -> str:
    path = tmp / "copy.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60)
    return out.stdout + out.stderr


async def test_the_admin_keeps_the_organisation_settings(env: Env) -> None:
    status, code, message = await env.refused("PUT", "/organisation", ORG, role="secretary")
    assert (status, code) == (403, "forbidden")
    status, code, message = await env.refused("PUT", "/organisation", {**ORG, "symbol": "bb/vp"}, role="admin")
    assert code == "invalid_command" and "symbol" in message
    await env.call("PUT", "/organisation", ORG, role="admin")
    got = await env.call("GET", "/organisation", role="admin")
    assert got["settings"] == ORG and got["last_number"] == 0
    assert got["signing"]["subject"].startswith("CN=DEMO Văn phòng")


@pytest.mark.parametrize("bad", ["expired", "not_yet_valid", "no_signing_usage", "wrong_password"])
async def test_a_certificate_that_cannot_sign_refuses_the_approval_before_anything_is_recorded(
        env: Env, pki: Pki, bad: str) -> None:
    conf = f"ky-loi-{bad.replace('_', '-')}"
    await ended(env, conf)
    now = datetime.now(UTC)
    settings = {"expired": pki.p12("het-han", not_before=now - timedelta(days=400), not_after=now - timedelta(days=1)),
                "not_yet_valid": pki.p12("chua-hieu-luc", not_before=now + timedelta(days=2)),
                "no_signing_usage": pki.p12("khong-ky", may_sign=False),
                "wrong_password": pki.p12("sai-mat-khau", password=b"nham")}[bad]
    records = env.service.records
    good, before = records.signing, dict(records.organisation.state.last_number)
    records.signing = load_signer(dataclasses.replace(env.config, signing=settings))
    try:
        status, code, message = await env.refused("POST", f"/conferences/{conf}/commands",
                                                  {"type": "approve_minutes"}, role="chair")
    finally:
        records.signing = good
    assert (status, code) == (409, "bad_certificate")
    assert {"expired": "expired on", "not_yet_valid": "is not valid before",
            "no_signing_usage": "no digital-signature key usage", "wrong_password": "wrong password"}[bad] in message
    assert env.state(conf).minutes.approved == [] and env.state(conf).minutes.editing
    assert records.organisation.state.last_number == before    # no number was taken either


async def test_an_approved_version_is_signed_and_passes_pdfsig_and_verify(env: Env, pki: Pki, tmp_path: Path) -> None:
    await ended(env, "ky-so-1")
    assert await approve(env, "ky-so-1") == "1/BB-VP"
    records = env.service.records
    await env.until(lambda: records.is_signed(approved_source(env.state("ky-so-1").minutes.approved[0])), 60)
    status, headers, pdf = await env.get("/conferences/ky-so-1/minutes/1.pdf", role="secretary")
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    report = pdfsig(pdf, tmp_path)
    assert "Signature Validation: Signature is Valid." in report and "Total document signed" in report, report
    assert "Signer Certificate Common Name: DEMO Văn phòng UBND Thành phố Hà Nội" in report
    assert "ETSI.CAdES.detached" in report    # PAdES
    roots = load_certificates(pki.dir / "ca.pem")
    checked = verify_document(pdf, chain=env.state("ky-so-1").minutes.approved, trust_roots=roots)
    assert checked.ok, checked
    assert {"signature: signature intact", "signature: certificate chain to the trust root",
            "signature: signed after the approval", "conference chain"} <= set(checked.checks)
    again = (await env.get("/conferences/ky-so-1/minutes/1.pdf", role="secretary"))[2]
    assert again == pdf                                  # the signed original is kept, not re-signed
    overview = await env.call("GET", "/conferences/ky-so-1/minutes", role="secretary")
    assert overview["versions"][0]["signature"] == "signed"
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    for line in ("UBND THÀNH PHỐ HÀ NỘI", "VĂN PHÒNG", "Số: 1/BB-VP", "Hà Nội, ngày", "CHỦ TỌA", "THƯ KÝ",
                 "Nơi nhận:", "- Lưu: VT, VP."):
        assert line in text, line
    untrusted = verify_document(pdf, trust_roots=[make_ca("Another CA").certificate])
    assert untrusted.code is VerifyCode.BAD_SIGNATURE and "trust root" in untrusted.message


async def test_one_byte_changed_after_signing_fails_pdfsig_and_verify(env: Env, tmp_path: Path) -> None:
    pdf = bytearray((await env.get("/conferences/ky-so-1/minutes/1.pdf", role="secretary"))[2])
    at = pdf.index(b"/Producer")   # a byte the signature covers
    pdf[at + 1] = ord("Q")
    report = pdfsig(bytes(pdf), tmp_path)
    assert "Signature is Valid." not in report and "Signature Validation: Digest Mismatch." in report, report
    checked = verify_document(bytes(pdf))
    assert checked.code is VerifyCode.BAD_SIGNATURE and "changed after signing" in checked.message, checked


async def test_an_update_appended_after_signing_fails_pdfsig_and_verify(env: Env, tmp_path: Path) -> None:
    from pyhanko.pdf_utils.generic import NameObject, pdf_string
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    pdf = (await env.get("/conferences/ky-so-1/minutes/1.pdf", role="secretary"))[2]
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer.document_meta.title = "Biên bản đã sửa"
    info = writer.trailer["/Info"]
    info[NameObject("/Subject")] = pdf_string("đã sửa sau khi ký")
    writer.update_container(info)
    out = io.BytesIO()
    writer.write(out)
    updated = out.getvalue()
    assert updated.startswith(pdf) and len(updated) > len(pdf)
    assert "Not total document signed" in pdfsig(updated, tmp_path)
    report = verify_document(updated)
    assert report.code is VerifyCode.BAD_SIGNATURE and "does not cover the whole file" in report.message


async def test_the_command_line_says_what_it_checked_of_the_signature(env: Env, pki: Pki, tmp_path: Path) -> None:
    pdf = (await env.get("/conferences/ky-so-1/minutes/1.pdf", role="secretary"))[2]
    (tmp_path / "ban-ky.pdf").write_bytes(pdf)
    out = await asyncio.to_thread(subprocess.run, [
        sys.executable, "-m", "server.tools.cli", "minutes", "verify", str(tmp_path / "ban-ky.pdf"), "--data-dir",
        str(env.config.data_dir), "--trust-root", str(pki.dir / "ca.pem")], capture_output=True, text=True,
        timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert ("checked: content hash, approval and issuer fields, signature: signature covers the whole file, "
            "signature: signature intact, signature: certificate chain to the trust root, signature: signed after "
            "the approval, conference chain, visible text") in out.stdout
    assert "signed by Common Name: DEMO Văn phòng UBND Thành phố Hà Nội" in out.stdout
    (tmp_path / "chua-ky.pdf").write_bytes(render(approved_source(env.state("ky-so-1").minutes.approved[0]), "pdf",
                                                  RenderOptions()).body)   # type: ignore[union-attr]
    out = await asyncio.to_thread(subprocess.run, [
        sys.executable, "-m", "server.tools.cli", "minutes", "verify", str(tmp_path / "chua-ky.pdf"),
        "--trust-root", str(pki.dir / "ca.pem")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "the PDF is not signed" in out.stdout and "[bad_signature]" in out.stdout


async def test_the_minutes_e_mailed_are_the_signed_original(env: Env, pki: Pki) -> None:
    before = len(env.mailbox)
    await env.command("ky-so-1", "distribute_minutes", role="secretary", version=1, sites=["P-AN"])
    await env.until(lambda: len(env.mailbox) > before)
    name, content_type, data = env.mailbox.since(before)[0].attachment()
    assert content_type == "application/pdf" and name == "bien-ban-ky-so-1-v1.pdf"
    assert data == (await env.get("/conferences/ky-so-1/minutes/1.pdf", role="secretary"))[2]
    assert check_signature(data, trust_roots=load_certificates(pki.dir / "ca.pem"), approved_at=None).ok


async def test_numbers_are_gap_free_and_survive_a_crash_between_reservation_and_approval(env: Env) -> None:
    await ended(env, "so-2")
    assert await approve(env, "so-2") == "2/BB-VP"
    await env.command("so-2", "open_correction", role="secretary", reason="Bổ sung số liệu")
    assert await approve(env, "so-2") == "3/BB-VP"       # a corrected version is a new record
    # the server reserved "so-3" v1's number, then died before recording the approval
    await ended(env, "so-3")
    reserved = await env.service.records.reserve_number("so-3", 1, env.now())
    assert reserved[1] == 4
    await ended(env, "so-4")
    assert await approve(env, "so-4") == "5/BB-VP"
    assert await approve(env, "so-3") == "4/BB-VP"       # the retry takes its own reservation, not a new one
    numbers = [v["number"] for c in ("ky-so-1", "so-2", "so-3", "so-4") for v in
               (await env.call("GET", f"/conferences/{c}/minutes", role="secretary"))["versions"]]
    assert sorted(int(n.split("/")[0]) for n in numbers) == [1, 2, 3, 4, 5]


async def test_an_original_that_does_not_lead_to_the_trust_root_is_not_kept(env: Env) -> None:
    await ended(env, "ky-goc-khac")
    records = env.service.records
    mine = records.trust_roots
    records.trust_roots = [make_ca("Another CA").certificate]
    try:
        await approve(env, "ky-goc-khac")    # signed at once, in the background: refused, nothing kept
        await env.until(lambda: not records._signing, timeout=60)
        status, code, message = await env.refused("GET", "/conferences/ky-goc-khac/minutes/1.pdf", role="secretary")
    finally:
        records.trust_roots = mine
    assert (status, code) == (409, "bad_certificate") and "do not validate" in message
    overview = await env.call("GET", "/conferences/ky-goc-khac/minutes", role="secretary")
    assert overview["versions"][0]["signature"] == "pending"          # nothing kept; a later request signs
    status, _, pdf = await env.get("/conferences/ky-goc-khac/minutes/1.pdf", role="secretary")
    assert status == 200 and check_signature(pdf, trust_roots=mine, approved_at=None).ok


async def test_numbering_goes_on_after_a_restart(env: Env, data_dir: Path, pki: Pki) -> None:
    await ended(env, "so-5")
    await env.service.records.reserve_number("so-5", 1, env.now())   # reserved, then the process is gone
    await env.close()
    again = await start_env(data_dir, pki.settings)
    try:
        assert again.service.records.organisation.state.last_number[env.now().year] == 7
        assert await approve(again, "so-5") == "7/BB-VP"
        await ended(again, "so-6")
        assert await approve(again, "so-6") == "8/BB-VP"
        got = await again.call("GET", "/organisation", role="admin")
        assert got["last_number"] == 8 and got["settings"] == ORG
    finally:
        await again.close()


RESERVE_THEN_DIE = """
import asyncio, os, signal, sys
from pathlib import Path
from server.app import open_store
from server.config import Config
from server.service.records import Records
from server.service.service import utcnow

async def main() -> None:
    config = Config(data_dir=Path(sys.argv[1]))
    records = Records(config, await open_store(config), utcnow)
    await records.start()
    year, number = await records.reserve_number(sys.argv[2], 1, utcnow())
    print(number, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)   # between the reservation and the approval

asyncio.run(main())
"""


async def test_a_kill_9_between_reservation_and_approval_neither_burns_nor_reuses_a_number(
        data_dir: Path, pki: Pki) -> None:
    first = await start_env(data_dir, pki.settings)
    try:
        await ended(first, "so-7")
        await ended(first, "so-8")
    finally:
        await first.close()
    died = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", RESERVE_THEN_DIE, str(data_dir), "so-7"],
                                   cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert died.returncode == -9, died.stderr
    reserved = int(died.stdout)
    assert reserved == 9                                   # after the 8 numbers of the tests above
    again = await start_env(data_dir, pki.settings)
    try:
        assert await approve(again, "so-8") == "10/BB-VP"   # not 9: that one is so-7's
        assert await approve(again, "so-7") == "9/BB-VP"    # the retry takes it
        assert (await again.call("GET", "/organisation", role="admin"))["last_number"] == 10
    finally:
        await again.close()
