"""Which asyncio event loop a process runs: the standard library's, or uvloop's (libuv).
``use_loop(name)`` installs it for the coming ``asyncio.run`` and leaves the choice in the
environment (``BRIDGECONF_LOOP``), so that the worker processes a server starts run the same
loop. bench/signaling.py and bench/media.py measure both (docs/performance.md)."""

from __future__ import annotations

import asyncio
import os

try:
    import uvloop
except ImportError:   # an optional dependency: pip install 'bridgeconf[uvloop]'
    uvloop = None

ENV = "BRIDGECONF_LOOP"
LOOPS = ("asyncio", "uvloop")
DEFAULT = "asyncio"


class LoopUnavailable(RuntimeError):
    pass


def use_loop(name: str | None = None) -> str:
    """Install the loop ``name`` (else the environment's choice, else DEFAULT); return it."""
    chosen = name or os.environ.get(ENV) or DEFAULT
    if chosen not in LOOPS:
        raise LoopUnavailable(f"unknown event loop {chosen!r}: one of {', '.join(LOOPS)}")
    if chosen == "uvloop":
        if uvloop is None:
            raise LoopUnavailable("uvloop is not installed: pip install 'bridgeconf[uvloop]'")
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    else:
        asyncio.set_event_loop_policy(None)
    os.environ[ENV] = chosen
    return chosen
