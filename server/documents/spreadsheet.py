"""Files a spreadsheet opens safely: CSV in UTF-8 with a byte-order mark (Excel reads
Vietnamese text right only with it), and no cell that becomes a formula (OWASP's advice on
CSV injection: a text that begins with =, +, -, @, a tab or a carriage return is written
behind an apostrophe). XLSX cells are kept as text by exports.actions_xlsx with
``FORMULA_START``. The directory's import (scheduling.directory) takes the apostrophe off."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

CSV_BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run: texts that would start a formula get a
    leading apostrophe (OWASP's advice); other values are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_csv(text: str) -> str:
    """A CSV made elsewhere (the directory, the join links) made spreadsheet-safe: BOM, every
    cell neutralized. (The directory's import takes the apostrophe off again.)"""
    rows = list(csv.reader(io.StringIO(text.lstrip(CSV_BOM))))
    return csv_text(rows[0] if rows else [], rows[1:])


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A spreadsheet-safe CSV: BOM, CRLF, every cell neutralized."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([neutralize(h) for h in header])
    for row in rows:
        w.writerow([neutralize(v) for v in row])
    return CSV_BOM + out.getvalue()
