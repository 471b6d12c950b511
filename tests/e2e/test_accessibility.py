"""axe-core (Deque's engine, vendored in tests/e2e/vendor/axe-core) in Chromium on every page:
no serious or critical violation, with the experimental rule that an element's accessible
name holds its visible text (label-content-name-mismatch) turned on.

The conference is live with a speaker, a raised hand and a checked-in ward, so that the
pages show what they show in a meeting (queue, speaker box, tiles with flags, cards)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import VIEWPORT, Pages, wait_online

from server.tools.client import ApiClient

pytestmark = pytest.mark.asyncio(loop_scope="session")

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
CONF = "kiem-tra-tiep-can"
NAMED = {"label-content-name-mismatch", "page-has-heading-one", "landmark-unique"}
"""The rules the issue named as failing, whatever their impact: they stay mended."""
SITES = ["P-GIANG-VO", "P-NGOC-HA", "P-CUA-NAM"]
RUN_AXE = """async () => {
  const result = await axe.run(document, {
    resultTypes: ['violations'],
    rules: { 'label-content-name-mismatch': { enabled: true } },
  });
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => n.target.join(' ') + ': ' + (n.failureSummary || '').split('\\n').slice(1, 2).join('')) }));
}"""


async def live_conference(base: str, password: str) -> dict[str, str]:
    admin = await ApiClient.login(base, "admin", password)
    chair = await ApiClient.login(base, "chutri", password)
    try:
        start = datetime.now(UTC).replace(microsecond=0)
        await admin.call("POST", "/conferences", {
            "key": "a11y-create", "conference_id": CONF, "title": "Họp kiểm tra khả năng tiếp cận",
            "kind": "thematic", "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat(),
            "main_site": "HN-TRU-SO", "chair": "chutri", "secretaries": ["thuky1"]})
        for n, cmd in enumerate(({"type": "invite_sites", "codes": SITES},
                                 {"type": "add_agenda_item", "item_id": "muc-1", "title": "Tình hình tuần qua",
                                  "planned_minutes": 15, "documents": ["Báo cáo tuần 49"]},
                                 {"type": "schedule_conference"})):
            await admin.call("POST", f"/conferences/{CONF}/commands", {"key": f"a11y-{n}", **cmd})
        for n, cmd in enumerate(({"type": "open_conference"}, {"type": "start_item", "item_id": "muc-1"},
                                 {"type": "give_floor", "site": SITES[1]})):
            await chair.call("POST", f"/conferences/{CONF}/commands", {"key": f"a11y-chair-{n}", **cmd})
        rows = (await admin.call("GET", f"/conferences/{CONF}/links"))["links"]
    finally:
        await admin.close()
        await chair.close()
    return {r["site"]: r["url"] for r in rows}


async def violations(pages: Pages, path: str, account: str | None = None, online: bool = True) -> list[dict[str, Any]]:
    ctx = await pages.browser.new_context(viewport=VIEWPORT, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                          bypass_csp=True)   # to inject axe; the pages' own policy is untouched
    pages.contexts.append(ctx)
    if account is not None:
        resp = await ctx.request.post(pages.server.url("/api/v1/session"),
                                      data={"account": account, "password": pages.server.password})
        assert resp.ok
    page = await ctx.new_page()
    page.on("pageerror", lambda e: pages.errors.append(f"{page.url}: {e}"))
    await page.goto(path if path.startswith("http") else pages.server.url(path))
    if online:
        await wait_online(page)
        await page.wait_for_timeout(300)   # the first frames drawn
    await page.evaluate(AXE + "\n;0")
    found = await page.evaluate(RUN_AXE)
    return [v for v in found if v["impact"] in ("serious", "critical") or v["id"] in NAMED]


async def test_no_serious_accessibility_violation_on_any_page(pages: Pages, web_server: Any) -> None:
    links = await live_conference(web_server.base, web_server.password)
    # a ward asks for the floor and checks in, from its page
    ward = await pages.open(links[SITES[0]])
    await wait_online(ward)
    await ward.click("#floor-request")
    await ward.wait_for_selector("#floor-withdraw:not([hidden])")
    found = {
        "login": await violations(pages, "/login", online=False),
        "home": await violations(pages, "/", account="admin", online=False),
        "admin": await violations(pages, "/admin", account="admin", online=False),
        "chair": await violations(pages, f"/c/{CONF}/chair", account="chutri"),
        "secretary": await violations(pages, f"/c/{CONF}/secretary", account="thuky1"),
        "actions": await violations(pages, "/actions", account="chutri", online=False),
        "site, asking": await violations(pages, links[SITES[0]]),
        "site, speaking": await violations(pages, links[SITES[1]]),
        "main bridge": await violations(pages, links["HN-TRU-SO"]),
        "error (a join link that is not one)": await violations(pages, "/join/khong-phai-lien-ket", online=False),
    }
    bad = {page: v for page, v in found.items() if v}
    assert bad == {}, "\n".join(f"{p}: {x['id']} ({x['impact']}): {x['nodes']}" for p, v in bad.items() for x in v)
