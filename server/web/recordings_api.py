"""The REST route of the program's recordings (staff): the list, or one file."""

from __future__ import annotations

from aiohttp import web

from scheduling import STAFF_ROLES

from ..service.keys import RECORDER
from ..service.recordings import list_recordings, recording_file
from .http import ApiError, actor_of, ok, service_of
from .routes import RouteTable

routes = RouteTable()


@routes.route("GET", "/conferences/{conf_id}/recordings",
              "Recordings of the program (staff): the list, or one file with ?file=NAME", auth="account")
async def get_recordings(request: web.Request) -> web.StreamResponse:
    conf_id = request.match_info["conf_id"]
    svc = service_of(request)
    actor = actor_of(request, conf_id)
    _, roles = await svc.conference_for(conf_id, actor)
    if not roles & STAFF_ROLES:
        raise ApiError("forbidden", "only the conference's staff may fetch its recordings")
    folder = svc.config.data_dir / "recordings" / conf_id
    name = request.query.get("file")
    if name is not None:
        path = recording_file(folder, name)
        if path is None:
            raise ApiError("not_found", f"no recording {name[:80]!r}")
        return web.FileResponse(path, headers={"Content-Disposition": f"attachment; filename={name}"})
    files = list_recordings(folder, f"/api/v1/conferences/{conf_id}/recordings?file=")
    recorder = request.app.get(RECORDER)
    return ok({"recording": recorder is not None and conf_id in recorder.active, "files": files})
