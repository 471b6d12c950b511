"""Bad input gives a clear MediaError and breaks nothing else."""

from __future__ import annotations

import asyncio

import pytest
from media_helpers import LOOPBACK, site, wait_for

from media.client import SiteClient
from media.config import MediaConfig
from media.errors import ErrorCode, MediaError
from media.forwarder import Forwarder
from media.layout import offer_directions
from media.peering import restrict_gathering
from media.session import PeerState

GOOD_CANDIDATE = {
    "candidate": "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}


async def raw_offer(kinds: list[tuple[str, str]], codecs: dict[str, str] | None = None) -> str:
    """An offer from a plain aiortc peer, with chosen m-lines and codecs."""
    from aiortc import RTCPeerConnection, RTCRtpSender

    pc = RTCPeerConnection(LOOPBACK.rtc_configuration())
    for kind, direction in kinds:
        t = pc.addTransceiver(kind, direction=direction)
        if codecs and kind in codecs:
            caps = RTCRtpSender.getCapabilities(kind).codecs
            t.setCodecPreferences([c for c in caps if c.mimeType.lower() == codecs[kind].lower()])
    restrict_gathering(pc, LOOPBACK)
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return str(sdp)


async def expect(code: ErrorCode, coro: object) -> MediaError:
    with pytest.raises(MediaError) as info:
        await coro  # type: ignore[misc]
    assert info.value.code is code, info.value
    assert info.value.message
    return info.value


async def test_bad_offers_and_candidates_are_refused_and_the_conference_goes_on(
    fwd: Forwarder, sites: list[SiteClient]
) -> None:
    main, one = site(fwd, "main"), site(fwd, "site-1", publish=False)
    sites += [main, one]
    await asyncio.gather(main.connect(), one.connect())
    fwd.set_program("main")
    video = one.counter("program/video")
    await wait_for(lambda: video.frames >= 3, what="program")

    await expect(ErrorCode.BAD_SDP, fwd.accept_offer("x", "this is not SDP"))
    await expect(ErrorCode.BAD_SDP, fwd.accept_offer("x", ""))
    await expect(ErrorCode.BAD_SDP, fwd.accept_offer("x", "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:x\r\n"))
    await expect(ErrorCode.BAD_SDP, fwd.accept_offer("x", "v=0\r\n" + "a=x\r\n" * 40_000))
    await expect(ErrorCode.BAD_ARGUMENT, fwd.accept_offer("", "v=0"))
    # a layout we do not use: audio only, a data channel, speaker audio without its video
    await expect(ErrorCode.BAD_LAYOUT, fwd.accept_offer("x", await raw_offer([("audio", "sendrecv")])))
    await expect(
        ErrorCode.BAD_LAYOUT,
        fwd.accept_offer("x", await raw_offer([("audio", "sendrecv"), ("video", "sendrecv"), ("audio", "recvonly")])),
    )
    await expect(
        ErrorCode.BAD_LAYOUT,
        fwd.accept_offer("x", await raw_offer([("video", "sendrecv"), ("audio", "sendrecv")])),
    )
    # no usable codec: H.264-only video, or no Opus
    h264 = await raw_offer(offer_directions(1, 0), {"video": "video/H264"})
    await expect(ErrorCode.NO_CODEC, fwd.accept_offer("x", h264))
    pcmu = await raw_offer(offer_directions(1, 0), {"audio": "audio/PCMU"})
    await expect(ErrorCode.NO_CODEC, fwd.accept_offer("x", pcmu))
    assert fwd.peer_state("x") is None, "a refused offer leaves no peer behind"

    # candidates: unknown peer, malformed, and a closed peer
    await expect(ErrorCode.UNKNOWN_PEER, fwd.add_candidate("nobody", GOOD_CANDIDATE))
    for bad in ({"candidate": "candidate:garbage"}, {"candidate": 5}, "nope", {"candidate": "x", "sdpMLineIndex": -1}):
        await expect(ErrorCode.BAD_CANDIDATE, fwd.add_candidate("site-1", bad))  # type: ignore[arg-type]
    await fwd.add_candidate("site-1", GOOD_CANDIDATE)  # a good late candidate is harmless
    await fwd.add_candidate("site-1", {"candidate": "", "sdpMid": "0"})  # end of candidates

    two = site(fwd, "site-2", publish=False)
    sites.append(two)
    await two.connect()
    await two.close()
    await wait_for(lambda: fwd.peer_state("site-2") is PeerState.CLOSED, what="site-2 closed")
    await expect(ErrorCode.PEER_CLOSED, fwd.add_candidate("site-2", GOOD_CANDIDATE))
    await fwd.remove_peer("site-2")
    await expect(ErrorCode.UNKNOWN_PEER, fwd.add_candidate("site-2", GOOD_CANDIDATE))
    await fwd.remove_peer("site-2")  # idempotent

    # control calls check their arguments
    with pytest.raises(MediaError) as info:
        fwd.set_speakers("site-1")  # a string is not a list of ids
    assert info.value.code is ErrorCode.BAD_ARGUMENT
    with pytest.raises(MediaError):
        fwd.set_previews("main", [f"s{i}" for i in range(LOOPBACK.max_preview_slots + 1)])
    with pytest.raises(MediaError):
        fwd.set_muted(None, True)  # type: ignore[arg-type]

    # and through all of it the program kept flowing
    frames = video.frames
    await wait_for(lambda: video.frames >= frames + 5, what="the program to continue")
    assert video.gaps == 0
    assert fwd.peer_state("site-1") is PeerState.CONNECTED


async def test_a_site_that_offers_an_unusable_codec_gets_an_error_through_its_signal(fwd: Forwarder) -> None:
    h264 = MediaConfig(gather_addresses=("127.0.0.1",), video_codec="H264")

    async def signal(offer: str) -> str:
        return await fwd.accept_offer("h264-site", offer)

    client = SiteClient(h264, signal, name="h264-site")
    with pytest.raises(MediaError) as info:
        await client.connect()
    assert info.value.code is ErrorCode.NO_CODEC
    await client.close()


async def test_a_closed_forwarder_refuses_work() -> None:
    f = Forwarder(LOOPBACK)
    await expect(ErrorCode.NOT_RUNNING, f.accept_offer("a", "v=0"))
    await f.start()
    await f.close()
    await expect(ErrorCode.NOT_RUNNING, f.add_candidate("a", GOOD_CANDIDATE))


async def test_ice_gathers_on_the_configured_address_and_announces_the_public_one() -> None:
    offer = await raw_offer(offer_directions(1, 0))
    for config, shown in (
        (LOOPBACK, "127.0.0.1"),
        (MediaConfig(gather_addresses=("127.0.0.1",), announced_address="203.0.113.7"), "203.0.113.7"),
    ):
        f = Forwarder(config)
        await f.start()
        try:
            answer = await f.accept_offer("site", offer)
        finally:
            await f.close()
        candidates = [line for line in answer.splitlines() if line.startswith("a=candidate:")]
        assert candidates and all(f" {shown} " in line for line in candidates), candidates
        assert not any("srflx" in line or "relay" in line for line in candidates), "no STUN/TURN configured"
