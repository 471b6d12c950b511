"""``bridgeconf simulate`` against a real ``serve --demo`` with its media plane: it leaves the
wards whose links ``serve --demo`` prints to the browsers and says which sites it takes;
speaking sites publish a shared clip and ask for the floor, the others only receive, every
one checks in with its own headcount; ``--add-sites`` makes up a number the conference does
not have; ``make run``'s output starts with the useful lines."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from server.tools.client import ApiClient

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, str]]:
    data = tmp_path_factory.mktemp("simulate")
    port = free_port()
    log = data / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "server.tools.cli", "serve", "--demo", "--media-address", "127.0.0.1",
                                 "--data-dir", str(data), "--port", str(port)], cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while "serving on" not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(log.read_text()[-2000:])
            time.sleep(0.1)
        try:
            yield f"http://127.0.0.1:{port}", data, log.read_text()
        finally:
            proc.terminate()
            proc.wait(10)


def simulate(base: str, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.tools.cli", "simulate", "--url", base, "--data-dir", str(data),
                           *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def summary_of(stdout: str) -> dict[str, Any]:
    return json.loads(stdout.strip().splitlines()[-1])["summary"]  # type: ignore[no-any-return]


async def chair_call(base: str, password: str, *commands: dict[str, Any], conf: str = "so-ket-quy-3") -> Any:
    chair = await ApiClient.login(base, "chutri", password)
    try:
        for cmd in commands:
            await chair.call("POST", f"/conferences/{conf}/commands", cmd)
        return await chair.call("GET", f"/conferences/{conf}")
    finally:
        await chair.close()


def test_make_run_starts_with_the_useful_lines(served: tuple[str, Path, str]) -> None:
    _, _, printed = served
    before = printed.split("=== bridgeconf demo ===")[0]
    assert "weasyprint" not in before.lower() and "Deprecat" not in before, before
    assert len(before.strip().splitlines()) <= 1, before      # at most the mailer's one line


def test_simulate_leaves_the_printed_wards_and_rehearses_speakers_and_listeners(served: tuple[str, Path, str]) -> None:
    base, data, printed = served
    password = (data / "demo-password.txt").read_text().strip()
    asyncio.run(chair_call(base, password, {"type": "open_conference", "key": "sim-t-open"}))
    shown = re.findall(r"/join/(\S+)", printed)
    assert len(shown) == 6                                     # the main bridge and five wards

    run = simulate(base, data, "--conference", "so-ket-quy-3", "--sites", "3", "--speaking", "1", "--with-main",
                   "--seconds", "3")
    assert run.returncode == 0, run.stderr[-2000:]
    taken = re.search(r"simulating 3 sites: (.+) \(left to browsers: (.+)\)", run.stdout)
    assert taken, run.stdout
    codes, kept = taken.group(1).split(", "), taken.group(2).split(", ")
    assert len(kept) == 5 and not set(codes) & set(kept)
    summary = summary_of(run.stdout)
    assert summary["sites"] == 3 and summary["failed"] == 0 and summary["publishing"] == 1, summary
    assert summary["program_fps_median"] > 0, summary            # the headless main bridge's program arrived

    view = asyncio.run(chair_call(base, password))
    for code in codes:                                           # each checked in, with its own headcount
        assert view["attendance"][code]["checked_in_at"] is not None
    assert len({view["attendance"][c]["headcount"] for c in codes}) == 3
    assert [r["site"] for r in view["floor"]["queue"]] == codes[:1]   # the speaking site asked for the floor
    for code in kept:                                            # the printed wards were left alone
        assert view["attendance"][code]["first_joined"] is None


def test_simulate_says_what_it_lacks_and_adds_sites_when_asked(served: tuple[str, Path, str]) -> None:
    base, data, _ = served
    password = (data / "demo-password.txt").read_text().strip()

    async def small_conference() -> None:
        admin = await ApiClient.login(base, "admin", password)
        try:
            start = datetime.now(UTC).replace(microsecond=0)
            await admin.call("POST", "/conferences", {
                "key": "sim-small", "conference_id": "nho", "title": "Họp nhỏ", "kind": "other",
                "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat(),
                "main_site": "HN-TRU-SO", "chair": "chutri", "secretaries": ["thuky1"]})
            await admin.call("POST", "/conferences/nho/commands",
                             {"key": "sim-small-invite", "type": "invite_sites", "codes": ["P-LANG", "P-KIM-LIEN"]})
        finally:
            await admin.close()
    asyncio.run(small_conference())

    short = simulate(base, data, "--conference", "nho", "--sites", "4", "--speaking", "0", "--seconds", "1")
    assert short.returncode == 0, short.stderr[-2000:]
    assert "has 2 invited sites" in short.stderr and "--add-sites" in short.stderr
    assert summary_of(short.stdout)["sites"] == 2

    more = simulate(base, data, "--conference", "nho", "--sites", "4", "--speaking", "0", "--seconds", "1",
                    "--add-sites")
    assert more.returncode == 0, more.stderr[-2000:]
    assert "invited 2 simulated sites: SIM-001…SIM-002" in more.stdout
    assert summary_of(more.stdout)["sites"] == 4
