"""The connectivity check through a served app: a site reports its own check with its join
link (REST here; the page sends the same command over /ws), the verdict is the domain's and
is kept with the conference; a site cannot report for another; nobody reports once it opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import Config
from server.tools import demo
from server.tools.client import ApiClient, CommandRefused
from tests.server.wshelp import free_port, seed_demo, serving

PASSWORD = "mat-khau-thu-nghiem"
COMMANDS = f"/conferences/{demo.CONFERENCE}/commands"
FIGURES = {"camera": True, "microphone": True, "mic_level": 35, "rtt_ms": 48, "loss_pct": 0.4,
           "bitrate_kbps": 1800, "relay": True, "agent": "Chromium 156"}


async def test_a_site_reports_its_check(tmp_path: Path) -> None:
    config = Config(port=free_port(), data_dir=tmp_path)
    async with serving(config) as app:
        _, tokens, state = await seed_demo(app, PASSWORD)
        a, b = sorted(c for c in tokens if c != state.main_site)[:2]
        site, other = ApiClient(config.base_url), ApiClient(config.base_url)
        site.token, other.token = tokens[a], tokens[b]
        chair = await ApiClient.login(config.base_url, "chutri", PASSWORD)
        try:
            ack = await site.call("POST", COMMANDS, {"type": "report_readiness", "site": a, **FIGURES})
            assert ack["events"] == 1
            await site.call("POST", COMMANDS, {"type": "report_readiness", "site": a, **FIGURES, "loss_pct": 18.0})

            view = await chair.call("GET", f"/conferences/{demo.CONFERENCE}")
            kept = view["readiness"][a]
            assert (kept["status"], kept["problems"], kept["loss_pct"], kept["relay"], kept["runs"]) == (
                "needs_check", ["high_loss"], 18.0, True, 2)
            assert b not in view["readiness"]
            assert (await site.call("GET", f"/conferences/{demo.CONFERENCE}"))["readiness"][a]["runs"] == 2

            with pytest.raises(CommandRefused) as err:
                await other.call("POST", COMMANDS, {"type": "report_readiness", "site": a, **FIGURES})
            assert err.value.code == "not_own_site"
            with pytest.raises(CommandRefused) as err:
                await site.call("POST", COMMANDS, {"type": "report_readiness", "site": a, **FIGURES, "rtt_ms": "fast"})
            assert err.value.code == "invalid_command" and "rtt_ms" in err.value.message

            await chair.call("POST", COMMANDS, {"type": "open_conference"})
            with pytest.raises(CommandRefused) as err:
                await site.call("POST", COMMANDS, {"type": "report_readiness", "site": a, **FIGURES})
            assert err.value.code == "wrong_phase"
        finally:
            for c in (site, other, chair):
                await c.close()
