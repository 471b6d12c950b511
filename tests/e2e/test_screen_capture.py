"""The page side of screen share (static/js/screen_share.js) in Chromium: the main bridge's
page captures a screen (headless Chromium with --use-fake-ui-for-media-stream answers
getDisplayMedia at once with a fake 1280×720 monitor), the track keeps the content hint
"detail", the share is the big picture of the stage with the other pictures in a corner, and
stopping it ends the track and gives the stage back. Forwarding the share to the sites is the
media plane's (not tested here)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from e2e_helpers import Pages, wait_js, wait_online

from server.tools.client import ApiClient, link_parts

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAIN = "HN-TRU-SO"
CAPTURE = """async () => {
  const { captureScreen, shareStage } = await import('/static/js/screen_share.js');
  const capture = await captureScreen({ onEnded: () => { window.shareEnded = true; } });
  const stage = shareStage({ box: document.querySelector('#program-box') });
  stage.show(capture.stream, 'Điểm cầu chính');
  window.share = { capture, stage };
  return { hint: capture.track.contentHint, surface: capture.track.getSettings().displaySurface,
           audio: capture.stream.getAudioTracks().length };
}"""


async def test_the_main_bridge_page_captures_a_screen_and_shows_it_big(pages: Pages, web_server: Any) -> None:
    admin = await ApiClient.login(web_server.base, "admin", web_server.password)
    conf_id = f"share-{uuid.uuid4().hex[:8]}"
    start = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(microsecond=0)
    try:
        await admin.call("POST", "/conferences", {
            "conference_id": conf_id, "title": "Kiểm thử chia sẻ màn hình", "main_site": MAIN, "chair": "chutri",
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()})
        rows = (await admin.call("GET", f"/conferences/{conf_id}/links"))["links"]
        link = next(web_server.url("/join/" + link_parts(r["url"])[2]) for r in rows if r["site"] == MAIN)
    finally:
        await admin.close()
    main = await pages.open(link)
    await wait_online(main)
    info = await main.evaluate(CAPTURE)
    assert info == {"hint": "detail", "surface": "monitor", "audio": 0}, info
    size = await wait_js(main, "() => { const v = window.share.stage.video;"
                               " return v.videoWidth > 0 && [v.videoWidth, v.videoHeight]; }")
    assert size[0] <= 1920 and size[0] > 0, size
    assert await main.evaluate("() => document.querySelector('#program-box').classList.contains('presenting')")
    assert (await main.text_content("#program-box > .share-layer:last-child .share-caption") or "") == "Trình chiếu: Điểm cầu chính (màn hình)"
    # the program goes to a corner: a quarter of the stage's width, above the share
    corner = await main.evaluate("() => { const v = document.querySelector('#program-video').getBoundingClientRect();"
                                 " const b = document.querySelector('#program-box').getBoundingClientRect();"
                                 " return v.width / b.width; }")
    assert 0.2 < corner < 0.4, corner
    await main.evaluate("() => { window.share.capture.stop(); window.share.stage.hide(); }")
    assert await main.evaluate("() => window.shareEnded && window.share.capture.track.readyState === 'ended'")
    assert not await main.evaluate("() => document.querySelector('#program-box').classList.contains('presenting')")
