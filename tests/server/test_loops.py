"""The event loop is a choice: ``serve --loop uvloop|asyncio`` (or BRIDGECONF_LOOP), asyncio's
by default; an unknown one is refused before anything starts."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from media.loops import LoopUnavailable, use_loop


def loop_type(name: str | None) -> str:
    use_loop(name)
    try:
        return asyncio.run(_running())
    finally:
        use_loop("asyncio")


async def _running() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_use_loop_installs_the_chosen_loop() -> None:
    assert loop_type("uvloop").startswith("uvloop")
    assert loop_type("asyncio").startswith("asyncio")
    with pytest.raises(LoopUnavailable):
        use_loop("trio")


async def test_serve_runs_on_uvloop(bridgeconf_proc: Callable[..., Any]) -> None:
    proc = bridgeconf_proc(demo=False, extra=("--loop", "uvloop"))
    assert "loop: uvloop" in proc.output
    async with aiohttp.ClientSession() as http, http.get(proc.base_url + "/healthz") as resp:
        assert resp.status == 200


def test_serve_refuses_an_unknown_loop() -> None:
    done = subprocess.run([sys.executable, "-m", "server.tools.cli", "serve", "--loop", "trio"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--loop" in done.stderr
