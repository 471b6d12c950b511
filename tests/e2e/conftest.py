"""Browser tests: a real `bridgeconf serve --demo` process and Debian's Chromium, driven by
Playwright (from PyPI; `playwright install` cannot download browsers here, so the browser is
always /usr/bin/chromium). One server and one browser serve the whole e2e session; each
test opens the few pages it needs, each person in a browser context of their own.

Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from e2e_helpers import Pages

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("BRIDGECONF_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
]
DEMO_CONFERENCE = "so-ket-quy-3"

if not CHROMIUM.exists():   # `make test` installs Debian's chromium; a bare checkout may not have it
    pytest.skip(f"no Chromium at {CHROMIUM} (make test installs it)", allow_module_level=True)

playwright_api = pytest.importorskip("playwright.async_api")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    data_dir: Path
    password: str
    proc: subprocess.Popen[str]
    log: Path

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data = tmp_path_factory.mktemp("bridgeconf-e2e")
    port = free_port()
    log = data / "server.log"
    out = open(log, "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.tools.cli", "serve", "--demo", "--no-media", "--data-dir", str(data),
         "--port", str(port)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server stopped: {log.read_text()[-2000:]}")
        if "serving on" in log.read_text():
            break
        time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")
    yield Server(base, data, (data / "demo-password.txt").read_text().strip(), proc, log)
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    out.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as p:
        b = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        await b.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest_asyncio.fixture(loop_scope="session")
async def pages(browser: Any, web_server: Server, request: pytest.FixtureRequest) -> AsyncIterator[Pages]:
    p = Pages(browser, web_server)
    yield p
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:   # what every page showed when the test failed
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"failed-{request.node.name}-console.txt").write_text("\n".join(p.log))
        for i, ctx in enumerate(p.contexts):
            for j, page in enumerate(ctx.pages):
                await page.screenshot(path=str(ARTIFACTS / f"failed-{request.node.name}-{i}-{j}.png"))
    await p.close()
    assert not p.errors, "errors in the pages:\n" + "\n".join(p.errors)



# -- media: a server with its media plane (tests/e2e/test_media_*.py) ---------------------------

@pytest.fixture(scope="session")
def media_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """`bridgeconf serve --demo` with the media plane on (in process, ICE on 127.0.0.1, no
    STUN): the pages' audio and video go through it."""
    data = tmp_path_factory.mktemp("bridgeconf-e2e-media")
    port = free_port()
    log = data / "server.log"
    out = open(log, "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.tools.cli", "serve", "--demo", "--media-address", "127.0.0.1",
         "--data-dir", str(data), "--port", str(port)],
        cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while "serving on" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the media server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    yield Server(f"http://127.0.0.1:{port}", data, (data / "demo-password.txt").read_text().strip(), proc, log)
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    out.close()


@pytest_asyncio.fixture(loop_scope="session")
async def media_pages(browser: Any, media_server: Server, request: pytest.FixtureRequest) -> AsyncIterator[Pages]:
    """`pages` against the media server; on a failure also keeps the server's log."""
    p = Pages(browser, media_server)
    yield p
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"failed-{request.node.name}-console.txt").write_text("\n".join(p.log))
        (ARTIFACTS / f"failed-{request.node.name}-server.log").write_text(media_server.log.read_text()[-200_000:])
        for i, ctx in enumerate(p.contexts):
            for j, page in enumerate(ctx.pages):
                await page.screenshot(path=str(ARTIFACTS / f"failed-{request.node.name}-{i}-{j}.png"))
    await p.close()
    assert not p.errors, "errors in the pages:\n" + "\n".join(p.errors)
