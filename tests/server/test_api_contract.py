"""The API contract, from outside: schemathesis generates requests from /api/v1/openapi.json
(bounded: a few examples per operation) and sends them, as the admin and as a site's join link,
to ``bridgeconf serve``
started on 127.0.0.1; no answer may be a 5xx, and every answer must be one the document
lists, of a media type it lists, matching its schema.

The webhooks' writes are left out: their generated URLs could name hosts outside this
machine, and the server would then POST to them (tests/server/test_webhooks.py covers them
against a receiver on 127.0.0.1)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("BRIDGECONF_CONTRACT_EXAMPLES", "10"))
BUDGET_S = 600.0
KNOWN = {"conf_id": "so-ket-quy-3", "code": "P-HOAN-KIEM", "site": "P-HOAN-KIEM", "file": "draft.html",
         "version": "1"}   # of the demo seed
# (aim at things that exist, valid or wrong requests, as a site's join link instead of the admin)
PASSES = ((False, GenerationMode.POSITIVE, False), (True, GenerationMode.POSITIVE, False),
          (True, GenerationMode.NEGATIVE, False), (True, GenerationMode.POSITIVE, True))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    def __init__(self, base_url: str, token: str, site_token: str) -> None:
        self.base_url, self.token, self.site_token = base_url, token, site_token


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``bridgeconf serve --demo`` on 127.0.0.1, and the admin's session token."""
    data = tmp_path_factory.mktemp("contract")
    port = free_port()
    out = open(data / "serve.out", "w")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen([sys.executable, "-m", "server.tools.cli", "serve", "--demo", "--no-media", "--host",
                             "127.0.0.1", "--port", str(port), "--data-dir", str(data)], cwd=ROOT, stdout=out,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while "serving on" not in (data / "serve.out").read_text():
            assert proc.poll() is None and time.monotonic() < deadline, (data / "serve.out").read_text()[-3000:]
            time.sleep(0.1)
        password = re.search(r"password: (\S+)", (data / "serve.out").read_text())
        assert password is not None
        base = f"http://127.0.0.1:{port}"
        login = requests.post(base + "/api/v1/session", json={"account": "admin", "password": password.group(1)},
                              timeout=30)
        login.raise_for_status()
        site = re.search(r"/join/(\S+)", (data / "serve.out").read_text())   # the main bridge's join link
        assert site is not None
        yield Served(base, login.json()["token"], site.group(1))
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()
        log = (data / "serve.out").read_text()
        assert "Traceback" not in log, "the server logged a traceback:\n" + log[-5000:]


@pytest.mark.timeout(900)
def test_every_answer_matches_the_document(served: Served) -> None:
    schema = schemathesis.openapi.from_url(served.base_url + "/api/v1/openapi.json")
    schema = schema.exclude(method=["POST", "PATCH"], path_regex="^/api/v1/webhooks")
    admin = {"Authorization": f"Bearer {served.token}"}
    site = {"Authorization": f"Bearer {served.site_token}"}
    failures: list[str] = []
    answered: dict[str, set[int]] = {}
    started = time.monotonic()
    # signing out ends the admin's session on the server: every later request would be a 401
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda op: op.label == "DELETE /api/v1/session")
    for operation in operations:
        for known, mode, as_site in PASSES:
            try:
                exercise(operation, known, site if as_site else admin, answered, mode)
            except Exception as exc:   # noqa: BLE001  (collected: every operation is tried)
                failures.append(f"{operation.label}: {exc}"[:3000])
        assert time.monotonic() - started < BUDGET_S, "over the time budget"
    assert len(operations) >= 35
    assert not failures, "\n\n".join(failures)
    succeeded = sorted(label for label, codes in answered.items() if any(200 <= c < 300 for c in codes))
    assert len(succeeded) >= 25, f"only these operations ever succeeded: {succeeded}"


def exercise(operation: Any, known: bool, headers: dict[str, str], answered: dict[str, set[int]],
             mode: GenerationMode) -> None:
    """Send EXAMPLES generated requests of ``operation`` and check the answers; ``known``: aim
    the path at things that exist, to reach the answers of success too; ``mode``: valid
    requests, or requests the document says are wrong (the answer must still be a documented 4xx)."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case: Any) -> None:
        if known:
            case.path_parameters = {k: KNOWN.get(k, v) for k, v in (case.path_parameters or {}).items()}
        response = case.call(headers=headers, timeout=30)
        answered.setdefault(operation.label, set()).add(response.status_code)
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:   # no wrong request can be made of it (no parameter, no body)
        assert mode is GenerationMode.NEGATIVE
