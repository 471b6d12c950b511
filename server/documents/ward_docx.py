"""The minutes' sections of what the wards brought, in the DOCX (see ward_view.py)."""

from __future__ import annotations

from docx.document import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.shared import Mm

from .docx_parts import TABLE_TEXT, fill_row, narrow_cell_margins
from .ward_view import WardView

WIDTHS_MM = (10, 45, 28, 28, 40, 19)


def ward_docx(doc: Document, w: WardView) -> None:
    if w.recs:
        doc.add_heading(w.L["sec_recs"], level=1)
        table = doc.add_table(rows=0, cols=len(w.L["cols"]))
        table.style = doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        narrow_cell_margins(table)
        for column, width in zip(table.columns, WIDTHS_MM, strict=True):
            column.width = Mm(width)
        style = doc.styles[TABLE_TEXT].style_id
        fill_row(table, [[h] for h in w.L["cols"]], style_id=style, bold=True)
        for r in w.recs:
            fill_row(table, [[r.number], [r.title, r.field], [r.sources], [r.departments], list(r.answers),
                             [r.status]], style_id=style)
    if w.votes:
        doc.add_heading(w.L["sec_votes"], level=1)
        for i, v in enumerate(w.votes, 1):
            doc.add_paragraph(f"{i}. {v.question} ({v.how}). {v.voters}.")
            doc.add_paragraph("; ".join(v.results))
            if v.who:
                doc.add_paragraph(f"{w.L['who']}: " + "; ".join(v.who))
