"""Pure parts of the media plane: RTP helpers, routing, layout, config."""

from __future__ import annotations

import struct

import pytest

from media import rtp
from media.config import IceServer, MediaConfig
from media.layout import SlotRole
from media.quality import LinkGuard, QualityPolicy, Reading
from media.routing import (
    ControlState,
    PeerSlots,
    PublishHint,
    VideoSend,
    plan,
    publish_hint,
    subscriber_plan,
)


def packet(seq: int, ts: int, payload: bytes, marker: bool = False, pt: int = 96, ext: bytes = b"") -> bytes:
    b0 = 0x90 if ext else 0x80
    return struct.pack("!BBHII", b0, (0x80 if marker else 0) | pt, seq, ts, 1234) + ext + payload


def vp8(start: bool, key: bool, body: bytes = b"", picture_id: int = 300) -> bytes:
    d0 = 0x80 | (0x10 if start else 0)
    desc = bytes([d0, 0x80]) + struct.pack("!H", 0x8000 | picture_id)
    return desc + bytes([0x00 if key else 0x01]) + body


def test_header_length_counts_csrcs_and_extensions() -> None:
    assert rtp.header_length(packet(1, 2, b"xx")) == 12
    ext = rtp.mid_extension(1, "3")
    assert rtp.header_length(packet(1, 2, b"xx", ext=ext)) == 12 + len(ext)
    with pytest.raises(ValueError):
        rtp.header_length(b"\x80\x60")
    with pytest.raises(ValueError):
        rtp.header_length(b"\x90" + b"\x00" * 11)


def test_vp8_frame_info_finds_frame_starts_and_keyframes() -> None:
    assert rtp.vp8_frame_info(vp8(True, True)) == (True, True)
    assert rtp.vp8_frame_info(vp8(True, False)) == (True, False)
    assert rtp.vp8_frame_info(vp8(False, True)) == (False, False)
    assert rtp.vp8_frame_info(b"") == (False, False)
    assert rtp.vp8_depayload(vp8(True, True, b"abc")) == b"\x00abc"


def test_h264_frame_info() -> None:
    assert rtp.h264_frame_info(bytes([0x65, 0])) == (True, True)  # IDR
    assert rtp.h264_frame_info(bytes([0x41, 0])) == (True, False)
    assert rtp.h264_frame_info(bytes([0x7C, 0x85])) == (True, True)  # FU-A start of an IDR
    assert rtp.h264_frame_info(bytes([0x7C, 0x05])) == (False, False)


def test_audio_level_reads_one_and_two_byte_extensions() -> None:
    one = struct.pack("!HH", 0xBEDE, 1) + bytes([0x10, 0x80 | 42, 0, 0])
    assert rtp.audio_level(packet(1, 2, b"o", ext=one), 1) == 42
    assert rtp.audio_level(packet(1, 2, b"o", ext=one), 2) is None
    two = struct.pack("!HH", 0x1000, 1) + bytes([3, 1, 17, 0])
    assert rtp.audio_level(packet(1, 2, b"o", ext=two), 3) == 17
    assert rtp.audio_level(packet(1, 2, b"o"), 1) is None


def test_rtcp_builders() -> None:
    assert rtp.pli(1, 2) == bytes([0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2])
    assert len(rtp.fir(1, 2, 3)) == 20
    assert rtp.is_rtcp(rtp.pli(1, 2)) and not rtp.is_rtcp(packet(1, 2, b"x"))
    sr = rtp.sender_report(5, rtp.ntp_time(1.0), 100, 10, 1000, cname="x")
    assert rtp.is_rtcp(sr) and sr[1] == 200
    assert rtp.remb(1, 1_000_000, [2])[1] == 206


def test_reception_stats_count_losses() -> None:
    st = rtp.ReceptionStats(90000)
    for seq in (65534, 65535, 1, 2):  # 0 is lost, across the wrap
        st.add(seq, seq * 3000, 0.0)
    report = st.report(7, 1.0)
    assert report.packets_lost == 1 and report.highest_sequence == (1 << 16) + 2
    assert report.fraction_lost == 256 // 5


def test_stream_counter_counts_complete_frames_and_gaps() -> None:
    c = rtp.StreamCounter("video", capture=True)
    c.add(packet(10, 1000, vp8(True, True, b"a")))
    c.add(packet(11, 1000, vp8(False, False, b"b"), marker=True))
    c.add(packet(12, 4000, vp8(True, False, b"c"), marker=True))
    c.add(packet(14, 7000, vp8(True, False, b"d"), marker=True))  # 13 lost: a gap
    c.add(packet(15, 10000, vp8(False, False, b"e"), marker=True))  # no start: incomplete
    assert (c.frames, c.keyframes, c.gaps, c.incomplete) == (3, 1, 1, 1)
    assert c.first_frame_keyframe is True
    assert c.captured[0].keyframe and c.captured[0].data == b"\x00a\x01b"
    d = rtp.StreamCounter("video")
    d.add(packet(1, 1, vp8(True, False), marker=True))
    assert d.first_frame_keyframe is False


def test_routing_fills_slots_and_never_echoes() -> None:
    state = ControlState(program="main", speakers=("s3", "s7"), muted=frozenset({"s7"}))
    slots = PeerSlots(speaker_slots=2, preview_slots=0)
    got = subscriber_plan("s1", slots, state)
    assert got == {
        (SlotRole.MAIN, 0, "audio"): "main",
        (SlotRole.MAIN, 0, "video"): "main",
        (SlotRole.SPEAKER, 0, "audio"): "s3",
        (SlotRole.SPEAKER, 0, "video"): "s3",
        (SlotRole.SPEAKER, 1, "video"): "s7",  # muted: seen, not heard
    }
    assert (SlotRole.SPEAKER, 0, "video") not in subscriber_plan("s3", slots, state)
    assert subscriber_plan("main", slots, state).get((SlotRole.MAIN, 0, "video")) is None
    one_slot = subscriber_plan("s1", PeerSlots(1, 0), state)
    assert (SlotRole.SPEAKER, 1, "video") not in one_slot


def test_routing_audio_only_and_previews() -> None:
    state = ControlState(program="main", audio_only=frozenset({"s1"}), previews={"main": ("s1", "s2", "s3")})
    assert subscriber_plan("s1", PeerSlots(1, 0), state) == {(SlotRole.MAIN, 0, "audio"): "main"}
    chair = plan(state, {"main": PeerSlots(1, 2)})["main"]
    assert chair == {(SlotRole.PREVIEW, 0, "video"): "s1", (SlotRole.PREVIEW, 1, "video"): "s2"}


def test_routing_poor_links_get_audio_only_and_do_not_call_for_previews() -> None:
    state = ControlState(program="main", poor_links=frozenset({"s1"}), previews={"s1": ("s2",)})
    assert subscriber_plan("s1", PeerSlots(1, 1), state) == {(SlotRole.MAIN, 0, "audio"): "main"}
    assert subscriber_plan("s2", PeerSlots(1, 0), state)[(SlotRole.MAIN, 0, "video")] == "main"
    assert publish_hint("s2", state) == PublishHint(False, VideoSend.OFF), "nobody can see its preview"


def test_link_guard_falls_back_after_poor_readings_in_a_row_and_comes_back_after_a_quiet_wait() -> None:
    guard = LinkGuard(QualityPolicy(poor_loss=0.1, poor_reports=2, recover_after=10.0, max_recover_after=30.0))
    assert guard.observe(0.0, Reading(loss=0.2)) is None, "one poor reading is not enough"
    assert guard.observe(1.0, Reading(loss=0.01)) is None
    assert guard.observe(2.0, Reading(loss=0.2)) is None, "the count restarts after a good reading"
    assert guard.observe(3.0, Reading()) is None, "no report says nothing either way"
    assert guard.observe(4.0, Reading(loss=0.15)) is True and guard.reason == "loss"
    assert guard.observe(10.0, Reading(loss=0.3)) is None, "still poor on audio alone"
    assert guard.observe(19.0, Reading(loss=0.0)) is None, "less than 10 s since the last poor reading"
    assert guard.observe(20.0, Reading(loss=0.0)) is False and guard.reason == ""
    # falling back again soon after coming back doubles the wait, up to the maximum
    guard.observe(21.0, Reading(loss=0.5))
    assert guard.observe(22.0, Reading(loss=0.5)) is True
    assert guard.observe(41.0, Reading()) is None and guard.observe(42.0, Reading()) is False
    guard.observe(43.0, Reading(remb=50_000))
    assert guard.observe(44.0, Reading(remb=60_000)) is True and guard.reason == "bandwidth"
    assert guard.observe(73.0, Reading()) is None and guard.observe(74.0, Reading()) is False  # capped at 30 s
    assert guard.fallbacks == 3


def test_publish_hints() -> None:
    state = ControlState(program="main", speakers=("s3",), muted=frozenset({"s3"}), previews={"main": ("s4",)})
    assert publish_hint("main", state) == PublishHint(True, VideoSend.FULL)
    assert publish_hint("s3", state) == PublishHint(False, VideoSend.FULL)
    assert publish_hint("s4", state) == PublishHint(False, VideoSend.PREVIEW)
    assert publish_hint("s5", state) == PublishHint(False, VideoSend.OFF)


def test_config_checks_itself_and_never_defaults_to_public_stun() -> None:
    with pytest.raises(ValueError):
        MediaConfig(video_codec="AV1")
    with pytest.raises(ValueError):
        MediaConfig(gather_addresses=("not-an-ip",))
    with pytest.raises(ValueError):
        IceServer(urls=("http://x",))
    assert MediaConfig().rtc_configuration().iceServers == []
    turn = IceServer(urls=("turn:turn.example.org:3478",), username="u", credential="p")
    assert MediaConfig(ice_servers=(turn,)).browser_ice_servers() == [
        {"urls": ["turn:turn.example.org:3478"], "username": "u", "credential": "p"}
    ]
