"""The audit log (nhật ký hệ thống) through a served app: read from the event logs themselves
(directory, accounts, links, a conference), admin only, filtered by actor, type and time, and
exported as CSV with a BOM and formula cells neutralized; secrets never leave."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from server.config import Config
from server.service.audit_log import AuditFilter, AuditQueryError, fold, safe_cell
from server.service.keys import SERVICE
from server.tools import demo
from server.tools.client import ApiClient, CommandRefused
from tests.server.wshelp import free_port, seed_demo, serving

PASSWORD = "mat-khau-thu-nghiem"
CONF_STREAM = f"conf-{demo.CONFERENCE}"


async def test_the_audit_log_of_each_stream(tmp_path: Path) -> None:
    config = Config(port=free_port(), data_dir=tmp_path)
    async with serving(config) as app:
        await seed_demo(app, PASSWORD)
        admin = await ApiClient.login(config.base_url, "admin", PASSWORD)
        chair = await ApiClient.login(config.base_url, "chutri", PASSWORD)
        try:
            # someone slips a formula into a site's contact: the export must not run it
            await admin.call("PUT", "/sites/P-HOAN-KIEM", {
                "name": "Phường Hoàn Kiếm", "parent": "Khu vực trung tâm", "contact_name": "=HYPERLINK(\"x\")"})
            await chair.call("POST", f"/conferences/{demo.CONFERENCE}/commands", {"type": "start_rehearsal"})

            streams = await admin.call("GET", "/audit/streams")
            assert [s["stream"] for s in streams["streams"]][:4] == ["directory", "accounts", "links", CONF_STREAM]
            assert "site_updated" in streams["types"]["directory"]
            assert "phase_changed" in streams["types"]["conference"]
            assert "account_created" in streams["types"]["accounts"]

            accounts = await admin.call("GET", "/audit?stream=accounts")
            assert accounts["matched"] == 4
            created = [r for r in accounts["rows"] if r["type"] == "account_created"]
            assert {r["details"]["account_id"] for r in created} == {"admin", "chutri", "thuky1", "thuky2"}
            assert all(r["details"]["password_hash"] == "(hidden)" for r in created)
            by_admin = [r for r in created if r["actor"] == "account:admin"]
            assert {r["actor_name"] for r in by_admin} == {"Quản trị hệ thống"}

            conf = await admin.call("GET", f"/audit?stream={CONF_STREAM}")
            first = conf["rows"][0]                          # newest first
            assert (first["type"], first["details"]["phase"], first["actor"], first["actor_name"]) == (
                "phase_changed", "rehearsal", "account:chutri", "Chủ tịch UBND Thành phố")
            assert conf["rows"][-1]["type"] == "conference_created" and conf["rows"][-1]["seq"] == 1

            # filters: actor (any case, no accents), type, time
            only_chair = await admin.call("GET", f"/audit?stream={CONF_STREAM}&actor=chu%20tich")
            assert only_chair["matched"] == 1
            phases = await admin.call("GET", f"/audit?stream={CONF_STREAM}&type=phase_changed")
            assert [r["details"]["phase"] for r in phases["rows"]] == ["rehearsal", "scheduled"]
            later = await admin.call("GET", f"/audit?stream={CONF_STREAM}&since=2099-01-01")
            assert later["matched"] == 0
            few = await admin.call("GET", f"/audit?stream={CONF_STREAM}&limit=2")
            assert len(few["rows"]) == 2 and few["matched"] == conf["matched"]

            links = await admin.call("GET", "/audit?stream=links&type=link_issued")
            assert links["matched"] == len(app[SERVICE].links.state.links) > 100

            # CSV: BOM, Vietnamese + English headers, the formula neutralized, the filter kept
            data = await admin.download("/audit.csv?stream=directory&type=site_updated")
            text = data.decode("utf-8")
            assert text.startswith("\ufeff")
            rows = list(csv.reader(io.StringIO(text[1:])))
            assert rows[0][0] == "Thời điểm / Time" and len(rows) == 2
            assert rows[1][5] == "site_updated" and rows[1][3] == "Quản trị hệ thống"
            assert "HYPERLINK" in rows[1][7] and not rows[1][7].startswith("=")
            assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)

            # rights and bad input
            for path in ("/audit?stream=accounts", "/audit/streams", "/audit.csv?stream=links"):
                with pytest.raises(CommandRefused) as err:
                    await chair.call("GET", path)
                assert err.value.code == "forbidden"
            for path, code in (("/audit?stream=conf-nope", "not_found"), ("/audit?stream=../etc", "not_found"),
                               ("/audit?type=no_such_event", "bad_request"), ("/audit?since=03/10/2025", "bad_request"),
                               ("/audit?since=2025-10-03T08:00:00", "bad_request"), ("/audit?limit=0", "bad_request"),
                               ("/audit?limit=abc", "bad_request"),
                               ("/audit?since=2025-10-04&until=2025-10-03", "bad_request")):
                with pytest.raises(CommandRefused) as err:
                    await admin.call("GET", path)
                assert err.value.code == code, path
        finally:
            await admin.close()
            await chair.close()


async def test_a_site_link_does_not_open_the_audit_log(tmp_path: Path) -> None:
    config = Config(port=free_port(), data_dir=tmp_path)
    async with serving(config) as app:
        _, tokens, _ = await seed_demo(app, PASSWORD)
        site = ApiClient(config.base_url)
        site.token = next(iter(tokens.values()))
        try:
            with pytest.raises(CommandRefused) as err:
                await site.call("GET", "/audit?stream=directory")
            assert err.value.code == "forbidden"
        finally:
            await site.close()


def test_safe_cells() -> None:
    assert [safe_cell(v) for v in ("=1+1", "+84 905", "-3", "@SUM(A1)", "\tx", "Phường Hoàn Kiếm", 7, None)] == [
        "'=1+1", "'+84 905", "'-3", "'@SUM(A1)", "'\tx", "Phường Hoàn Kiếm", "7", ""]


def test_fold_and_filters() -> None:
    from zoneinfo import ZoneInfo
    assert fold("Chủ tịch ĐÀ NẴNG") == "chu tich da nang"
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    f = AuditFilter.parse({"since": "2025-10-03", "until": "2025-10-03", "type": "phase_changed,site_muted"}, tz)
    assert f.since is not None and f.until is not None and (f.until - f.since).days == 1   # the whole day
    assert f.types == frozenset({"phase_changed", "site_muted"})
    with pytest.raises(AuditQueryError, match="actor"):
        AuditFilter.parse({"actor": "x" * 201}, tz)
