"""Recording of the program: while a conference is live, the media plane records what the
sites see and hear (the main bridge and the floor holder, no re-encoding) to WebM under
``DATA_DIR/recordings/<conference>/``, with a chapter mark at each agenda item and each floor
change; the files are listed at ``GET /api/v1/conferences/{id}/recordings``."""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from pathlib import Path
from typing import Any

from aiohttp import web

from scheduling import ConferenceState, Event, FloorGranted, ItemStarted, Phase, Role, roles_in
from scheduling.lifecycle import PhaseChanged

from .api import route
from .http import ApiError, actor_of, ok
from .hub import StreamHub
from .keys import MEDIA, SERVICE

log = logging.getLogger(__name__)
NAME_RE = re.compile(r"^program(-\d{8}T\d{6})?\.(webm|chapters\.vtt)$")
STAFF = frozenset({Role.ADMIN, Role.CHAIR, Role.SECRETARY, Role.OBSERVER})


class ProgramRecorder:
    """Starts, marks and stops the recording of each conference from its log."""

    def __init__(self, plane: Any, root: Path) -> None:
        self.plane = plane
        self.root = root

    def watch(self, hub: StreamHub[ConferenceState | None]) -> None:
        def on_events(events: tuple[Event, ...]) -> None:
            state = hub.state
            if state is None:
                return
            for ev in events:
                if isinstance(ev, PhaseChanged) and ev.phase is Phase.LIVE:
                    asyncio.get_running_loop().create_task(self._start(state))
                elif isinstance(ev, PhaseChanged) and ev.phase is Phase.ENDED:
                    asyncio.get_running_loop().create_task(self._stop(state.conference_id))
                elif isinstance(ev, ItemStarted):
                    item = state.item(ev.item_id)
                    self._mark(state.conference_id, f"Mục: {item.title if item else ev.item_id}")
                elif isinstance(ev, FloorGranted):
                    site = state.sites.get(ev.site)
                    self._mark(state.conference_id, f"Phát biểu: {site.name if site else ev.site}")
        hub.on_events.append(on_events)

    async def _start(self, state: ConferenceState) -> None:
        folder = self.root / state.conference_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"program-{state.opened_at:%Y%m%dT%H%M%S}.webm" if state.opened_at else folder / "program.webm"
        try:
            cm = await self.plane._conference(state.conference_id)
            result = cm.forwarder.start_recording(str(path), title="Khai mạc")
            if inspect.isawaitable(result):
                await result
            log.info("recording %s to %s", state.conference_id, path)
        except Exception:
            log.exception("could not start recording %s", state.conference_id)

    def _mark(self, conf_id: str, title: str) -> None:
        cm = self.plane.conferences.get(conf_id)
        if cm is not None:
            cm.forwarder.mark_chapter(title)

    async def _stop(self, conf_id: str) -> None:
        cm = self.plane.conferences.get(conf_id)
        if cm is None:
            return
        try:
            info = await cm.forwarder.stop_recording()
            log.info("recording of %s done: %s (%.0f s, %d chapters)", conf_id, info.path, info.duration,
                     len(info.chapters))
        except Exception:
            log.exception("could not stop recording %s", conf_id)


@route("GET", "/conferences/{conf_id}/recordings",
       "Recordings of the program (staff): the list, or one file with ?file=NAME", auth="account")
async def list_recordings(request: web.Request) -> web.StreamResponse:
    conf_id = request.match_info["conf_id"]
    svc = request.app[SERVICE]
    actor = actor_of(request, conf_id)
    hub = await svc.conference_hub(conf_id)
    if not roles_in(hub.state, actor) & STAFF:
        raise ApiError("forbidden", "only the conference's staff may fetch its recordings")
    folder = svc.config.data_dir / "recordings" / conf_id
    name = request.query.get("file")
    if name is not None:
        if not NAME_RE.match(name) or not (folder / name).is_file():
            raise ApiError("not_found", f"no recording {name[:80]!r}")
        return web.FileResponse(folder / name, headers={"Content-Disposition": f"attachment; filename={name}"})
    files = []
    base = f"/api/v1/conferences/{conf_id}/recordings?file="
    for path in sorted(folder.glob("program*.webm")) if folder.is_dir() else []:
        vtt = path.with_suffix(".chapters.vtt")
        files.append({"file": path.name, "bytes": path.stat().st_size, "url": base + path.name,
                      "chapters": _chapters(vtt.read_text(encoding="utf-8")) if vtt.is_file() else [],
                      "chapters_url": base + vtt.name if vtt.is_file() else None})
    recording = request.app.get(MEDIA) is not None and conf_id in request.app[MEDIA].conferences and \
        bool(getattr(request.app[MEDIA].conferences[conf_id].forwarder, "recording", False))
    return ok({"recording": recording, "files": files})


def _chapters(vtt: str) -> list[dict[str, str]]:
    """(start, title) of each cue of a WebVTT chapters file."""
    out = []
    lines = vtt.splitlines()
    for i, line in enumerate(lines):
        if "-->" in line and i + 1 < len(lines):
            out.append({"start": line.split("-->")[0].strip(), "title": lines[i + 1].strip()})
    return out
