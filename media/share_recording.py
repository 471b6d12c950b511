"""The screen share's part of a recording: its own WebM file beside the program's.

``program-<t>.webm`` keeps the program and the floor (four tracks); the share goes to
``program-<t>.share.webm``, one VP8 track with the presenter's own frames (no re-encoding),
**on the same clock** as the program's file (a frame shared 12 min 3 s into the recording has
the time stamp 12:03 in both) and with **the same Matroska chapters**, so the two files seek
together chapter by chapter, and the WebVTT chapters file beside the program serves both.

Why a file of its own and not a fifth track in the program's file: browsers play the first
video track of a WebM and offer no way to pick another (``videoTracks`` is not shipped), so a
share track inside the program's file would be invisible to anyone who opens the recording
in a browser, while a file of its own plays anywhere; the share's picture size (a 1920 px
screen) is known only from its first keyframe, which may come an hour after the program's
header was written; and a conference without a share gets no empty track.

The file is opened at the share's first keyframe (a recording during which nothing is shared
has no share file); a share stopped and started again continues in the same file, each start
on a keyframe. Frames are written by a thread of their own, as the program's are.
"""

from __future__ import annotations

import contextlib
import fractions
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import av

from .rtp import ReceivedFrame, StreamCounter, vp8_size

logger = logging.getLogger(__name__)

SHARE_TRACK = "share/video"
MS = fractions.Fraction(1, 1000)


def share_path(program_path: str) -> str:
    """``program-<t>.share.webm`` beside ``program-<t>.webm`` (``.mkv`` likewise)."""
    stem, ext = program_path.rsplit(".", 1)
    return f"{stem}.share.{ext}"


class ShareRecording:
    """One recording's share file (see the module docstring). Fed like a track of the
    program's recorder: :meth:`tap` on the presenter's share source, :meth:`rebind` when the
    source changes (the next frame written is a keyframe)."""

    kind = "video"

    def __init__(self, path: str, clock: Callable[[], float], t0: float) -> None:
        self.path = path
        self.clock = clock
        self.t0 = t0
        self.counter = StreamCounter("video", on_frame=self._frame)
        self.waiting = True
        self.frames = 0
        self.dropped = 0
        self._queue: queue.Queue[tuple[bytes, int, bool] | None] = queue.Queue(maxsize=2000)
        self._thread: threading.Thread | None = None
        self._container: Any = None
        self._error: BaseException | None = None

    @property
    def started(self) -> bool:
        """Whether a frame was shared (then the file exists)."""
        return self._thread is not None

    def tap(self) -> Callable[[bytes], None]:
        def feed(data: bytes) -> None:
            with contextlib.suppress(ValueError):  # a malformed packet is not recorded
                self.counter.add(data)

        return feed

    def rebind(self) -> None:
        self.counter = StreamCounter("video", on_frame=self._frame)
        self.waiting = True

    def _frame(self, frame: ReceivedFrame) -> None:
        if self.waiting:
            if not frame.keyframe or vp8_size(frame.data) is None:
                return
            self.waiting = False
        if self._thread is None:
            self._thread = threading.Thread(target=self._write, name="media-recorder-share", daemon=True)
            self._thread.start()
        self.frames += 1
        pts = int((self.clock() - self.t0) * 1000)
        try:
            self._queue.put_nowait((frame.data, pts, frame.keyframe))
        except queue.Full:
            self.dropped += 1

    def _write(self) -> None:
        last = -1
        try:
            first = self._queue.get()
            if first is None:
                return
            width, height = vp8_size(first[0]) or (1280, 720)
            container = self._container = av.open(self.path, "w", format="matroska" if self.path.endswith(".mkv")
                                                  else "webm")  # fmt: skip
            stream: Any = container.add_stream("libvpx", rate=30)
            stream.width, stream.height = width, height
            stream.pix_fmt = "yuv420p"
            stream.time_base = MS
            stream.metadata["title"] = SHARE_TRACK
            container.start_encoding()
            item: tuple[bytes, int, bool] | None = first
            while item is not None:
                data, pts, key = item
                last = pts = max(pts, last + 1)
                packet = av.Packet(data)
                packet.stream = stream
                packet.pts = packet.dts = pts
                packet.time_base = MS
                packet.is_keyframe = key
                try:
                    container.mux(packet)
                except av.FFmpegError:  # one bad frame costs that frame, not the file
                    logger.warning("%s: a shared frame could not be written", self.path)
                item = self._queue.get()
        except BaseException as exc:  # keep the loop alive; report at close()
            logger.exception("recording the share failed")
            self._error = exc
            while self._queue.get() is not None:
                pass

    def close(self, chapters: list[dict[str, Any]]) -> str | None:
        """Finish the file with ``chapters`` (the program's, as given to ``set_chapters``);
        blocking. The file's path, or None when nothing was shared."""
        if self._thread is None:
            return None
        self._queue.put(None)
        self._thread.join()
        container = self._container
        if container is not None:
            try:
                if chapters:
                    container.set_chapters(chapters)
            finally:
                container.close()
        if self._error is not None:
            raise self._error
        return self.path if container is not None else None
