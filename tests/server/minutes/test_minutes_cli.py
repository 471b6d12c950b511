"""``bridgeconf minutes verify`` (a subprocess, as an official would run it) on files
downloaded from the server: a good file verifies against the conference's chain in the
server's store; a file whose text was edited, or a forgery re-hashed and re-rendered, fails
with exit status 1; ``--chain`` checks the chain itself; what cannot be checked exits 2."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from scheduling import chain_hash
from server.documents import Approval, MinutesSource, RenderOptions, render_html
from tests.server.minutes.minutes_env import Env

pytestmark = pytest.mark.asyncio(loop_scope="module")
ROOT = Path(__file__).resolve().parents[3]
CONF = "giao-ban-t7"


async def bridgeconf(*args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "server.tools.cli", "minutes", "verify", *args],
                                   cwd=ROOT, capture_output=True, text=True, timeout=120)


async def in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The same command in this process (what only parses arguments or reads the store)."""
    from server.tools.cli import main
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["minutes", "verify", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


async def test_a_downloaded_file_verifies_against_the_store(env: Env, files: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    await env.create(CONF)
    await env.hold(CONF, notes=("Kết quả thu ngân sách 7 tháng đạt 68% dự toán.",),
                   actions=(("nv-1", "Rà soát hộ nghèo", ("P-AN",), 10),))
    await env.command(CONF, "approve_minutes", role="chair")
    for fmt in ("html", "docx", "pdf"):
        _, _, body = await env.get(f"/conferences/{CONF}/minutes/1.{fmt}", role="secretary")
        (files / f"bien-ban-v1.{fmt}").write_bytes(body)
    data = str(env.config.data_dir)
    runs = await asyncio.gather(*(bridgeconf(str(files / f"bien-ban-v1.{fmt}"), "--data-dir", data)
                                  for fmt in ("html", "docx", "pdf")))
    for out in runs:
        assert out.returncode == 0, out.stdout + out.stderr
        assert out.stdout.startswith("OK ") and "content hash, conference chain, visible text" in out.stdout
        assert env.state(CONF).minutes.approved[0].sha256 in out.stdout
    code, stdout, _ = await in_process(capsys, str(files / "bien-ban-v1.html"), "--conference", CONF,
                                       "--data-dir", data, "--json")
    report = json.loads(stdout)
    assert code == 0 and report["ok"] and report["conference_id"] == CONF and report["version"] == 1


async def test_a_file_without_the_store_is_only_self_consistent(env: Env, files: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = await in_process(capsys, str(files / "bien-ban-v1.html"))
    assert code == 0 and "not checked against the conference's log" in stdout


async def test_an_edited_file_fails(env: Env, files: Path) -> None:
    page = (files / "bien-ban-v1.html").read_text(encoding="utf-8")
    head, sep, body = page.partition("</script>")
    edited = head + sep + body.replace("68% dự toán", "86% dự toán", 1)
    assert edited != page
    (files / "sua.html").write_text(edited, encoding="utf-8")
    out = await bridgeconf(str(files / "sua.html"), "--data-dir", str(env.config.data_dir))
    assert out.returncode == 1 and out.stdout.startswith("FAIL") and "[text_tampered]" in out.stdout
    assert "86%" in out.stdout


async def test_a_forgery_passes_alone_but_not_against_the_conference(env: Env, files: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (v1,) = env.state(CONF).minutes.approved
    content = copy.deepcopy(v1.content)
    content["agenda"][0]["notes"] = ["Kết quả thu ngân sách 7 tháng đạt 96% dự toán."]
    forged = Approval(version=1, sha256=chain_hash(v1.prev_sha256, content), prev_sha256=v1.prev_sha256,
                      approved_at=v1.approved_at, approved_by="chutri")
    (files / "gia.html").write_text(render_html(MinutesSource(content, forged), RenderOptions(place="Hà Nội")),
                                    encoding="utf-8")
    code, _, _ = await in_process(capsys, str(files / "gia.html"))
    assert code == 0   # self-consistent: that is all a file can show by itself
    out = await bridgeconf(str(files / "gia.html"), "--data-dir", str(env.config.data_dir))
    assert out.returncode == 1 and "[not_in_chain]" in out.stdout and v1.sha256[:16] in out.stdout


async def test_the_chain_of_a_conference(env: Env, files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    await env.command(CONF, "open_correction", role="secretary", reason="Sửa số liệu")
    await env.command(CONF, "approve_minutes", role="chair")
    data = str(env.config.data_dir)
    out = await bridgeconf("--chain", "--conference", CONF, "--data-dir", data)
    assert out.returncode == 0 and "2 approved versions, chain intact" in out.stdout
    versions = env.state(CONF).minutes.approved
    assert all(v.sha256 in out.stdout for v in versions)
    # version 1 is still version 1 of the chain
    code, stdout, _ = await in_process(capsys, str(files / "bien-ban-v1.html"), "--data-dir", data)
    assert code == 0 and "conference chain" in stdout
    for args, message in ((("--chain", "--conference", "khong-co", "--data-dir", data), "no conference 'khong-co'"),
                          (("--chain", "--data-dir", data), "--conference"),
                          (("--chain", "--conference", CONF, "--data-dir", str(files / "khong-co")), "no bridgeconf store"),
                          ((), "give the FILE")):
        code, _, stderr = await in_process(capsys, *args)
        assert code == 2 and message in stderr, (args, stderr)
    code, stdout, _ = await in_process(capsys, str(files / "khong-co.pdf"))
    assert code == 1 and "[unreadable]" in stdout
