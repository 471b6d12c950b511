"""Languages of the web client: Vietnamese (the default) and English.

Strings are gettext messages with English msgids. Templates mark them with ``_()``; the
JavaScript string table (``strings.py``) marks them with ``N_()``. Babel extracts both
into ``i18n/messages.pot``; ``i18n/vi.po`` holds the Vietnamese. Nothing is compiled at
install time: the ``.po`` is read and compiled in memory when the app starts.

    python -m client_web.i18n extract     # refresh messages.pot and merge it into vi.po
    python -m client_web.i18n check       # every message translated, nothing fuzzy or stale

Numbers and dates follow the language: ``15.234`` and ``03/10/2025`` in Vietnamese,
``15,234`` and ``03/10/2025`` in English (day first in both: the users are Vietnamese).
"""

from __future__ import annotations

import io
import sys
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

HERE = Path(__file__).parent
CATALOGS = HERE / "i18n"
LANGUAGES = ("vi", "en")
DEFAULT = "vi"
LANG_COOKIE = "bc_lang"
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
# where messages come from: Python (the JS string table, page titles) and the templates
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
KEYWORDS = DEFAULT_KEYWORDS


def pick(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of ``lang`` (English is the msgids themselves)."""
    if lang == "en":
        return NullTranslations()
    with open(CATALOGS / f"{lang}.po", "rb") as f:
        catalog = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf)


def gettext(lang: str, message: str) -> str:
    return translations(lang).gettext(message)


# -- formats -------------------------------------------------------------------------------

def number(lang: str, value: int | float) -> str:
    return format_decimal(value, locale="vi" if lang == "vi" else "en_GB")


def day(value: date | datetime | str | None, tz: str | None = None) -> str:
    """dd/mm/yyyy (in ``tz`` for a date-time)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime) and tz:
        value = value.astimezone(ZoneInfo(tz))
    return value.strftime("%d/%m/%Y")


def clock(value: datetime | str | None, tz: str | None = None) -> str:
    """HH:MM (24 h) in ``tz``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if tz:
        value = value.astimezone(ZoneInfo(tz))
    return value.strftime("%H:%M")


# -- catalogs: extract, merge, check ---------------------------------------------------------

def extract() -> Catalog:
    """Every message the client uses, from the templates and the Python modules."""
    catalog = Catalog(project="bridgeconf", version="1", msgid_bugs_address="", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(HERE), METHOD_MAP, OPTIONS, keywords=KEYWORDS, strip_comment_tags=True):
        if isinstance(message, tuple):
            message = message[0]
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _write(catalog: Catalog, path: Path) -> None:
    with open(path, "wb") as f:
        write_po(f, catalog, width=100, sort_output=True, omit_header=False, include_lineno=False)


def update() -> None:
    template = extract()
    _write(template, CATALOGS / "messages.pot")
    po = CATALOGS / "vi.po"
    if po.exists():
        with open(po, "rb") as f:
            catalog = read_po(f, locale="vi")
    else:
        catalog = Catalog(locale="vi", project="bridgeconf", charset="utf-8")
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    _write(catalog, po)


def problems() -> list[str]:
    """What is wrong with the catalogs: messages untranslated, fuzzy, or no longer used."""
    wanted = {m.id for m in extract() if m.id}
    with open(CATALOGS / "vi.po", "rb") as f:
        catalog = read_po(f, locale="vi")
    have = {m.id: m for m in catalog if m.id}
    out = [f"untranslated: {mid!r}" for mid in sorted(wanted) if mid not in have or not have[mid].string]
    out += [f"fuzzy: {mid!r}" for mid, m in sorted(have.items()) if m.fuzzy and mid in wanted]
    out += [f"unused: {mid!r}" for mid in sorted(set(have) - wanted)]
    for mid, m in have.items():   # placeholders must survive translation
        if m.string and _placeholders(mid) != _placeholders(str(m.string)):
            out.append(f"placeholders differ: {mid!r}")
    return out


def _placeholders(text: str) -> set[str]:
    import re
    return set(re.findall(r"%\(\w+\)s|\{\w+\}", text))


def main(argv: list[str]) -> int:
    if argv[:1] == ["extract"]:
        update()
        print(f"wrote {CATALOGS / 'messages.pot'} and merged it into vi.po")
        return 0
    if argv[:1] == ["check"]:
        found = problems()
        print("\n".join(found) or "catalogs complete")
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

