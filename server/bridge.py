"""``bridgeconf bridge`` and ``bridgeconf simulate``: headless bridge sites (aiortc) that join
a conference through join links, check in, publish a test pattern with their caption and a
tone, receive the program and the speaker, and report the frames they got."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from dataclasses import dataclass, field
from typing import Any

from media import MediaConfig
from media.headless import HeadlessBridge, MediaState
from scheduling import Phase

from .client import BridgeClient, link_parts


@dataclass
class JoinedBridge:
    """A headless bridge joined through its link: its protocol client, its media, and what the
    server told it."""

    client: BridgeClient
    bridge: HeadlessBridge
    link_quality: list[dict[str, Any]] = field(default_factory=list)
    media_states: list[str] = field(default_factory=list)
    """Every media state it reported, in order."""

    async def close(self) -> None:
        await self.bridge.stop()
        await self.client.close()


async def join_bridge(link: str, *, gather: str, media_file: str | None = None, caption: str | None = None,
                      poor_link: float = 0.0, publish: bool = True, keep: int = 0) -> JoinedBridge:
    """Join through ``link`` and start the media. The media follows the signaling: after every
    reconnect of the /ws (a server restart, say) the bridge offers again, and it reports how its
    media fares (``media_state``) apart from its /ws."""
    base, conference, token = link_parts(link)
    box: list[JoinedBridge] = []
    welcomes = 0
    sending: set[asyncio.Future[None]] = set()

    def on_message(msg: dict[str, Any]) -> None:
        nonlocal welcomes
        if msg.get("type") == "link_quality" and box:
            box[0].link_quality.append(msg)
        elif msg.get("type") == "welcome":
            welcomes += 1
            if box and welcomes > 1:
                box[0].bridge.renegotiate()   # a new /ws is a new peer on the server: offer again

    client = await BridgeClient(base, conference, token, on_message=on_message).connect()
    you = (client.welcome or {}).get("you", {})
    site = str(you.get("id", ""))
    bridge = HeadlessBridge(MediaConfig(gather_addresses=(gather,) if gather else ()), client.offer,
                            caption or str(you.get("name") or site), media_file=media_file, rx_loss=poor_link,
                            publish=publish, keep=keep)  # fmt: skip
    joined = JoinedBridge(client, bridge)

    def expect_media() -> bool:
        """Whether media should be reaching this site now: silence is a stall only then (the
        phases that carry media; the main bridge receives only another floor holder)."""
        s = client.state
        if s is None or s.phase not in (Phase.REHEARSAL, Phase.LIVE):
            return False
        if site == s.main_site:
            return s.phase is Phase.LIVE and any(code != site for code in s.floor.speakers)
        return True

    async def send(state: MediaState) -> None:
        if client.connected.is_set():
            with contextlib.suppress(Exception):   # the /ws dropped meanwhile: the next offer says it anew
                await client.send_raw({"type": "media_state", "state": state.value})

    def on_media_state(state: MediaState) -> None:
        joined.media_states.append(state.value)
        task = asyncio.ensure_future(send(state))
        sending.add(task)
        task.add_done_callback(sending.discard)

    bridge.expect_media = expect_media
    bridge.on_media_state = on_media_state
    try:
        await bridge.start()
    except BaseException:
        await client.close()
        raise
    box.append(joined)
    on_media_state(bridge.media_state)
    return joined


async def run_bridge(link: str, *, seconds: float, gather: str, headcount: int | None,
                     media_file: str | None = None, caption: str | None = None,
                     poor_link: float = 0.0) -> dict[str, Any]:
    """``poor_link``: drop that fraction of the packets received, as a poor link would; the
    server's ``link_quality`` messages (audio only and back) are in the report."""
    joined = await join_bridge(link, gather=gather, media_file=media_file, caption=caption, poor_link=poor_link)
    client = joined.client
    try:
        site = str((client.welcome or {}).get("you", {}).get("id", ""))
        if headcount is not None and client.state is not None and client.state.phase.value in ("rehearsal", "live"):
            await client.command("check_in", site=site, headcount=headcount)
        await asyncio.sleep(seconds)
        report = joined.bridge.report()
        report["link_quality"] = joined.link_quality
        report["media_states"] = joined.media_states
        return report
    finally:
        await joined.close()


async def simulate(links: list[str], *, seconds: float, gather: str) -> list[dict[str, Any]]:
    rng = random.Random(7)
    return list(await asyncio.gather(*(
        run_bridge(link, seconds=seconds, gather=gather, headcount=rng.randint(20, 200)) for link in links)))


def print_reports(reports: list[dict[str, Any]]) -> None:
    for r in reports:
        got = {slot: v.get("frames", 0) for slot, v in r.get("received", {}).items()}
        line = {"site": r.get("caption"), "seconds": r.get("seconds"), "frames_received": got}
        if r.get("link_quality"):
            line["link_quality"] = [{k: m.get(k) for k in ("audio_only", "reason", "loss")} for m in r["link_quality"]]
        print(json.dumps(line, ensure_ascii=False))
