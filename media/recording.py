"""Recording the conference to WebM, without re-encoding, with chapter marks.

The recorder taps the forwarder's sources like one more subscriber with one
speaker slot: the program's audio and video, and the first floor holder's audio
and video (four tracks). RTP is depacketized into the publishers' own VP8 frames
and Opus packets and muxed as they are (PyAV/FFmpeg's Matroska muxer) by a writer
thread, so the event loop only reassembles frames. Every track is timed by the
arrival of its frames on one wall clock, which keeps them in sync across floor
changes. Chapters (agenda items, floor changes) go into the file's Matroska
chapters and, for players that prefer it, a WebVTT chapters file beside it.

The screen share, when there is one, is recorded to a file of its own beside this one, on the
same clock and with the same chapters (:mod:`media.share_recording`, which says why).
"""

from __future__ import annotations

import contextlib
import fractions
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import av

from .errors import ErrorCode, MediaError
from .rtp import ReceivedFrame, StreamCounter, vp8_size
from .share_recording import SHARE_TRACK, ShareRecording, share_path

logger = logging.getLogger(__name__)

TRACKS = ("program/video", "program/audio", "speaker/video", "speaker/audio")
MS = fractions.Fraction(1, 1000)
HEADER_WAIT = 3.0  # seconds to wait for a first keyframe to learn the picture size


@dataclass(frozen=True)
class Chapter:
    start: float
    """Seconds from the start of the recording."""
    title: str


@dataclass
class RecordingInfo:
    path: str
    chapters_path: str
    duration: float
    chapters: list[Chapter]
    frames: dict[str, int] = field(default_factory=dict)
    size: int = 0
    share_path: str | None = None
    """The screen share's file beside the recording (None: nothing was shared)."""


class _Track:
    def __init__(self, name: str, on_frame: Callable[[str, ReceivedFrame], None]) -> None:
        self.name = name
        self.kind = name.split("/")[1]
        self.counter = StreamCounter(self.kind, on_frame=lambda f: on_frame(name, f))
        self.source: Any = None
        self.waiting = self.kind == "video"
        self.frames = 0

    def rebind(self) -> None:
        self.counter = StreamCounter(self.kind, on_frame=self.counter.on_frame)
        self.waiting = self.kind == "video"


class Recorder:
    """Writes what the sites see and hear to ``path`` (WebM); see the module docstring."""

    def __init__(self, path: str, clock: Callable[[], float] = time.monotonic) -> None:
        if not path.endswith((".webm", ".mkv")):
            raise MediaError(ErrorCode.BAD_ARGUMENT, "a recording is a .webm or .mkv file")
        self.path = path
        self.chapters_path = path.rsplit(".", 1)[0] + ".chapters.vtt"
        self.clock = clock
        self.t0 = clock()
        self.chapters: list[Chapter] = []
        self.tracks: dict[str, _Track | ShareRecording] = {name: _Track(name, self._frame) for name in TRACKS}
        self.share = ShareRecording(share_path(path), clock, self.t0)
        self.tracks[SHARE_TRACK] = self.share
        self._queue: queue.Queue[tuple[str, bytes, int, bool] | None] = queue.Queue(maxsize=2000)
        self._error: BaseException | None = None
        self._dropped = 0
        self._bad = 0
        try:
            self._container = av.open(path, "w", format="matroska" if path.endswith(".mkv") else "webm")
        except Exception as exc:
            raise MediaError(ErrorCode.BAD_ARGUMENT, f"cannot write {path}: {exc}") from None
        self._thread = threading.Thread(target=self._write, name="media-recorder", daemon=True)
        self._thread.start()

    # -- fed by the forwarder, on its loop --

    def tap(self, name: str) -> Callable[[bytes], None]:
        """What feeds track ``name``: one of ``TRACKS``, or ``SHARE_TRACK`` (its own file)."""
        track = self.tracks[name]
        if isinstance(track, ShareRecording):
            return track.tap()

        def feed(data: bytes) -> None:
            with contextlib.suppress(ValueError):  # a malformed packet is not recorded
                track.counter.add(data)

        return feed

    def _frame(self, name: str, frame: ReceivedFrame) -> None:
        track = self.tracks[name]
        assert isinstance(track, _Track)
        if track.waiting:
            if not frame.keyframe:
                return
            track.waiting = False
        track.frames += 1
        pts = int((self.clock() - self.t0) * 1000)
        try:
            self._queue.put_nowait((name, frame.data, pts, frame.keyframe))
        except queue.Full:
            self._dropped += 1

    def chapter(self, title: str) -> None:
        """A chapter mark, now. The chapters file beside the recording is rewritten at once,
        so a server that dies mid-conference leaves its marks with what was written."""
        title = " ".join(str(title).split())[:200] or "—"
        self.chapters.append(Chapter(round(self.clock() - self.t0, 3), title))
        try:
            self._write_chapters(sorted(self.chapters, key=lambda c: c.start), None)
        except OSError:
            logger.exception("could not write %s", self.chapters_path)

    def _write_chapters(self, marks: list[Chapter], duration: float | None) -> None:
        """The WebVTT chapters file, written whole, then renamed: no reader sees half of it.
        While recording (``duration`` None) the last chapter ends where it starts."""
        partial = self.chapters_path + ".part"
        with open(partial, "w", encoding="utf-8") as f:
            f.write("WEBVTT\n\n")
            for i, c in enumerate(marks):
                end = marks[i + 1].start if i + 1 < len(marks) else (duration or c.start)
                f.write(f"{i + 1}\n{_vtt(c.start)} --> {_vtt(max(end, c.start))}\n{c.title}\n\n")
        os.replace(partial, self.chapters_path)

    # -- the writer thread --

    def _write(self) -> None:
        pending: list[tuple[str, bytes, int, bool]] = []
        streams: dict[str, Any] = {}
        last_pts: dict[str, int] = {}
        started = time.monotonic()
        try:
            while True:
                item = self._queue.get()
                if not streams:
                    if item is not None:
                        pending.append(item)
                        known = any(k and n.endswith("video") and vp8_size(d) for n, d, _, k in pending)
                        if not known and time.monotonic() - started < HEADER_WAIT:
                            continue
                    streams = self._open_streams(pending)
                    self._container.start_encoding()   # the header: a file exists even if no frame follows
                    batch, pending = pending, []
                else:
                    batch = [item] if item is not None else []
                for name, data, pts, key in batch:
                    pts = max(pts, last_pts.get(name, -1) + 1)
                    last_pts[name] = pts
                    packet = av.Packet(data)
                    packet.stream = streams[name]
                    packet.pts = packet.dts = pts
                    packet.time_base = MS
                    packet.is_keyframe = key
                    try:
                        self._container.mux(packet)
                    except av.FFmpegError:  # one bad frame costs that frame, not the recording
                        self._bad += 1
                        if self._bad == 1:
                            logger.exception("%s: a %s frame could not be written", self.path, name)
                if item is None:
                    break
        except BaseException as exc:  # keep the loop alive; report at stop()
            logger.exception("recording failed")
            self._error = exc
            while self._queue.get() is not None:
                pass

    def _open_streams(self, pending: list[tuple[str, bytes, int, bool]]) -> dict[str, Any]:
        sizes = [(n, vp8_size(d)) for n, d, _, k in pending if k and n.endswith("video")]
        program = [size for n, size in sizes if n == "program/video" and size]
        other = [size for _, size in sizes if size]
        width, height = (program or other or [(1280, 720)])[0]
        streams: dict[str, Any] = {}
        for name in TRACKS:
            stream: Any
            if name.endswith("video"):
                stream = self._container.add_stream("libvpx", rate=30)
                stream.width, stream.height = width, height
                stream.pix_fmt = "yuv420p"
            else:
                stream = self._container.add_stream("libopus", rate=48000)
                stream.layout = "stereo"
            stream.time_base = MS
            stream.metadata["title"] = name
            streams[name] = stream
        return streams

    # -- closing --

    def close(self) -> RecordingInfo:
        """Finish the file (blocking: run it in an executor). Returns what was written."""
        duration = self.clock() - self.t0
        self._queue.put(None)
        self._thread.join()
        end_ms = int(duration * 1000)
        marks = sorted(self.chapters, key=lambda c: c.start)
        starts: list[int] = []
        for c in marks:  # Matroska keeps chapters with distinct, increasing starts
            starts.append(max(int(c.start * 1000), starts[-1] + 1 if starts else 0))
        chapters = [
            {"id": i + 1, "start": starts[i],
             "end": starts[i + 1] if i + 1 < len(marks) else max(end_ms, starts[i] + 1),
             "time_base": MS, "metadata": {"title": c.title}}
            for i, c in enumerate(marks)
        ]  # fmt: skip
        try:
            if marks:
                self._container.set_chapters(chapters)
        except Exception as exc:  # the file is still closed, and the chapters file still written
            self._error = self._error or exc
        try:
            self._container.close()
        except Exception as exc:
            self._error = self._error or exc
        shared: str | None = None
        try:
            shared = self.share.close(chapters)   # the same chapters in the share's file
        except Exception as exc:
            self._error = self._error or exc
        self._write_chapters(marks, duration)
        if self._error is not None:
            raise MediaError(ErrorCode.BAD_ARGUMENT, f"the recording failed: {self._error}")
        return RecordingInfo(
            path=self.path, chapters_path=self.chapters_path, duration=round(duration, 3), chapters=marks,
            frames={n: t.frames for n, t in self.tracks.items()}, size=os.path.getsize(self.path),
            share_path=shared,
        )  # fmt: skip


def _vtt(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"
