"""``bridgeconf bridge`` and ``bridgeconf simulate``: headless bridge sites (aiortc) that join
a conference through join links, check in, publish a test pattern with their caption and a
tone, receive the program and the speaker, and report the frames they got.

``simulate`` rehearses a whole field on one PC: a few speaking sites loop a clip and a tone
encoded once for all of them (no encoding per site) and ask for the floor; the others only
receive, as most wards do; each checks in with its own headcount.

``bridge --share`` also shares a test-pattern screen (a second video track, ``sharer.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from media import MediaConfig
from media.headless import FileSource, HeadlessBridge, MediaState
from media.testsrc import ClipSource, EncodedSource, ToneSource, encode_clip, encode_tone
from scheduling import Phase

from .bridge_check import CHECK_SECONDS, measure
from .client import BridgeClient, link_parts
from .presenter import present_deck
from .sharer import share_screen

START_TIMEOUT_S = 60.0                     # signaling, offer and ICE of one site
CLIP = (320, 180, 15, 4.0, 250_000, 30)   # width, height, fps, seconds, bitrate, keyframe interval
JOINING_AT_ONCE = 8                        # ICE and DTLS handshakes in flight at a time


class Gate:
    """Holds every simulated site until all have joined (or failed), so that all are measured
    over the same window: joining 193 sites takes a while, and a site that joined first must
    not leave before the last one is in."""

    def __init__(self, count: int) -> None:
        self.left = count
        self.open = asyncio.Event()
        if count <= 0:
            self.open.set()

    def arrive(self) -> None:
        self.left -= 1
        if self.left <= 0:
            self.open.set()


def _window(before: dict[str, Any], after: dict[str, Any], seconds: float) -> dict[str, Any]:
    """``after`` with what was received counted from ``before`` only, rates over ``seconds``."""
    out = dict(after)
    out["seconds"] = round(seconds, 1)
    out["received"] = {}
    for slot, now in after.get("received", {}).items():
        then = before.get("received", {}).get(slot, {})
        diff = {k: now[k] - then.get(k, 0) for k in ("packets", "frames", "keyframes", "incomplete") if k in now}
        diff["fps"] = round(diff.get("frames", 0) / seconds, 1) if seconds > 0 else 0.0
        out["received"][slot] = diff
    return out


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

    def tell_state(self) -> None:
        """Report the media's state as it is now (once it started)."""
        if self.bridge.on_media_state is not None:
            self.bridge.on_media_state(self.bridge.media_state)


class _Signaling:
    """What a headless bridge's /ws hears that its media follows: after every reconnect (a
    server restart, say) the media offers again — a new socket is a new peer on the server —
    and the ``link_quality`` reports are kept."""

    def __init__(self) -> None:
        self.joined: JoinedBridge | None = None
        self.link_quality: list[dict[str, Any]] = []
        self._welcomes = 0

    def on_message(self, msg: dict[str, Any]) -> None:
        if msg.get("type") == "link_quality":
            self.link_quality.append(msg)
        elif msg.get("type") == "welcome":
            self._welcomes += 1
            if self.joined is not None and self._welcomes > 1:
                self.joined.bridge.renegotiate()


def _follow(client: BridgeClient, bridge: HeadlessBridge, site: str, signaling: _Signaling) -> JoinedBridge:
    """Wire ``bridge`` to ``client``: it offers again after a reconnect, and reports how its
    media fares (``media_state``) apart from the /ws."""
    joined = JoinedBridge(client, bridge, signaling.link_quality)
    sending: set[asyncio.Future[None]] = set()

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
    signaling.joined = joined
    return joined


async def join_bridge(link: str, *, gather: str, media_file: str | None = None, caption: str | None = None,
                      poor_link: float = 0.0, publish: bool = True, keep: int = 0, share: bool = False,
                      share_slot: bool = False) -> JoinedBridge:
    """Join through ``link`` and start the media, which follows the signaling (``_follow``).
    ``share``: offer the share slot with a test screen on it (paused until ``screen_on``);
    ``share_slot``: show the presenter's share."""
    base, conference, token = link_parts(link)
    signaling = _Signaling()
    client = await BridgeClient(base, conference, token, on_message=signaling.on_message).connect()
    you = (client.welcome or {}).get("you", {})
    site = str(you.get("id", ""))
    bridge = HeadlessBridge(MediaConfig(gather_addresses=(gather,) if gather else ()), client.offer,
                            caption or str(you.get("name") or site), media_file=media_file, rx_loss=poor_link,
                            publish=publish, keep=keep, share=share, share_slot=share_slot)  # fmt: skip
    joined = _follow(client, bridge, site, signaling)
    try:
        await bridge.start()
    except BaseException:
        await client.close()
        raise
    joined.tell_state()
    return joined


async def run_bridge(link: str, *, seconds: float, gather: str, headcount: int | None,
                     media_file: str | None = None, caption: str | None = None,
                     poor_link: float = 0.0, check: bool = False, present: str | None = None,
                     turn_every: float = 5.0, media: bool = True, publish: bool = True,
                     sources: tuple[EncodedSource, EncodedSource] | None = None,
                     ask_floor: bool = False, joining: asyncio.Semaphore | None = None,
                     gate: Gate | None = None, share: bool = False,
                     share_seconds: float | None = None) -> dict[str, Any]:
    """``poor_link``: drop that fraction of the packets received, as a poor link would; the
    server's ``link_quality`` messages (audio only and back) are in the report. ``check``: run
    the connectivity check first (bridge_check.py), report it, and put the verdict in the
    report under ``readiness``. ``present``: a PDF to upload and present, a page every
    ``turn_every`` seconds (``presenter.py``). ``media=False``: signaling only (no aiortc peer).
    ``publish`` false: receive only. ``sources``: what to publish, shared with other sites.
    ``joining``: how many sites may be connecting at once. ``gate``: wait for the other sites,
    then measure ``seconds`` from there. ``share``: share a test-pattern screen once the site
    may, for ``share_seconds`` (default: as long as it stays), and stop it before leaving —
    also when cancelled (``sharer.py``); what it did is the report's ``shared``."""
    base, conference, token = link_parts(link)
    signaling = _Signaling()
    arrived = False
    sharing: asyncio.Task[dict[str, Any]] | None = None
    leaving = asyncio.Event()
    try:
        async with joining or contextlib.nullcontext():
            client = await BridgeClient(base, conference, token, on_message=signaling.on_message).connect()
    except BaseException:
        if gate is not None:
            gate.arrive()
        raise
    try:
        you = (client.welcome or {}).get("you", {})
        site = str(you.get("id", ""))
        bridge = HeadlessBridge(MediaConfig(gather_addresses=(gather,) if gather else ()), client.offer,
                                caption or str(you.get("name") or site), media_file=media_file, rx_loss=poor_link,
                                publish=publish, sources=sources, share=share and media)
        joined = _follow(client, bridge, site, signaling)
        if media:
            async with joining or contextlib.nullcontext():
                await asyncio.wait_for(bridge.start(), START_TIMEOUT_S)   # a site that cannot join says so
            joined.tell_state()
        if share and media:
            hold = min(seconds, share_seconds) if share_seconds is not None else seconds
            sharing = asyncio.create_task(share_screen(client, bridge, site, seconds=hold, leaving=leaving),
                                          name="share-screen")
        if check:
            rates, figures = await measure(bridge.client, min(CHECK_SECONDS, max(seconds, 1.0)))
            ack = await client.command("report_readiness", site=site, **figures)
            kept = client.state.readiness.get(site) if client.state is not None else None
            readiness: dict[str, Any] = {**figures, **rates, "seq": ack.seq}
            if kept is not None:
                readiness |= {"status": kept.status, "problems": list(kept.problems)}
        phase = client.state.phase.value if client.state is not None else ""
        if headcount is not None and phase in ("rehearsal", "live"):
            await client.command("check_in", site=site, headcount=headcount)
        floor = client.state.floor if client.state is not None else None
        if ask_floor and phase == "live" and floor is not None and site not in floor.speakers \
                and all(r.site != site for r in floor.queue):
            await client.command("request_floor", site=site, topic="Mô phỏng: xin phát biểu")
        presented = None
        if present is not None:
            presented = await present_deck(client, base, token, site, Path(present), seconds=seconds,
                                           every_s=turn_every)
        elif gate is None:
            await asyncio.sleep(0 if check else seconds)
        if gate is None:
            report = bridge.report() if media else {"caption": caption or str(you.get("name") or site), "received": {}}
        else:
            arrived = True
            gate.arrive()
            await gate.open.wait()
            before = bridge.report()
            started = time.monotonic()
            await asyncio.sleep(seconds)
            report = _window(before, bridge.report(), time.monotonic() - started)
        report["link_quality"] = joined.link_quality
        report["media_states"] = joined.media_states
        if check:
            report["readiness"] = readiness
        if presented is not None:
            report["presented"] = presented
        if sharing is not None:
            leaving.set()
            report["shared"] = await sharing
        if media:
            await bridge.stop()
        return report
    finally:
        if gate is not None and not arrived:
            gate.arrive()
        if sharing is not None and not sharing.done():   # cancelled or failed: stop the share first
            leaving.set()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(sharing, 10)
        await client.close()




def shared_sources(media_file: str | None) -> tuple[Any, Any]:
    """Make (audio, video) sources for one speaking site from what is encoded once: the file's
    packets, or a test clip and a tone (the encoded data are shared; each source has its own
    pace and position)."""
    if media_file:
        video_file = FileSource(media_file, "video")
        try:
            audio_file: EncodedSource = FileSource(media_file, "audio")
        except ValueError:
            audio_file = ToneSource(packets=_tone())
        return audio_file, video_file
    width, height, fps, secs, bitrate, keyint = CLIP
    if not _clip:
        _clip.extend(encode_clip(width, height, fps, secs, bitrate, keyint))
    return ToneSource(packets=_tone()), ClipSource(_clip, fps)


_clip: list[tuple[bytes, bool]] = []
_tones: list[list[tuple[bytes, int]]] = []


def _tone() -> list[tuple[bytes, int]]:
    if not _tones:
        _tones.append(encode_tone(440.0))
    return _tones[0]


async def simulate(links: list[str], *, seconds: float, gather: str, speaking: int = 3,
                   media_file: str | None = None, headcounts: list[int] | None = None,
                   main_link: str | None = None) -> list[dict[str, Any]]:
    """Every link a site: the first ``speaking`` publish (and ask for the floor when the
    conference is live), the others receive only. Headcounts vary from site to site.
    ``main_link``: the main bridge too, publishing the program (when no browser does)."""
    rng = random.Random(7)
    joining = asyncio.Semaphore(JOINING_AT_ONCE)
    gate = Gate(len(links) + (main_link is not None))
    runs = []
    if main_link is not None:
        runs.append(run_bridge(main_link, seconds=seconds, gather=gather, headcount=None,
                               sources=shared_sources(media_file), joining=joining, gate=gate))
        links = [main_link, *links]
    for i, link in enumerate(links[len(runs):]):
        talks = i < speaking
        headcount = headcounts[i] if headcounts and i < len(headcounts) else rng.randint(20, 200)
        runs.append(run_bridge(link, seconds=seconds, gather=gather, headcount=headcount, publish=talks,
                               sources=shared_sources(media_file) if talks else None, ask_floor=talks,
                               joining=joining, gate=gate))
    results = await asyncio.gather(*runs, return_exceptions=True)
    reports = [r if isinstance(r, dict) else {"caption": links[i].rsplit("/", 1)[-1][:12], "error": repr(r)[:300]}
               for i, r in enumerate(results)]
    if main_link is not None:
        reports[0]["main"] = True   # it sends the program; it does not receive it
    return reports


def summary(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One line for a rehearsal: how many sites connected and what they received."""
    ok = [r for r in reports if not r.get("error") and not r.get("main")]
    def rates(slot: str) -> list[float]:
        return [r["received"][slot]["fps"] for r in ok if "fps" in r.get("received", {}).get(slot, {})]
    fps, audio = rates("program/video"), rates("program/audio")
    sites = [r for r in reports if not r.get("main")]
    return {"sites": len(sites), "connected": sum(1 for r in ok if r.get("state") == "connected"),
            "failed": sum(1 for r in sites if r.get("error")),
            "publishing": sum(1 for r in ok if r.get("sent")),
            "program_fps_median": round(statistics.median(fps), 1) if fps else None,
            "program_fps_min": min(fps) if fps else None,
            "program_audio_frames_per_s_median": round(statistics.median(audio), 1) if audio else None}


def print_reports(reports: list[dict[str, Any]], *, summarize: bool = False) -> None:
    for r in reports:
        if r.get("error"):
            print(json.dumps({"site": r.get("caption"), "error": r["error"]}, ensure_ascii=False))
            continue
        got = {slot: v.get("frames", 0) for slot, v in r.get("received", {}).items()}
        line = {"site": r.get("caption"), "seconds": r.get("seconds"), "frames_received": got}
        if r.get("readiness"):
            line["readiness"] = r["readiness"]
        if r.get("presented"):
            line["presented"] = r["presented"]
        if r.get("shared"):
            line["shared"] = r["shared"]
        if r.get("state") not in (None, "connected"):
            line["state"] = r["state"]   # the media link at the end: new, connecting, failed, closed
        if r.get("link_quality"):
            line["link_quality"] = [{k: m.get(k) for k in ("audio_only", "reason", "loss")} for m in r["link_quality"]]
        print(json.dumps(line, ensure_ascii=False))
    if summarize:
        print(json.dumps({"summary": summary(reports)}, ensure_ascii=False))
