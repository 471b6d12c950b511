"""Recording of the program: while a conference is live, the media plane records what the
sites see and hear (the main bridge and the floor holder, no re-encoding) to WebM under
``DATA_DIR/recordings/<conference>/``, with a chapter mark at each agenda item and each floor
change; the files are listed at ``GET /api/v1/conferences/{id}/recordings``."""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from scheduling import (
    STAFF_ROLES,
    ConferenceState,
    Event,
    FloorGranted,
    ItemStarted,
    Phase,
    roles_in,
)
from scheduling.lifecycle import PhaseChanged

from .api import route
from .http import ApiError, actor_of, ok
from .hub import StreamHub
from .keys import RECORDER, SERVICE

log = logging.getLogger(__name__)
NAME_RE = re.compile(r"^program(?:-(\d{8}T\d{6}))?(?:-(\d{1,4}))?\.(webm|chapters\.vtt)$")


class ProgramRecorder:
    """Starts, marks and stops the recording of each conference from its log."""

    def __init__(self, plane: Any, root: Path) -> None:
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
        hub.on_events.append(on_events)

    async def _start(self, state: ConferenceState, resumed: bool = False) -> None:
        folder = self.root / state.conference_id
        folder.mkdir(parents=True, exist_ok=True)
        path = _new_file(folder, state.opened_at or datetime.now(UTC))
        try:
            cm = await self.plane._conference(state.conference_id)
            result = cm.forwarder.start_recording(str(path), title="Tiếp tục ghi" if resumed else "Khai mạc")
            if inspect.isawaitable(result):
                await result
            self.active.add(state.conference_id)
            item = state.active_item() if resumed else None
            if item is not None:
                self._mark(state.conference_id, f"Mục: {item.title}")
            log.info("recording %s to %s", state.conference_id, path)
        except Exception:
            log.exception("could not start recording %s", state.conference_id)

    def _mark(self, conf_id: str, title: str) -> None:
        cm = self.plane.conferences.get(conf_id)
        if cm is not None:
            cm.forwarder.mark_chapter(title)

    async def _stop(self, conf_id: str) -> None:
        cm = self.plane.conferences.get(conf_id)
        if cm is None or conf_id not in self.active:
            return
        try:
            info = await cm.forwarder.stop_recording()
            log.info("recording of %s done: %s (%.0f s, %d chapters, %d bytes, frames %s)", conf_id, info.path,
                     info.duration, len(info.chapters), info.size, info.frames)
        except Exception:
            log.exception("could not stop recording %s", conf_id)
        finally:
            self.active.discard(conf_id)


@route("GET", "/conferences/{conf_id}/recordings",
       "Recordings of the program (staff): the list, or one file with ?file=NAME", auth="account")
async def list_recordings(request: web.Request) -> web.StreamResponse:
    conf_id = request.match_info["conf_id"]
    svc = request.app[SERVICE]
    actor = actor_of(request, conf_id)
    hub = await svc.conference_hub(conf_id)
    if not roles_in(hub.state, actor) & STAFF_ROLES:
        raise ApiError("forbidden", "only the conference's staff may fetch its recordings")
    folder = svc.config.data_dir / "recordings" / conf_id
    name = request.query.get("file")
    if name is not None:
        if not NAME_RE.match(name) or not (folder / name).is_file():
            raise ApiError("not_found", f"no recording {name[:80]!r}")
        return web.FileResponse(folder / name, headers={"Content-Disposition": f"attachment; filename={name}"})
    files = []
    base = f"/api/v1/conferences/{conf_id}/recordings?file="
    # a part shows from its first chapter mark on; its video file from its first frames on
    names = {p.name.split(".")[0] + ".webm" for p in folder.glob("program*") if NAME_RE.match(p.name)} \
        if folder.is_dir() else set()
    for path in (folder / n for n in sorted(names, key=_order)):
        vtt = path.with_suffix(".chapters.vtt")
        files.append({"file": path.name, "bytes": path.stat().st_size if path.is_file() else 0, "url": base + path.name,
                      "chapters": _chapters(vtt.read_text(encoding="utf-8")) if vtt.is_file() else [],
                      "chapters_url": base + vtt.name if vtt.is_file() else None})
    recorder = request.app.get(RECORDER)
    return ok({"recording": recorder is not None and conf_id in recorder.active, "files": files})


def _new_file(folder: Path, opened: datetime) -> Path:
    """``program-<opened>.webm``, or, when the server restarted during the conference, a new
    name for the next part (``-<now>``, then ``-2``, ``-3``… within one second): never overwrite."""
    for stamp in (opened, datetime.now(UTC)):
        path = folder / f"program-{stamp:%Y%m%dT%H%M%S}.webm"
        if not path.exists():
            return path
    n = 2
    while (folder / f"{path.stem}-{n}.webm").exists():
        n += 1
    return folder / f"{path.stem}-{n}.webm"


def _order(name: str) -> tuple[str, int]:
    """Recordings in the order they were made: by time stamp, then part number."""
    m = NAME_RE.match(name)
    assert m is not None
    return m.group(1) or "", int(m.group(2) or 1)


def _chapters(vtt: str) -> list[dict[str, str]]:
    """(start, title) of each cue of a WebVTT chapters file."""
    out = []
    lines = vtt.splitlines()
    for i, line in enumerate(lines):
        if "-->" in line and i + 1 < len(lines):
            out.append({"start": line.split("-->")[0].strip(), "title": lines[i + 1].strip()})
    return out
