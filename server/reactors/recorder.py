"""Recording of the program: while a conference is live, the media plane records what the
sites see and hear (the main bridge and the floor holder, no re-encoding) to WebM under
``DATA_DIR/recordings/<conference>/``, the screen share to a file of its own beside it (same
clock, same chapters: ``media/share_recording.py``), with a chapter mark at each agenda item,
floor change, page turn and share (the files: ``service/recordings.py``; their route:
``web/recordings_api.py``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from scheduling import (
    ConferenceState,
    Event,
    FloorGranted,
    ItemStarted,
    Phase,
    ShareStarted,
    ShareStopped,
    SlideShown,
)
from scheduling.lifecycle import PhaseChanged

from ..service.hub import StreamHub
from ..service.recordings import new_file
from .media_plane import MediaPlane

log = logging.getLogger(__name__)


def slide_chapter(state: ConferenceState, ev: SlideShown) -> str:
    """The chapter of a page turn: "Trình chiếu: <deck> — trang 3/12"."""
    deck = state.presentation.decks.get(ev.deck_id)
    name, pages = (deck.name, deck.pages) if deck else (ev.deck_id, "?")
    return f"Trình chiếu: {name} — trang {ev.page}/{pages}"


class ProgramRecorder:
    """Starts, marks and stops the recording of each conference from its log."""

    def __init__(self, plane: MediaPlane, root: Path) -> None:
        self.plane = plane
        self.root = root
        self.active: set[str] = set()
        """The conferences being recorded: from the recording's start until its file is closed."""
        self._last: dict[str, asyncio.Task[None]] = {}
        """Per conference, the last start or stop: the next one waits for it, so a conference
        opened and ended at once never leaves a recording that nothing will stop."""

    def _then(self, conf_id: str, step: Callable[[], Awaitable[None]]) -> None:
        before = self._last.get(conf_id)

        async def run() -> None:
            if before is not None:
                await asyncio.wait([before])
            await step()

        task = asyncio.get_running_loop().create_task(run())
        self._last[conf_id] = task
        task.add_done_callback(lambda t: self._last.pop(conf_id, None) if self._last.get(conf_id) is t else None)

    def watch(self, hub: StreamHub[ConferenceState | None]) -> None:
        """Follow one conference's log. One that is live already (the server restarted while
        it ran) is recorded from now on, to a file of its own."""
        if hub.state is not None and hub.state.phase is Phase.LIVE:
            live = hub.state
            self._then(live.conference_id, lambda: self._start(live, resumed=True))

        def on_events(events: tuple[Event, ...]) -> None:
            state = hub.state
            if state is None:
                return
            for ev in events:
                if isinstance(ev, PhaseChanged) and ev.phase is Phase.LIVE:
                    self._then(state.conference_id, lambda: self._start(state))
                elif isinstance(ev, PhaseChanged) and ev.phase is Phase.ENDED:
                    self._then(state.conference_id, lambda: self._stop(state.conference_id))
                elif isinstance(ev, ItemStarted):
                    item = state.item(ev.item_id)
                    self._mark(state.conference_id, f"Mục: {item.title if item else ev.item_id}")
                elif isinstance(ev, FloorGranted):
                    site = state.sites.get(ev.site)
                    self._mark(state.conference_id, f"Phát biểu: {site.name if site else ev.site}")
                elif isinstance(ev, SlideShown):
                    self._mark(state.conference_id, slide_chapter(state, ev))
                elif isinstance(ev, ShareStarted):
                    site = state.sites.get(ev.site)
                    self._mark(state.conference_id, f"Chia sẻ màn hình: {site.name if site else ev.site}")
                elif isinstance(ev, ShareStopped) and ev.reason != "ended":
                    self._mark(state.conference_id, "Hết chia sẻ màn hình")
        hub.on_events.append(on_events)

    async def _start(self, state: ConferenceState, resumed: bool = False) -> None:
        folder = self.root / state.conference_id
        folder.mkdir(parents=True, exist_ok=True)
        path = new_file(folder, state.opened_at or datetime.now(UTC))
        try:
            await self.plane.start_recording(state.conference_id, str(path),
                                             "Tiếp tục ghi" if resumed else "Khai mạc")
            self.active.add(state.conference_id)
            item = state.active_item() if resumed else None
            if item is not None:
                self._mark(state.conference_id, f"Mục: {item.title}")
            log.info("recording %s to %s", state.conference_id, path)
        except Exception:
            log.exception("could not start recording %s", state.conference_id)

    def _mark(self, conf_id: str, title: str) -> None:
        self.plane.mark_chapter(conf_id, title)

    async def _stop(self, conf_id: str) -> None:
        if conf_id not in self.active:
            return
        try:
            info = await self.plane.stop_recording(conf_id)
            if info is not None:
                log.info("recording of %s done: %s (%.0f s, %d chapters, %d bytes, frames %s, share %s)", conf_id,
                         info.path, info.duration, len(info.chapters), info.size, info.frames, info.share_path)
        except Exception:
            log.exception("could not stop recording %s", conf_id)
        finally:
            self.active.discard(conf_id)
