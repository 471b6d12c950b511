"""Recording the program to WebM with chapters, the screen share to a file of its own beside it
(same clock, same chapters), and a headless bridge replaying a recording."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import pytest
from media_helpers import LOOPBACK, signal_to, site, wait_for

from media.client import SiteClient
from media.errors import MediaError
from media.forwarder import Forwarder
from media.headless import HeadlessBridge, simulate
from media.testsrc import PatternSource


async def test_the_program_and_the_floor_are_recorded_untouched_with_chapters(
    fwd: Forwarder, sites: list[SiteClient], tmp_path: Path
) -> None:
    main, three = site(fwd, "main"), site(fwd, "site-3", tone=523.0)
    sites += [main, three]
    await asyncio.gather(main.connect(), three.connect())
    fwd.set_program("main")
    path = str(tmp_path / "conference.webm")
    fwd.start_recording(path, title="Opening")
    with pytest.raises(MediaError):
        fwd.start_recording(path)
    await asyncio.sleep(0.8)
    fwd.mark_chapter("Item 2: budget")
    fwd.set_speakers(["site-3"])
    await asyncio.sleep(1.0)
    info = await fwd.stop_recording()

    assert [c.title for c in info.chapters] == ["Opening", "Item 2: budget", "Floor: site-3"]
    assert info.frames["program/video"] >= 10 and info.frames["speaker/video"] >= 3
    with av.open(path) as container:
        titles = [c["metadata"]["title"] for c in container.chapters()]
        assert titles == ["Opening", "Item 2: budget", "Floor: site-3"]
        video = container.streams.video[0]
        packets = [bytes(p) for p in container.demux(video) if p.size]
    sent = set(main.video.sent)  # type: ignore[union-attr]
    assert packets and all(p in sent for p in packets), "the recording holds the publisher's own frames"
    with av.open(path) as container:
        decoded = sum(1 for _ in container.decode(video=0))
    assert decoded == len(packets)
    assert "Item 2: budget" in Path(info.chapters_path).read_text()


async def test_headless_bridges_join_and_one_replays_a_recording(fwd: Forwarder, tmp_path: Path) -> None:
    main = HeadlessBridge(LOOPBACK, signal_to(fwd, "main"), "MAIN BRIDGE", keep=0)
    await main.start()
    fwd.set_program("main")
    path = str(tmp_path / "program.webm")
    fwd.start_recording(path)
    bridges = await simulate(LOOPBACK, lambda peer: signal_to(fwd, peer), 3, prefix="ward")
    try:
        await wait_for(lambda: all(b.report()["received"]["program/video"]["frames"] >= 10 for b in bridges),
                       what="program at the simulated sites")  # fmt: skip
        await fwd.stop_recording()
        report = bridges[0].report()
        assert report["caption"] == "ward-1" and report["received"]["program/video"]["fps"] > 0

        # a bridge that publishes the recorded file (VP8 + Opus, as recorded: no re-encoding)
        replay = HeadlessBridge(LOOPBACK, signal_to(fwd, "replay"), "replay", media_file=path, keep=500)
        await replay.start()
        fwd.set_speakers(["replay"])
        with av.open(path) as container:
            recorded = {bytes(p) for p in container.demux(container.streams.video[0]) if p.size}
        seen = bridges[1].client.counter("speaker-0/video")
        seen.capture = True
        await wait_for(lambda: len(seen.captured) >= 5, what="the replayed recording")
        assert all(f.data in recorded for f in seen.captured)
        await replay.stop()
    finally:
        for b in [main, *bridges]:
            await b.stop()


def test_chapters_are_on_disk_while_recording_and_an_empty_recording_still_closes(tmp_path: Path) -> None:
    from media.recording import Recorder

    rec = Recorder(str(tmp_path / "p.webm"))
    rec.chapter("Khai mạc")
    rec.chapter("Mục: Báo cáo  kết quả\nquý III")
    vtt = (tmp_path / "p.chapters.vtt").read_text(encoding="utf-8")   # before any frame, before the end
    assert vtt.startswith("WEBVTT") and "Khai mạc" in vtt and "Mục: Báo cáo kết quả quý III" in vtt, vtt
    info = rec.close()                     # no frame ever came: the file is closed all the same
    assert sum(info.frames.values()) == 0 and [c.title for c in info.chapters] == ["Khai mạc", "Mục: Báo cáo kết quả quý III"]
    data = Path(info.path).read_bytes()    # header and Matroska chapters, no cluster
    assert data.startswith(b"\x1a\x45\xdf\xa3") and "Mục: Báo cáo kết quả quý III".encode() in data


async def test_the_share_is_recorded_to_its_own_file_on_the_same_clock_with_the_same_chapters(
    fwd: Forwarder, sites: list[SiteClient], tmp_path: Path
) -> None:
    screen = PatternSource("slides", width=640, height=360, fps=10, bitrate=300_000, keep=400)
    main = site(fwd, "main")
    main = SiteClient(fwd.config, signal_to(fwd, "main"), audio=main.audio, video=main.video, share=screen,  # type: ignore[arg-type]
                      name="main")  # fmt: skip
    sites.append(main)
    await main.connect()
    fwd.set_program("main")
    path = tmp_path / "program.webm"
    fwd.start_recording(str(path), title="Khai mạc")
    await asyncio.sleep(1.0)                 # the program alone first: the share starts a second in
    fwd.set_share("main")
    fwd.mark_chapter("Chia sẻ màn hình: main")
    await wait_for(lambda: fwd._recorder is not None and fwd._recorder.share.frames >= 8, what="shared frames recorded")
    fwd.set_share(None)
    await asyncio.sleep(0.5)
    fwd.set_share("main")                    # again: the same file, on a keyframe
    await asyncio.sleep(1.0)
    info = await fwd.stop_recording()

    assert info.share_path == str(tmp_path / "program.share.webm") and info.frames["share/video"] >= 12, info
    with av.open(info.share_path) as container:
        chapters = [(c["start"], c["metadata"]["title"]) for c in container.chapters()]
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("vp8", 640, 360)
        assert stream.metadata.get("title") == "share/video"
        packets = [p for p in container.demux(stream) if p.size]
    with av.open(str(path)) as program:
        assert [(c["start"], c["metadata"]["title"]) for c in program.chapters()] == chapters, "the same chapters"
        assert [s.metadata.get("title") for s in program.streams] == \
            ["program/video", "program/audio", "speaker/video", "speaker/audio"], "the program's file is as before"
    assert [t for _, t in chapters] == ["Khai mạc", "Chia sẻ màn hình: main"]
    sent = set(screen.sent)
    assert len(packets) == info.frames["share/video"] and all(bytes(p) in sent for p in packets), \
        "the presenter's own frames, not re-encoded"
    assert packets[0].is_keyframe and float(packets[0].pts * packets[0].time_base) >= 0.9, \
        "the share's first frame is a keyframe, timed on the program's clock (it started ~1 s in)"
    keys = [p for p in packets if p.is_keyframe]
    assert len(keys) >= 2, "the second start is a keyframe too"
    with av.open(info.share_path) as container:
        assert sum(1 for _ in container.decode(video=0)) == len(packets)


async def test_a_recording_without_a_share_has_no_share_file(fwd: Forwarder, sites: list[SiteClient],
                                                              tmp_path: Path) -> None:
    main = site(fwd, "main")
    sites.append(main)
    await main.connect()
    fwd.set_program("main")
    fwd.start_recording(str(tmp_path / "p.webm"))
    await asyncio.sleep(0.5)
    info = await fwd.stop_recording()
    assert info.share_path is None and info.frames["share/video"] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.chapters.vtt", "p.webm"]
