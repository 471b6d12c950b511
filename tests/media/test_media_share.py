"""The screen share on the lean path (issue 12, the forwarder's part): a presenter's second
video stream, marked ``a=content:slides`` in the offer, goes only to the sites that offered a
share slot and receive video — first a keyframe, the presenter's own encoded frames, one
outgoing SSRC whose numbering runs on across a stop and a new start — and the viewers'
keyframe requests reach the presenter's share, rate-limited."""

from __future__ import annotations

import asyncio

import pytest
from media_helpers import LOOPBACK, decode_vp8, signal_to, site, wait_for

from media import rtp
from media.client import SiteClient
from media.errors import MediaError
from media.forwarder import Forwarder
from media.layout import SlotRole, mark_share, parse_offer
from media.routing import PublishHint, VideoSend
from media.testsrc import PatternSource


def viewer(fwd: Forwarder, name: str, share_slot: bool = True) -> SiteClient:
    return SiteClient(fwd.config, signal_to(fwd, name), share_slot=share_slot, capture=True, name=name)  # type: ignore[arg-type]


async def test_the_share_reaches_only_the_sites_that_show_it_keyframe_first(
    fwd: Forwarder, sites: list[SiteClient]
) -> None:
    hints: dict[str, PublishHint] = {}
    fwd.on_publish_hint = lambda peer, hint: hints.__setitem__(peer, hint)
    screen = PatternSource("slides", width=320, height=180, fps=10, bitrate=200_000, keep=400)
    main = site(fwd, "main")
    main = SiteClient(fwd.config, signal_to(fwd, "main"), audio=main.audio, video=main.video, share=screen,  # type: ignore[arg-type]
                      capture=True, name="main")  # fmt: skip
    shows, plain, audio_only = viewer(fwd, "site-1"), viewer(fwd, "site-2", share_slot=False), viewer(fwd, "site-3")
    sites.extend([main, shows, plain, audio_only])
    await asyncio.gather(*(s.connect() for s in sites))
    fwd.set_program("main")
    fwd.set_audio_only("site-3", True)
    await asyncio.sleep(0.5)  # the share starts mid-program
    fwd.set_share("main")

    share = shows.counter("share/video")
    await wait_for(lambda: share.frames >= 8, what="the share at the site that shows it")
    assert share.first_frame_keyframe is True and decode_vp8(share.captured[0].data)
    assert all(f.data in set(screen.sent) for f in share.captured), "the share is forwarded as encoded"
    assert not set(screen.sent) & {f.data for f in shows.counter("program/video").captured}, "two streams apart"
    assert hints["main"] == PublishHint(True, VideoSend.FULL, share=True)
    assert "share/video" not in plain.counters and plain.unknown_packets == 0, "no slot, nothing sent to it"
    assert audio_only.counter("share/video").packets == 0, "an audio-only site gets no share"
    assert audio_only.counter("program/audio").packets > 0
    assert fwd.stats()["peers"]["site-2"]["out"].keys() == {"program/audio", "program/video", "speaker-0/audio",
                                                           "speaker-0/video"}  # fmt: skip

    # a late joiner starts on a keyframe too
    late = viewer(fwd, "site-4")
    sites.append(late)
    await late.connect()
    await wait_for(lambda: late.counter("share/video").frames >= 3, what="the share at a late joiner")
    assert late.counter("share/video").first_frame_keyframe is True


async def test_the_share_keeps_its_ssrc_and_numbering_across_stop_and_start(
    fwd: Forwarder, sites: list[SiteClient]
) -> None:
    screen = PatternSource("slides", width=320, height=180, fps=10, bitrate=200_000, keep=400)
    main = SiteClient(fwd.config, signal_to(fwd, "main"), share=screen, capture=True, name="main")  # type: ignore[arg-type]
    shows = viewer(fwd, "site-1")
    sites.extend([main, shows])
    await asyncio.gather(*(s.connect() for s in sites))
    share = shows.counter("share/video")
    for round_ in range(3):
        fwd.set_share("main")
        await wait_for(lambda r=round_: share.keyframes >= r + 1 and share.frames >= 5 * (r + 1), what="share on")
        fwd.set_share(None)
        await asyncio.sleep(0.3)
        stopped = share.packets
        await asyncio.sleep(0.5)
        assert share.packets == stopped, "a stopped share sends nothing"
    # one counter, found by one SSRC, all along: the SSRC never changed; no sequence gap at
    # either restart, and every restart began on a keyframe
    assert shows.unknown_packets == 0 and share.gaps == 0 and share.incomplete == 0
    starts = [f.keyframe for f in share.captured]
    assert starts[0] and starts.count(True) >= 3


async def test_keyframe_requests_for_the_share_reach_the_presenter_rate_limited(
    fwd: Forwarder, sites: list[SiteClient]
) -> None:
    screen = PatternSource("slides", width=320, height=180, fps=10, bitrate=200_000, keep=50)
    main = SiteClient(fwd.config, signal_to(fwd, "main"), share=screen, name="main")  # type: ignore[arg-type]
    shows = viewer(fwd, "site-1")
    sites.extend([main, shows])
    await asyncio.gather(*(s.connect() for s in sites))
    fwd.set_share("main")
    await wait_for(lambda: shows.counter("share/video").frames >= 5, what="the share")
    await asyncio.sleep(0.5)
    before = main.share_keyframe_requests
    out_ssrc = _share_ssrc(fwd)
    assert shows.link is not None
    for _ in range(20):  # a viewer that asks five times a second for two seconds would be worse
        shows.link.send_rtcp(rtp.pli(1234, out_ssrc))
    await asyncio.sleep(0.25)
    asked = main.share_keyframe_requests - before
    assert 1 <= asked <= 2, f"20 PLIs within the interval become one or two requests upstream, got {asked}"
    assert main.keyframe_requests == 0, "the camera was not asked"


def _share_ssrc(fwd: Forwarder) -> int:
    peer = fwd._peers["site-1"]
    return next(o.ssrc for key, o in peer.outputs.items() if key[0] is SlotRole.SHARE)


async def test_only_m_line_2_may_be_the_share_slot() -> None:
    offers: list[str] = []

    async def record(offer: str) -> str:
        offers.append(offer)
        raise RuntimeError("recorded")

    with pytest.raises(RuntimeError):
        await SiteClient(LOOPBACK, record, share_slot=True).connect()
    marked = offers[0]
    _, layout = parse_offer(marked, LOOPBACK)
    assert layout.share is not None and layout.share.index == 2 and layout.speaker_slots == 1
    for bad in (marked.replace("a=content:slides\r\n", ""),          # m2 would be a preview before a speaker
                mark_share(marked.replace("a=content:slides\r\n", ""), index=3)):  # an audio m-line
        with pytest.raises(MediaError) as err:
            parse_offer(bad, LOOPBACK)
        assert err.value.code.value == "media.bad_layout"
