"""Several ``bridgeconf serve --redis`` processes with their media planes on loopback (relays on),
the demo conference open, and its join links pointed at whichever process (or load balancer)
a test wants: the multi-process media tests and bench/media_cluster.py share this."""

from __future__ import annotations

import asyncio
import re
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from server.tools import demo
from server.tools.bridge import JoinedBridge, join_bridge
from server.tools.client import ApiClient, BridgeClient, link_parts

MAIN = demo.MAIN
CONFERENCE = demo.CONFERENCE


@dataclass
class Cluster:
    bases: list[str]                 # each process's base URL
    admin: ApiClient
    chair: ApiClient
    password: str
    tokens: dict[str, str]           # site code -> join token
    closers: list[Any] = field(default_factory=list)

    def wards(self, n: int) -> list[str]:
        return sorted(code for code in self.tokens if code != MAIN)[:n]

    def link(self, site: str, base: str) -> str:
        return f"{base}/join/{self.tokens[site]}"

    async def command(self, type_: str, **fields: Any) -> Any:
        return await self.chair.call("POST", f"/conferences/{CONFERENCE}/commands", {"type": type_, **fields})

    async def bridge(self, site: str, base: str, *, publish: bool = True, keep: int = 2) -> JoinedBridge:
        joined = await join_bridge(self.link(site, base), gather="127.0.0.1", caption=site, publish=publish, keep=keep)
        self.closers.append(joined)
        return joined

    async def staff(self, base: str, told: list[dict[str, Any]]) -> BridgeClient:
        """The chair's protocol client on ``base``, keeping every message it is told."""
        client = await BridgeClient(base, CONFERENCE, self.chair.token or "", on_message=told.append).connect()
        self.closers.append(client)
        return client

    async def close(self) -> None:
        for c in reversed(self.closers):
            await c.close()
        await self.admin.close()
        await self.chair.close()


async def open_cluster(bases: list[str], password: str) -> Cluster:
    """The demo conference, opened by the chair, through the first process."""
    admin = await ApiClient.login(bases[0], "admin", password)
    chair = await ApiClient.login(bases[0], "chutri", password)
    rows = (await admin.call("GET", f"/conferences/{CONFERENCE}/links"))["links"]
    tokens = {r["site"]: link_parts(r["url"])[2] for r in rows}
    cluster = Cluster(bases, admin, chair, password, tokens)
    await cluster.command("open_conference")
    return cluster


def frames(joined: JoinedBridge, slot: str) -> int:
    """Frames of ``slot`` on the bridge's current peer (a new one after each re-offer)."""
    counter = joined.bridge.client.counters.get(slot)
    return int(counter.frames) if counter is not None else 0


def metric(base: str, name: str, **labels: str) -> float:
    """One sample of a process's /metrics (0 when absent)."""
    text = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        found = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if found and ",".join(sorted((found.group(1) or "").split(","))) == want:
            return float(found.group(2))
    return 0.0


async def grows(joined: JoinedBridge, slot: str, by: int, timeout: float, what: str) -> float:
    """Wait until ``slot``'s frames at ``joined`` grew by ``by``; the seconds it took."""
    loop = asyncio.get_running_loop()
    start, first, peer = loop.time(), frames(joined, slot), joined.bridge.client
    while frames(joined, slot) < first + by:
        if joined.bridge.client is not peer:         # it offered again: a new peer counts from 0
            first, peer = 0, joined.bridge.client
        if loop.time() - start > timeout:
            raise AssertionError(f"{what}: {slot} grew {frames(joined, slot) - first} < {by} frames in {timeout} s")
        await asyncio.sleep(0.05)
    return loop.time() - start
