"""The metrics of the work after the meeting, against a real SMTP server: e-mails of the
minutes sent and refused, and minutes documents rendered, then served from the cache."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.server.minutes.minutes_env import Env

pytestmark = pytest.mark.asyncio(loop_scope="module")
CONF = "giao-ban-do-dem"


async def samples(env: Env) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with env.http.get(env.base_url + "/metrics") as resp:
        text = await resp.text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_mail_sent_and_failed_and_renders_are_counted(env: Env) -> None:
    await env.create(CONF)
    await env.hold(CONF, notes=("Thu ngân sách đạt 9,1% dự toán năm.",))
    await env.command(CONF, "approve_minutes", role="chair")
    await env.command(CONF, "distribute_minutes", role="secretary", version=1, accounts=["chutri"])
    await env.mailer.idle()
    for _ in range(2):
        status, _, _ = await env.get(f"/conferences/{CONF}/minutes/1.html", role="secretary")
        assert status == 200
    m = await samples(env)
    # P-AN, P-BINH and the chair accepted; X-CHAU's mailbox refused (minutes_env's SMTP server)
    assert m[("bridgeconf_mail_total", (("result", "sent"),))] == 3
    assert m[("bridgeconf_mail_total", (("result", "failed"),))] == 1
    assert m[("bridgeconf_minutes_renders_total", (("format", "pdf"), ("result", "rendered")))] >= 1
    assert m[("bridgeconf_minutes_renders_total", (("format", "html"), ("result", "cached")))] >= 1
    assert m[("bridgeconf_commands_total", (("result", "ok"), ("type", "record_minutes_mail")))] == 1
