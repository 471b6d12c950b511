"""``bridgeconf bridge`` and ``bridgeconf simulate``: headless bridge sites (aiortc) that join
a conference through join links, check in, publish a test pattern with their caption and a
tone, receive the program and the speaker, and report the frames they got."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

from media import MediaConfig
from media.headless import HeadlessBridge

from .bridge_check import CHECK_SECONDS, measure
from .client import BridgeClient, link_parts
from .presenter import present_deck


async def run_bridge(link: str, *, seconds: float, gather: str, headcount: int | None,
                     media_file: str | None = None, caption: str | None = None,
                     poor_link: float = 0.0, check: bool = False, present: str | None = None,
                     turn_every: float = 5.0, media: bool = True) -> dict[str, Any]:
    """``poor_link``: drop that fraction of the packets received, as a poor link would; the
    server's ``link_quality`` messages (audio only and back) are in the report. ``check``: run
    the connectivity check first (bridge_check.py), report it, and put the verdict in the
    report under ``readiness``. ``present``: a PDF to upload and present, a page every
    ``turn_every`` seconds (``presenter.py``). ``media=False``: signaling only (no aiortc peer)."""
    base, conference, token = link_parts(link)
    link_quality: list[dict[str, Any]] = []

    def on_message(msg: dict[str, Any]) -> None:
        if msg.get("type") == "link_quality":
            link_quality.append(msg)

    client = await BridgeClient(base, conference, token, on_message=on_message).connect()
    try:
        you = (client.welcome or {}).get("you", {})
        site = str(you.get("id", ""))
        bridge = HeadlessBridge(MediaConfig(gather_addresses=(gather,) if gather else ()), client.offer,
                                caption or str(you.get("name") or site), media_file=media_file, rx_loss=poor_link)
        if media:
            await bridge.start()
        if check:
            rates, figures = await measure(bridge.client, min(CHECK_SECONDS, max(seconds, 1.0)))
            ack = await client.command("report_readiness", site=site, **figures)
            kept = client.state.readiness.get(site) if client.state is not None else None
            readiness: dict[str, Any] = {**figures, **rates, "seq": ack.seq}
            if kept is not None:
                readiness |= {"status": kept.status, "problems": list(kept.problems)}
        if headcount is not None and client.state is not None and client.state.phase.value in ("rehearsal", "live"):
            await client.command("check_in", site=site, headcount=headcount)
        if present is not None:
            presented = await present_deck(client, base, token, site, Path(present), seconds=seconds,
                                           every_s=turn_every)
        else:
            presented = None
            await asyncio.sleep(0 if check else seconds)
        report = bridge.report() if media else {"caption": caption or str(you.get("name") or site), "received": {}}
        report["link_quality"] = link_quality
        if check:
            report["readiness"] = readiness
        if presented is not None:
            report["presented"] = presented
        if media:
            await bridge.stop()
        return report
    finally:
        await client.close()


async def simulate(links: list[str], *, seconds: float, gather: str) -> list[dict[str, Any]]:
    rng = random.Random(7)
    return list(await asyncio.gather(*(
        run_bridge(link, seconds=seconds, gather=gather, headcount=rng.randint(20, 200)) for link in links)))


def print_reports(reports: list[dict[str, Any]]) -> None:
    for r in reports:
        got = {slot: v.get("frames", 0) for slot, v in r.get("received", {}).items()}
        line = {"site": r.get("caption"), "seconds": r.get("seconds"), "frames_received": got}
        if r.get("readiness"):
            line["readiness"] = r["readiness"]
        if r.get("presented"):
            line["presented"] = r["presented"]
        if r.get("link_quality"):
            line["link_quality"] = [{k: m.get(k) for k in ("audio_only", "reason", "loss")} for m in r["link_quality"]]
        print(json.dumps(line, ensure_ascii=False))
