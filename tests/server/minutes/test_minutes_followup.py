"""Action items across meetings: when the next conference of a series is scheduled, the open
action items of the previous one are offered as a follow-up agenda item ("Kiểm điểm việc
thực hiện nhiệm vụ được giao"); added, it refers to them; the new conference's minutes
record their status on the day of approval (hashed with the rest) and print it."""

from __future__ import annotations

import io
from datetime import timedelta

import docx
import pytest
from lxml import html as lxml_html

from scheduling import FOLLOW_UP_ITEM, FOLLOW_UP_TITLE
from server.documents import verify_document
from tests.server.minutes.minutes_env import Env

pytestmark = pytest.mark.asyncio(loop_scope="module")
SERIES = "giao-ban-thang"
PREV, NEXT, ELSEWHERE = "giao-ban-t8", "giao-ban-t9", "chuyen-de-so"


async def test_the_open_action_items_of_the_previous_conference_are_offered(env: Env) -> None:
    await env.create(PREV, series=SERIES, start=(env.now() - timedelta(days=30)).replace(microsecond=0))
    await env.hold(PREV, actions=(("nv-1", "Rà soát hộ nghèo, cận nghèo", ("P-AN",), 10),
                                  ("nv-2", "Báo cáo giải ngân vốn đầu tư công", ("P-BINH", "X-CHAU"), 3),
                                  ("nv-3", "Kiểm kê tài sản công", ("X-CHAU",), 20)))
    await env.command(PREV, "approve_minutes", role="chair")
    await env.as_site(PREV, "P-BINH", "post_progress", action_id="nv-2", text="Đã giải ngân 60% kế hoạch vốn",
                      percent=60)
    await env.as_site(PREV, "X-CHAU", "post_progress", action_id="nv-3", text="Đã kiểm kê xong", status="done")
    await env.command(PREV, "confirm_action_done", role="secretary", action_id="nv-3")
    await env.create(NEXT, series=SERIES, start=(env.now() + timedelta(days=1)).replace(microsecond=0))
    offer = await env.call("GET", f"/conferences/{NEXT}/follow-up", role="secretary")
    assert offer["previous"]["conference_id"] == PREV and offer["added_as"] is None
    assert offer["item"] == {"item_id": FOLLOW_UP_ITEM, "title": FOLLOW_UP_TITLE,
                             "follow_up": [f"{PREV}/nv-2", f"{PREV}/nv-1"]}   # by due date; nv-3 is done
    nv2 = offer["actions"][0]
    assert (nv2["title"], nv2["status"], nv2["assignee_names"]) == (
        "Báo cáo giải ngân vốn đầu tư công", "in_progress", ["Phường Bình Minh", "Xã Châu Sơn"])
    assert nv2["last_progress"]["text"] == "Đã giải ngân 60% kế hoạch vốn"


async def test_no_offer_without_an_earlier_conference_in_the_series(env: Env) -> None:
    await env.create(ELSEWHERE, series="chuyen-de")
    offer = await env.call("GET", f"/conferences/{ELSEWHERE}/follow-up", role="chair")
    assert offer["previous"] is None and offer["actions"] == []
    status, code, message = await env.refused("POST", f"/conferences/{ELSEWHERE}/follow-up", {}, role="chair")
    assert (status, code) == (409, "no_follow_up") and "chuyen-de" in message
    status, code, _ = await env.refused("GET", f"/conferences/{NEXT}/follow-up",
                                        token=await env.site_token(NEXT, "P-AN"))
    assert (status, code) == (403, "forbidden")


async def test_the_follow_up_item_is_added_to_the_agenda(env: Env) -> None:
    status, code, message = await env.refused("POST", f"/conferences/{NEXT}/follow-up", {"actions": ["nv-3"]},
                                              role="secretary")
    assert (status, code) == (404, "unknown_action") and "nv-3" in message
    status, code, _ = await env.refused("POST", f"/conferences/{NEXT}/follow-up", {}, role="observer")
    assert (status, code) == (403, "forbidden")   # the domain decides who edits the agenda
    added = await env.call("POST", f"/conferences/{NEXT}/follow-up", {"position": 0, "planned_minutes": 15},
                           role="secretary")
    assert added["item_id"] == FOLLOW_UP_ITEM and added["follow_up"] == [f"{PREV}/nv-2", f"{PREV}/nv-1"]
    item = env.state(NEXT).agenda[0]
    assert (item.item_id, item.title, item.planned_minutes) == (FOLLOW_UP_ITEM, FOLLOW_UP_TITLE, 15)
    assert item.follow_up == (f"{PREV}/nv-2", f"{PREV}/nv-1")
    offer = await env.call("GET", f"/conferences/{NEXT}/follow-up", role="secretary")
    assert offer["added_as"] == FOLLOW_UP_ITEM
    status, code, _ = await env.refused("POST", f"/conferences/{NEXT}/follow-up", {}, role="secretary")
    assert (status, code) == (409, "item_exists")


async def test_the_new_minutes_record_the_status_of_the_reviewed_items(env: Env) -> None:
    env.advance(timedelta(days=5))   # nv-2 (due 3 days after the previous meeting) is overdue by now
    await env.as_site(PREV, "P-AN", "post_progress", action_id="nv-1", text="Đã rà soát 12/15 tổ dân phố",
                      percent=80)
    await env.hold(NEXT)
    draft = await env.call("GET", f"/conferences/{NEXT}/minutes/content", role="secretary")
    assert [x["ref"] for x in draft["content"]["agenda"][0]["follow_up_status"]] == [f"{PREV}/nv-2", f"{PREV}/nv-1"]
    await env.command(NEXT, "approve_minutes", role="chair")
    (v1,) = env.state(NEXT).minutes.approved
    nv2, nv1 = v1.content["agenda"][0]["follow_up_status"]
    assert (nv2["status"], nv2["overdue"], nv2["last_progress"]["percent"]) == ("in_progress", True, 60)
    assert (nv1["status"], nv1["overdue"], nv1["last_progress"]["text"]) == \
        ("in_progress", False, "Đã rà soát 12/15 tổ dân phố")
    # what happens afterwards does not change the record
    await env.as_site(PREV, "P-AN", "post_progress", action_id="nv-1", text="Hoàn thành", status="done")
    assert v1.content["agenda"][0]["follow_up_status"][1]["status"] == "in_progress"
    _, _, page = await env.get(f"/conferences/{NEXT}/minutes/1.html", role="secretary")
    text = " ".join(lxml_html.fromstring(page).text_content().split())
    assert FOLLOW_UP_TITLE in text and "Nhiệm vụ của kỳ trước được xem xét:" in text
    assert ("1. Báo cáo giải ngân vốn đầu tư công (Phường Bình Minh; Xã Châu Sơn; hạn "
            in text) and "Đang thực hiện, quá hạn — tiến độ gần nhất" in text and "(60%)" in text
    assert "2. Rà soát hộ nghèo, cận nghèo (Phường An Hòa; hạn" in text and "Đã rà soát 12/15 tổ dân phố (80%)" in text
    assert verify_document(page, chain=env.state(NEXT).minutes.approved).ok
    _, _, word = await env.get(f"/conferences/{NEXT}/minutes/1.docx", role="secretary")
    paragraphs = [p.text for p in docx.Document(io.BytesIO(word)).paragraphs]
    assert any(p.startswith("1. Báo cáo giải ngân vốn đầu tư công") and "quá hạn" in p for p in paragraphs)
    assert verify_document(word, chain=env.state(NEXT).minutes.approved).ok
