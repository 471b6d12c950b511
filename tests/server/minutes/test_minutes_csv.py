"""The directory's and the join links' CSV files as a spreadsheet opens them: a BOM (Excel
reads Vietnamese names right only with it), and no cell that becomes a formula (a phone
number "+84…" or a name "=…" is kept behind an apostrophe) — and the directory's import
takes the apostrophe off again, so an exported file imports as it was."""

from __future__ import annotations

import csv
import io

import pytest

from tests.server.minutes.minutes_env import Env

pytestmark = pytest.mark.asyncio(loop_scope="module")
CONF = "giao-ban-csv"


def rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith("\ufeff".encode()), body[:20]
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


async def test_the_directory_csv_opens_in_a_spreadsheet_and_imports_back(env: Env) -> None:
    await env.call("POST", "/sites", {"code": "X-MOI", "name": "=Xã Mới", "parent": "Khu vực 1", "kind": "remote",
                                      "expected_headcount": 30, "contact_phone": "+84 24 3825 3536"}, role="admin")
    status, headers, body = await env.get("/sites.csv", role="admin")
    assert status == 200
    by_code = {r["code"]: r for r in rows(body)}
    assert by_code["P-AN"]["name"] == "Phường An Hòa"
    assert by_code["X-MOI"]["name"] == "'=Xã Mới" and by_code["X-MOI"]["contact_phone"] == "'+84 24 3825 3536"
    async with env.http.post(f"{env.base_url}/api/v1/sites/import", params={"dry_run": "1"}, data=body,
                             headers={"Authorization": f"Bearer {env.session('admin')}",
                                      "Content-Type": "text/csv"}) as resp:
        report = await resp.json()
    assert resp.status == 200, report
    assert report["changed"] == 0 and report["new"] == 0, report    # the same directory, apostrophes and all


async def test_the_join_links_csv_has_its_bom(env: Env) -> None:
    await env.create(CONF)
    status, _, body = await env.get(f"/conferences/{CONF}/links", role="admin", params={"format": "csv"})
    assert status == 200
    links = rows(body)
    assert {r["site"] for r in links} >= {"P-AN", "P-BINH"}
    assert next(r for r in links if r["site"] == "P-AN")["name"] == "Phường An Hòa"
