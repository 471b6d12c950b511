"""The languages of the web client: the catalogs are complete, every string the scripts ask
for exists, and numbers and dates are written the Vietnamese way."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from client_web import i18n
from client_web.strings import STRINGS, js_table

JS = Path(i18n.HERE) / "static" / "js"
# families of keys built at run time, e.g. t(`phase.${phase}`), and the values they take
FAMILIES = {
    "conn": ["connecting", "online", "reconnecting", "offline", "refused"],
    "phase": ["draft", "scheduled", "rehearsal", "live", "ended", "cancelled"],
    "item": ["pending", "active", "done", "skipped"],
    "action": ["open", "in_progress", "done", "cancelled"],
    "state": ["online", "reconnecting", "offline", "never"],
    "notes.status": ["typing", "saving", "saved", "empty", "conflict", "error"],
    "notes.all": ["saved", "saving", "waiting", "conflict", "error"],
}


def test_vietnamese_catalog_is_complete() -> None:
    assert i18n.problems() == []


def test_every_key_the_scripts_use_is_in_the_table() -> None:
    used: set[str] = set()
    for path in JS.glob("*.js"):
        source = path.read_text()
        used |= set(re.findall(r'\bt\(\s*"([a-z_]+\.[a-z_.]+)"', source))
        # keys picked by a condition: t(cond ? "a.b" : "a.c"), t(`x.${y}`) families below
        used |= set(re.findall(r'"((?:notes|actions|agenda|floor|checkin|inbox|chair|wall|queue|sel|rollcall|preview|admin|site|main)\.[a-z_.]+)"', source))
    for family, values in FAMILIES.items():
        used |= {f"{family}.{v}" for v in values}
    used |= {f"conn.{v}.hint" for v in FAMILIES["conn"]}
    assert sorted(used - set(STRINGS)) == []


def test_the_table_is_translated_and_keeps_placeholders() -> None:
    vi, en = js_table("vi"), js_table("en")
    assert set(vi) == set(en) == set(STRINGS)
    assert vi["conn.online"] == "Trực tuyến" and en["conn.online"] == "Online"
    for key, english in en.items():
        assert re.findall(r"\{\w+\}", english) == re.findall(r"\{\w+\}", vi[key]) or \
            sorted(re.findall(r"\{\w+\}", english)) == sorted(re.findall(r"\{\w+\}", vi[key])), key
    untranslated = [k for k in STRINGS if vi[k] == en[k] and re.search(r"[A-Za-z]{4}", en[k]) and "{" not in en[k]]
    assert untranslated == []


def test_vietnamese_is_the_default_language() -> None:
    assert i18n.pick(None) == "vi"
    assert i18n.pick("fr") == "vi"
    assert i18n.pick("en") == "en"


def test_numbers_and_dates_are_written_the_vietnamese_way() -> None:
    assert i18n.number("vi", 15234) == "15.234"
    assert i18n.number("en", 15234) == "15,234"
    assert i18n.day(date(2025, 10, 3)) == "03/10/2025"
    at = datetime(2025, 10, 3, 1, 5, tzinfo=ZoneInfo("UTC"))
    assert i18n.day(at, "Asia/Ho_Chi_Minh") == "03/10/2025"
    assert i18n.clock(at, "Asia/Ho_Chi_Minh") == "08:05"
    assert i18n.clock("2025-10-03T23:30:00+00:00", "Asia/Ho_Chi_Minh") == "06:30"
    assert i18n.day("2025-10-03T23:30:00+00:00", "Asia/Ho_Chi_Minh") == "04/10/2025"
