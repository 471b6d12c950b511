"""Relays between forwarders (media/relay.py): a publisher on forwarder A, sites on B.

Real aiortc peers on 127.0.0.1, no STUN; two Forwarders in one process, then two
WorkerForwarders (two processes). A small UDP relay in the middle (:class:`LossyWire`)
plays the network where a test needs loss or an outage.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from media_helpers import LOOPBACK, decode_vp8, signal_to, wait_for

from media import rtp
from media.client import SiteClient
from media.errors import ErrorCode, MediaError
from media.forwarder import Forwarder
from media.layout import SlotRole
from media.relay import NACK_MAX_GAP, InStream, RelayLink, relay_ssrc
from media.routing import PublishHint, VideoSend
from media.streams import Source
from media.testsrc import PatternSource, ToneSource
from media.worker import WorkerForwarder

RELAYING = replace(LOOPBACK, relay_host="127.0.0.1", relay_timeout_s=1.0)


@pytest.fixture
async def pair() -> AsyncIterator[tuple[Forwarder, Forwarder]]:
    a, b = Forwarder(RELAYING), Forwarder(RELAYING)
    await a.start()
    await b.start()
    yield a, b
    await a.close()
    await b.close()


def publisher(fwd: Any, peer_id: str, share: bool = False, caption: str = "") -> SiteClient:
    return SiteClient(
        fwd.config, signal_to(fwd, peer_id), name=peer_id, capture=True,
        audio=ToneSource(keep=400), video=PatternSource(caption or peer_id, 160, 96, fps=15, keep=400),
        share=PatternSource("slides", 160, 96, fps=10, keep=200) if share else None,
    )  # fmt: skip


def viewer(fwd: Any, peer_id: str, share_slot: bool = False) -> SiteClient:
    return SiteClient(fwd.config, signal_to(fwd, peer_id), name=peer_id, capture=True, share_slot=share_slot)


def links(peer_id: str, origin: Any, edge: Any, via: tuple[tuple[str, int], tuple[str, int]] | None = None,
          link_id: str = "conf-1:main@B") -> tuple[RelayLink, RelayLink]:  # fmt: skip
    """(origin's link, edge's link); ``via``: the addresses each side sends to instead."""
    key = os.urandom(30)
    to_edge, to_origin = via or (edge.relay_address, origin.relay_address)
    return RelayLink(link_id, peer_id, to_edge, key), RelayLink(link_id, peer_id, to_origin, key)


def video_output_ssrc(fwd: Forwarder, site: str) -> int:
    return fwd._peers[site].outputs[(SlotRole.MAIN, 0, "video")].ssrc


async def test_sites_on_the_edge_get_the_publishers_own_streams(pair: tuple[Forwarder, Forwarder]) -> None:
    a, b = pair
    assert a.relay_address is not None and b.relay_address is not None
    main = publisher(a, "main", share=True)
    subs = [viewer(b, "site-1", share_slot=True), viewer(b, "site-2")]
    local = viewer(a, "site-0")
    states: list[tuple[str, str]] = []
    b.relay_state_changed = lambda link, state: states.append((link, state))
    levels: list[tuple[str, int]] = []
    b.on_audio_level = lambda peer, level: levels.append((peer, level))
    try:
        await asyncio.gather(*(s.connect() for s in [main, local, *subs]))
        out, into = links("main", a, b)
        await a.open_relay_out(out)
        await a.open_relay_out(out)  # idempotent
        await b.open_relay_in(into)
        for f in (a, b):
            f.steer("main", [], [])
            f.set_share("main")
        await wait_for(lambda: all(s.counter("program/video").frames >= 12 and s.counter("program/audio").frames >= 40
                                   for s in subs), what="the program through the relay")  # fmt: skip
        await wait_for(lambda: subs[0].counter("share/video").frames >= 3, what="the share through the relay")
        video_sent, audio_sent = set(main.video.sent), set(main.audio.sent)  # type: ignore[union-attr]
        for s in subs:
            video, audio = s.counter("program/video"), s.counter("program/audio")
            assert video.first_frame_keyframe, "an edge site starts on a keyframe"
            assert all(f.data in video_sent for f in video.captured), "the publisher's own frames, not re-encoded"
            assert all(f.data in audio_sent for f in audio.captured), "the publisher's own Opus packets"
            assert decode_vp8(video.captured[0].data), "the first frame decodes on a fresh decoder"
            assert video.gaps == 0 and audio.gaps == 0 and s.unknown_packets == 0, "one SSRC, no sequence gap"
        share = subs[0].counter("share/video")
        assert share.first_frame_keyframe and all(f.data in set(main.share.sent) for f in share.captured)  # type: ignore[union-attr]
        assert local.counter("program/video").frames > 0, "A's own sites are served as before"
        assert ("conf-1:main@B", "flowing") in states
        await wait_for(lambda: any(p == "main" and lvl < 127 for p, lvl in levels), what="the level on the edge")

        # a site on B asks for a keyframe: the request reaches the publisher on A
        await asyncio.sleep(0.4)
        before = main.keyframe_requests
        assert subs[1].link is not None
        subs[1].link.send_rtcp(rtp.pli(4321, video_output_ssrc(b, "site-2")))
        await wait_for(lambda: main.keyframe_requests > before, what="the PLI upstream")
        assert a.relay_stats()["links"]["conf-1:main@B"]["plis"] >= 1

        # a packet from an address that is not the link's remote: dropped and counted
        stray = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        stray.bind(("127.0.0.1", 0))
        ssrc = relay_ssrc("conf-1:main@B", "video")
        forged = bytes([0x80, 96, 0, 1, 0, 0, 0, 1]) + ssrc.to_bytes(4, "big") + b"\0" * 40
        dropped = b.relay_stats()["dropped_unknown"]
        stray.sendto(forged, b.relay_address)
        stray.close()
        await wait_for(lambda: b.relay_stats()["dropped_unknown"] == dropped + 1, what="the stray packet counted")
        # from the right address but not authenticated by the link's key: dropped and counted too
        # (with a sequence number ahead of the stream's, else SRTP's replay check refuses it first)
        highest = b._relays.links["conf-1:main@B"].streams[ssrc].highest  # type: ignore[union-attr]
        ahead = ((highest or 0) + 50) & 0xFFFF
        forged = forged[:2] + ahead.to_bytes(2, "big") + forged[4:]
        assert a._relays.sock is not None
        a._relays.sock.sendto(forged, b.relay_address)
        await wait_for(lambda: b.relay_stats()["links"]["conf-1:main@B"]["auth_failed"] == 1, what="auth failure")
        assert b.relay_stats()["dropped_unknown"] == dropped + 2
        frames = subs[0].counter("program/video").frames
        await wait_for(lambda: subs[0].counter("program/video").frames > frames + 3, what="the program goes on")

        # closing the relay stops it on both sides
        await b.close_relay("conf-1:main@B")
        await a.close_relay("conf-1:main@B")
        await b.close_relay("conf-1:main@B")  # idempotent
        assert a.relay_stats()["links"] == {} and b.relay_stats()["links"] == {}
        await asyncio.sleep(0.3)
        packets = subs[0].counter("program/video").packets
        await asyncio.sleep(0.5)
        assert subs[0].counter("program/video").packets == packets, "nothing after close_relay"
        assert local.counter("program/video").frames > 0

        # the key of a closed link is never used for another link ...
        with pytest.raises(MediaError) as info:
            await b.open_relay_in(replace(into, link_id="conf-1:main@B/other"))
        assert info.value.code is ErrorCode.BAD_ARGUMENT
        # ... but the very same link may open again: it continues its SRTP numbering
        await b.open_relay_in(into)
        await a.open_relay_out(out)
        frames = subs[0].counter("program/video").frames
        await wait_for(lambda: subs[0].counter("program/video").frames >= frames + 5, what="the re-opened link")
        assert subs[0].counter("program/video").gaps == 0
        assert b.relay_stats()["links"]["conf-1:main@B"]["auth_failed"] == 1, "nothing refused since the forgery"
    finally:
        for s in [main, local, *subs]:
            await s.close()


async def test_the_publisher_moves_to_another_origin_and_edge_sites_see_one_stream(
    pair: tuple[Forwarder, Forwarder],
) -> None:
    a, b = pair
    c = Forwarder(RELAYING)
    await c.start()
    first, sub = publisher(a, "main"), viewer(b, "site-1")
    second = publisher(c, "main", caption="main, on C")  # the same site, reconnected to process C (its old process died)
    try:
        await asyncio.gather(first.connect(), sub.connect())
        out, into = links("main", a, b, link_id="conf-1:main@B/1")
        await b.open_relay_in(into)
        await a.open_relay_out(out)
        for f in (a, b, c):
            f.steer("main", [], [])
        await wait_for(lambda: sub.counter("program/video").frames >= 10, what="the program from A")
        await first.close()
        await a.remove_peer("main")
        await second.connect()
        out2, into2 = links("main", c, b, link_id="conf-1:main@B/2")
        await b.open_relay_in(into2)  # the newer link feeds "main" on B from now on
        await c.open_relay_out(out2)
        await b.close_relay("conf-1:main@B/1")
        await a.close_relay("conf-1:main@B/1")
        video = sub.counter("program/video")
        sent = second.video.sent  # type: ignore[union-attr]
        await wait_for(lambda: sum(f.data in set(sent) for f in video.captured) >= 10, what="the program from C")
        after = [f for f in video.captured if f.data in set(sent)]
        assert after[0].keyframe, "the new origin's stream starts on a keyframe"
        assert video.gaps == 0 and sub.counter("program/audio").gaps == 0, "one continuous stream for the site"
        assert sub.unknown_packets == 0
    finally:
        for s in (first, second, sub):
            await s.close()
        await c.close()


def test_the_edge_tracks_gaps_for_nacks() -> None:
    src = Source("main", "video", None, 96, 90000, "VP8", 1)  # type: ignore[arg-type]
    stream = InStream("video", 7, src)
    assert stream.accept(65534) == (True, [])
    assert stream.accept(65535) == (True, [])
    assert stream.accept(2) == (True, [0, 1]), "a gap across the wrap is NACKed at once"
    assert stream.accept(2) == (False, []) and stream.duplicates == 1
    assert stream.accept(1) == (True, []) and stream.recovered == 1, "a NACKed packet arrives"
    assert stream.missing == {0: 1}
    ok, nack = stream.accept(2 + NACK_MAX_GAP + 1)
    assert ok and nack is not None and len(nack) == NACK_MAX_GAP, "the longest gap still NACKed"
    top = 2 + NACK_MAX_GAP + 1
    assert stream.accept(top + NACK_MAX_GAP + 2) == (True, None), "too long to NACK: a keyframe instead"
    assert stream.lost == NACK_MAX_GAP + 1


async def test_bad_relay_links_are_refused_with_a_code() -> None:
    key = os.urandom(30)
    for bad in (
        lambda: RelayLink("", "main", ("127.0.0.1", 5000), key),
        lambda: RelayLink("x y", "main", ("127.0.0.1", 5000), key),
        lambda: RelayLink("l", "main", ("example.org", 5000), key),
        lambda: RelayLink("l", "main", ("127.0.0.1", 0), key),
        lambda: RelayLink("l", "main", ("127.0.0.1", 5000), key[:16]),
        lambda: RelayLink.from_json({"link_id": "l", "peer_id": "main", "remote": ["127.0.0.1"], "key": key.hex()}),
    ):
        with pytest.raises(MediaError) as info:
            bad()
        assert info.value.code is ErrorCode.BAD_ARGUMENT
    off = Forwarder(LOOPBACK)  # relays off: today's default
    await off.start()
    try:
        assert off.relay_address is None
        with pytest.raises(MediaError) as info:
            await off.open_relay_in(RelayLink("l", "main", ("127.0.0.1", 5000), key))
        assert info.value.code is ErrorCode.BAD_ARGUMENT
        await off.close_relay("l")  # idempotent, even here
    finally:
        await off.close()


async def test_a_relayed_publisher_is_asked_for_video_and_fills_a_preview_on_the_edge(
    pair: tuple[Forwarder, Forwarder],
) -> None:
    a, b = pair
    hints: dict[str, PublishHint] = {}
    a.on_publish_hint = lambda peer, hint: hints.__setitem__(peer, hint)
    ward = publisher(a, "ward-7")
    chair = SiteClient(b.config, signal_to(b, "chair"), name="chair", capture=True, preview_slots=2)
    try:
        await asyncio.gather(ward.connect(), chair.connect())
        await wait_for(lambda: "ward-7" in hints, what="the first hint")
        assert hints["ward-7"] == PublishHint(False, VideoSend.OFF), "nobody shows it on A"
        out, into = links("ward-7", a, b, link_id="conf-1:ward-7@B")
        await b.open_relay_in(into)
        await a.open_relay_out(out)
        assert hints["ward-7"] == PublishHint(False, VideoSend.PREVIEW), "a relay out counts as a viewer"
        b.set_previews("chair", ["ward-7"])
        await wait_for(lambda: chair.counter("preview-0/video").frames >= 5, what="the preview through the relay")
        assert chair.counter("preview-0/video").first_frame_keyframe
        await a.close_relay("conf-1:ward-7@B")
        assert hints["ward-7"] == PublishHint(False, VideoSend.OFF)
    finally:
        for s in (ward, chair):
            await s.close()


async def test_the_edge_tells_a_quiet_publisher_from_a_gone_origin() -> None:
    config = replace(RELAYING, rtcp_interval=0.3)  # keep-alives every 0.3 s, stalled after 1 s
    a, b = Forwarder(config), Forwarder(config)
    await a.start()
    await b.start()
    states: list[str] = []
    b.relay_state_changed = lambda link, state: states.append(state)
    try:
        out, into = links("nobody-yet", a, b)  # a publisher that is not connected anywhere
        await b.open_relay_in(into)
        await wait_for(lambda: states == ["stalled"], what="stalled: the origin never answered")
        await a.open_relay_out(out)
        await wait_for(lambda: states == ["stalled", "flowing"], what="the origin's keep-alives")
        await asyncio.sleep(1.5)
        assert states == ["stalled", "flowing"], "no media, but the origin is there: not stalled"
        await a.close_relay("conf-1:main@B")
        await wait_for(lambda: states == ["stalled", "flowing", "stalled"], what="stalled: the origin is gone")
        assert b.relay_stats()["links"]["conf-1:main@B"]["state"] == "stalled"
    finally:
        await a.close()
        await b.close()


class LossyWire:
    """Two UDP ports between origin and edge: what the origin sends to ``to_edge`` goes on to
    the edge, what the edge sends to ``to_origin`` goes back; ``drop_every`` drops every n-th
    new media packet on the way to the edge (never a retransmission), ``cut`` drops everything."""

    def __init__(self, origin: tuple[str, int], edge: tuple[str, int], drop_every: int = 0) -> None:
        self.origin, self.edge, self.drop_every = origin, edge, drop_every
        self.cut = False
        self.dropped = 0
        self._seen: set[bytes] = set()
        self._count = 0
        self.a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for s in (self.a, self.b):
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
        self.to_edge = self.a.getsockname()
        self.to_origin = self.b.getsockname()
        loop = asyncio.get_running_loop()
        loop.add_reader(self.a.fileno(), self._from_origin)
        loop.add_reader(self.b.fileno(), self._from_edge)

    def _from_origin(self) -> None:
        data, _ = self.a.recvfrom(4096)
        if self.cut:
            return
        if self.drop_every and not 192 <= data[1] <= 223:
            key = data[2:4] + data[8:12]
            if key not in self._seen:
                self._seen.add(key)
                self._count += 1
                if self._count % self.drop_every == 0:
                    self.dropped += 1
                    return
        self.b.sendto(data, self.edge)

    def _from_edge(self) -> None:
        data, _ = self.b.recvfrom(4096)
        self.a.sendto(data, self.origin)

    def close(self) -> None:
        loop = asyncio.get_running_loop()
        for s in (self.a, self.b):
            loop.remove_reader(s.fileno())
            s.close()


async def test_lost_packets_are_repaired_and_an_outage_does_not_kill_the_link(
    pair: tuple[Forwarder, Forwarder],
) -> None:
    a, b = pair
    assert a.relay_address is not None and b.relay_address is not None
    wire = LossyWire(a.relay_address, b.relay_address, drop_every=10)
    main, sub = publisher(a, "main"), viewer(b, "site-1")
    states: list[str] = []
    b.relay_state_changed = lambda link, state: states.append(state)
    try:
        await asyncio.gather(main.connect(), sub.connect())
        out, into = links("main", a, b, via=(wire.to_edge, wire.to_origin))
        await a.open_relay_out(out)
        await b.open_relay_in(into)
        a.steer("main", [], [])
        b.steer("main", [], [])
        await wait_for(lambda: sub.counter("program/video").frames >= 20 and wire.dropped >= 10, timeout=8,
                       what="the program over a lossy wire")
        await asyncio.sleep(0.3)  # the last NACKs answered
        link = b.relay_stats()["links"]["conf-1:main@B"]
        assert link["nacks"] >= wire.dropped - 2
        assert link["recovered"] >= wire.dropped - 2, f"NACKs repair the losses: {link}"
        assert a.relay_stats()["links"]["conf-1:main@B"]["retransmits"] >= link["recovered"]

        # two seconds of nothing from the origin: stalled, then flowing again, frames again
        wire.drop_every = 0
        wire.cut = True
        await asyncio.sleep(2.0)
        assert states[-1] == "stalled", states
        frames = sub.counter("program/video").frames
        keyframes = sub.counter("program/video").keyframes
        wire.cut = False
        await wait_for(lambda: sub.counter("program/video").keyframes > keyframes, timeout=5,
                       what="a keyframe asked after the outage")
        frames = sub.counter("program/video").frames
        await wait_for(lambda: sub.counter("program/video").frames >= frames + 10, timeout=5, what="frames after the outage")
        assert states[-1] == "flowing"
        assert b.relay_stats()["links"]["conf-1:main@B"]["plis"] >= 1
    finally:
        wire.close()
        for s in (main, sub):
            await s.close()


def output_ssrc(site: SiteClient, slot: str) -> int:
    """The SSRC the forwarder's answer gave one of this site's slots."""
    counter = site.counter(slot)
    return next(ssrc for ssrc, c in site._by_ssrc.items() if c is counter)


async def test_two_worker_processes_relay_and_survive_a_frozen_origin() -> None:
    a = WorkerForwarder(RELAYING, stats_interval=0.2)
    b = WorkerForwarder(RELAYING, stats_interval=0.2)
    await asyncio.gather(a.start(), b.start())
    states: list[str] = []
    b.relay_state_changed = lambda link, state: states.append(state)
    main = publisher(a, "main")
    subs = [viewer(b, "site-1"), viewer(b, "site-2")]
    try:
        assert a.pid != b.pid and a.relay_address is not None and b.relay_address is not None
        await asyncio.gather(*(s.connect() for s in [main, *subs]))
        out, into = links("main", a, b)
        await a.open_relay_out(out)
        await b.open_relay_in(into)
        for w in (a, b):
            w.steer("main", [], [])
        await wait_for(lambda: all(s.counter("program/video").frames >= 10 and s.counter("program/audio").frames >= 30
                                   for s in subs), what="the program from process A at process B's sites")  # fmt: skip
        sent = set(main.video.sent)  # type: ignore[union-attr]
        for s in subs:
            video = s.counter("program/video")
            assert video.first_frame_keyframe and all(f.data in sent for f in video.captured)
            assert video.gaps == 0 and s.counter("program/audio").gaps == 0
        assert states == ["flowing"]

        # a keyframe request from a site on B reaches the publisher on A, through both processes
        await asyncio.sleep(0.4)
        before = main.keyframe_requests
        assert subs[0].link is not None
        subs[0].link.send_rtcp(rtp.pli(4321, output_ssrc(subs[0], "program/video")))
        await wait_for(lambda: main.keyframe_requests > before, what="the PLI from B to A")

        # the origin process frozen for two seconds: stalled, then it resumes by itself
        assert a.pid is not None
        os.kill(a.pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(2.0)
        finally:
            os.kill(a.pid, signal.SIGCONT)
        assert states[-1] == "stalled", states
        frames = [s.counter("program/video").frames for s in subs]
        await wait_for(lambda: all(s.counter("program/video").frames >= f + 10 for s, f in zip(subs, frames, strict=True)),
                       what="frames after the origin's pause")  # fmt: skip
        assert states[-1] == "flowing"
        stats = await b.fetch_relay_stats()
        link = stats["links"]["conf-1:main@B"]
        assert link["packets"] > 0 and link["auth_failed"] == 0 and link["state"] == "flowing", stats

        await b.close_relay("conf-1:main@B")
        await a.close_relay("conf-1:main@B")
        assert (await a.fetch_relay_stats())["links"] == {} and (await b.fetch_relay_stats())["links"] == {}
    finally:
        for s in [main, *subs]:
            await s.close()
        await asyncio.gather(a.close(), b.close())
