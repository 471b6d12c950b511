"""A client generated from /api/v1/openapi.json by a generator nobody here wrote
(openapi-python-client, from PyPI; generated into the test's tmp_path, no network) signs in,
creates a conference, invites sites, and reads the conference's minutes and their draft."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

StartServer = Callable[..., Awaitable[Any]]
PACKAGE = "bridgeconf_generated_client"


def generate(doc: dict[str, Any], where: Path) -> Any:
    (where / "openapi.json").write_text(json.dumps(doc, ensure_ascii=False))
    done = subprocess.run([sys.executable, "-m", "openapi_python_client", "generate", "--path",
                           str(where / "openapi.json"), "--output-path", str(where / PACKAGE), "--meta", "none"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(where))
    try:
        return importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))


async def test_a_generated_client_signs_in_creates_a_conference_and_reads_its_minutes(
        server: StartServer, tmp_path: Path) -> None:
    srv = await server(seed="small")
    async with aiohttp.ClientSession() as http, http.get(srv.base_url + "/api/v1/openapi.json") as resp:
        doc = await resp.json()
    client_pkg = generate(doc, tmp_path)
    try:
        api = importlib.import_module(PACKAGE + ".api.default")
        models = importlib.import_module(PACKAGE + ".models")
        login = importlib.import_module(api.__name__ + ".login")
        signed = await login.asyncio(client=client_pkg.Client(base_url=srv.base_url),
                                     body=models.LoginBody(account="admin", password=srv.seeded.password))
        assert isinstance(signed, models.LoginResponse200) and signed.admin is True
        authed = client_pkg.AuthenticatedClient(base_url=srv.base_url, token=signed.token)

        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
        create = importlib.import_module(api.__name__ + ".create_conference")
        created = await create.asyncio(client=authed, body=models.CreateConferenceBody(
            conference_id="tu-client-sinh-ra", title="Hội nghị tạo từ client sinh tự động", starts_at=start,
            ends_at=start + timedelta(hours=2), main_site=srv.seeded.main_site, chair="chutri",
            secretaries=["thuky"]))
        assert isinstance(created, models.CreateConferenceResponse201) and created.seq >= 1

        command = importlib.import_module(api.__name__ + ".conference_command")
        invited = await command.asyncio("tu-client-sinh-ra", client=authed,
                                        body=models.CommandInviteSites(type_="invite_sites", codes=["P-AN"]))
        assert isinstance(invited, models.ConferenceCommandResponse200) and invited.events == 1

        overview = importlib.import_module(api.__name__ + ".minutes_overview")
        minutes = await overview.asyncio("tu-client-sinh-ra", client=authed)
        assert isinstance(minutes, models.MinutesOverviewResponse200)
        assert minutes.conference_id == "tu-client-sinh-ra" and minutes.versions == [] and minutes.phase == "draft"
        content = importlib.import_module(api.__name__ + ".minutes_draft_content")
        draft = await content.asyncio("tu-client-sinh-ra", client=authed)
        assert draft.version == 1 and draft.editing is True and draft.content.to_dict()

        # an error is typed too
        missing = await overview.asyncio("khong-co", client=authed)
        assert isinstance(missing, models.Error) and missing.error.code == "no_conference"
    finally:
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]
