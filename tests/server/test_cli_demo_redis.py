"""``bridgeconf serve --demo --redis URL`` starts with a data directory that does not exist
yet (with Redis nothing but the demo password lives there; until the directory was made,
keeping the password failed and the process hung on its way out, never serving), the demo chair signs in with the password it kept and runs a command,
and a second ``serve --redis`` process without ``--demo`` serves the same conference."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from server.tools.client import ApiClient, BridgeClient
from tests.fixtures.procs import stop as stop_process

ROOT = Path(__file__).resolve().parents[2]
CONF = "so-ket-quy-3"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Serve:
    """``python -m server.tools.cli serve ... --port P`` in a subprocess; its output goes to
    ``logs`` (never into the data directory, whose creation is what is tested)."""

    def __init__(self, args: list[str], logs: Path) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        logs.mkdir(parents=True, exist_ok=True)
        self.out, self.err = logs / f"serve-{self.port}.out", logs / f"serve-{self.port}.err"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("BRIDGECONF_REDIS_URL", None)
        cmd = [sys.executable, "-m", "server.tools.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--no-media", *args]
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err, text=True)

    async def healthz(self, timeout: float = 20.0) -> dict[str, object]:
        """Wait until /healthz answers; fail with the server's stderr if it exits first."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError(f"bridgeconf serve exited with {self.proc.returncode} before "
                                         f"answering /healthz:\n{self.err.read_text()[-3000:]}")
                try:
                    async with http.get(self.base_url + "/healthz") as resp:
                        if resp.status == 200:
                            return dict(await resp.json())
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"no /healthz after {timeout} s:\n{self.err.read_text()[-3000:]}")
                await asyncio.sleep(0.05)

    def stop(self) -> None:
        stop_process(self.proc, 15)


async def test_serve_demo_with_redis_starts_without_a_data_dir_and_a_second_process_sees_it(
        redis_url: str, tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"          # neither exists: serve must make it
    procs: list[Serve] = []
    clients: list[ApiClient | BridgeClient] = []
    try:
        a = Serve(["--demo", "--redis", redis_url, "--data-dir", str(data)], tmp_path / "logs")
        procs.append(a)
        health = await a.healthz()
        assert health["status"] == "ok" and health["conferences"] == 1
        password = (data / "demo-password.txt").read_text().strip()
        assert password and password in a.out.read_text()      # the password it printed is the one it kept
        assert oct((data / "demo-password.txt").stat().st_mode & 0o777) == "0o600"

        chair_api = await ApiClient.login(a.base_url, "chutri", password)
        clients.append(chair_api)
        chair = await BridgeClient(a.base_url, CONF, chair_api.token or "", reconnect=False).connect()
        clients.append(chair)
        ack = await chair.command("open_conference", key="open-1")
        assert ack.key == "open-1" and not ack.replayed and ack.seq == chair.last_seq
        assert chair.state is not None and chair.state.phase.value == "live"

        b = Serve(["--redis", redis_url, "--data-dir", str(tmp_path / "data-b")], tmp_path / "logs")
        procs.append(b)
        assert (await b.healthz())["conferences"] == 1
        on_b = await ApiClient.login(b.base_url, "chutri", password)    # the accounts are in Redis too
        clients.append(on_b)
        seen = await on_b.call("GET", f"/conferences/{CONF}")
        assert seen["phase"] == "live" and seen["seq"] >= ack.seq
        assert not (tmp_path / "data-b" / "demo-password.txt").exists()   # no --demo: nothing seeded there
    finally:
        for c in reversed(clients):
            await c.close()
        for p in reversed(procs):
            p.stop()
