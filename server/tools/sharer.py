"""``bridgeconf bridge --join LINK --share``: a headless screen share. The bridge's media offers
the share slot with a test-pattern "screen" on it (``media.headless.screen_source``, a second
video track as a page's ``getDisplayMedia`` capture is); this waits until the site may present
(the main bridge: the conference is running; a floor holder: the chair allows it) and nobody
else shares, sends ``start_share``, keeps sharing for ``share_seconds`` (or until the share is
stopped for it: the chair, the end of its floor, the end of the conference), then sends
``stop_share`` — also when it is cancelled (the bridge exits early). For tests and benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from media.headless import HeadlessBridge
from scheduling import ConferenceState, may_present

from .client import BridgeClient, CommandRefused


async def share_screen(client: BridgeClient, bridge: HeadlessBridge, site: str, *, seconds: float,
                       leaving: asyncio.Event | None = None, wait_s: float = 600.0) -> dict[str, Any]:
    """Share the test screen as ``site`` for ``seconds`` once it may, or until ``leaving`` is
    set; what it did. The share is stopped before it returns, and when it is cancelled."""
    if bridge.screen is None:
        raise ValueError("the bridge has no screen to share (HeadlessBridge(share=True))")
    leaving = leaving or asyncio.Event()

    def ready(state: ConferenceState | None) -> bool:
        return state is not None and may_present(state, site) and state.presentation.sharer in (None, site)

    def stopped(state: ConferenceState | None) -> bool:
        return state is None or state.presentation.sharer != site

    out: dict[str, Any] = {"started": False, "seconds": 0.0, "stopped_by": None, "refused": [], "frames_sent": 0}
    if await _until(client, ready, leaving, wait_s) != "state":
        return out                           # never allowed while it stayed
    bridge.screen_on(True)
    started = time.monotonic()
    try:
        try:
            await client.command("start_share", site=site)
        except CommandRefused as exc:     # someone else shares after all, or the floor ended meanwhile
            out["refused"].append(exc.code)
            return out
        out["started"] = True
        started = time.monotonic()        # "seconds": how long the share was on
        why = await _until(client, stopped, leaving, seconds)
        # "server": the chair stopped it, its floor or the conference ended; else the bridge stops it
        out["stopped_by"] = "server" if why == "state" else "bridge"
    finally:
        bridge.screen_on(False)
        out["seconds"] = round(time.monotonic() - started, 1)
        out["frames_sent"] = bridge.screen.frames_sent
        if out["started"] and not stopped(client.state):
            with contextlib.suppress(CommandRefused, ConnectionError, TimeoutError):
                await client.command("stop_share", timeout=5.0)
    return out


async def _until(client: BridgeClient, predicate: Callable[[ConferenceState | None], bool],
                 leaving: asyncio.Event, timeout: float) -> str:
    """``"state"`` once ``predicate`` holds, ``"leaving"`` once ``leaving`` is set, else
    ``"timeout"`` after ``timeout`` seconds."""
    state = asyncio.ensure_future(client.wait_for(predicate, timeout=timeout))
    left = asyncio.ensure_future(leaving.wait())
    try:
        await asyncio.wait((state, left), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (state, left):
            task.cancel()
        await asyncio.gather(state, left, return_exceptions=True)
    if state.done() and not state.cancelled() and state.exception() is None:
        return "state"
    return "leaving" if leaving.is_set() else "timeout"
