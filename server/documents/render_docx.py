"""Minutes as DOCX, which officials edit and file: A4, Times New Roman, the national
masthead, real headings (Heading 1 sections, Heading 2 agenda items, Heading 3 sub-parts),
real tables with a header row repeated on every page, page numbers, and the stamp in a
custom XML part. python-docx escapes all text; a draft carries "DỰ THẢO" on every page."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

import docx
from docx.document import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

from .docx_parts import (
    TABLE_TEXT,
    add_field,
    add_stamp_parts,
    fill_row,
    narrow_cell_margins,
    no_borders,
    repeat_header,
    set_core_properties,
    setup_styles,
)
from .source import MinutesSource, RenderOptions
from .stamp import stamp_json
from .view import MinutesView, build_view
from .ward_docx import ward_docx
from .ward_view import ward_view

TEXT_WIDTH_MM = 165


def render_docx(source: MinutesSource, options: RenderOptions | None = None) -> bytes:
    options = options or RenderOptions()
    view = build_view(source, options)
    doc = docx.Document()
    setup_styles(doc, view.lang)
    _page(doc, view)
    _masthead(doc, view, editable=source.approval is not None)
    _fields(doc, view)
    _attendance(doc, view)
    _agenda(doc, view)
    _proceedings(doc, view)
    _actions(doc, view)
    ward_docx(doc, ward_view(source.content, view.lang))   # recommendations and votes, when any
    _signatures(doc, view)
    _verification(doc, view)
    props = {"bridgeconf-status": "draft" if view.draft else "approved",
             "bridgeconf-version": str(source.version)}
    if source.approval is not None:
        props["bridgeconf-sha256"] = source.approval.sha256
    add_stamp_parts(doc, stamp_json(source, options, ascii_only=True), props)
    a, header = source.approval, source.content["header"]
    when = a.approved_at if a and a.approved_at else datetime.fromisoformat(header.get("ended_at")
                                                                          or header["planned_end"])
    set_core_properties(doc, title=view.doc_title, author=" – ".join(x for x in (view.governing_body,
                        view.organization) if x), subject=view.title, lang=view.lang, when=when)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _page(doc: Document, view: MinutesView) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    if view.draft:
        head = section.header.paragraphs[0]
        head.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = head.add_run(f"{view.L['draft']} – {view.L['draft_note']}")
        run.bold, run.font.color.rgb = True, RGBColor(0xAA, 0, 0)
    foot = section.footer.paragraphs[0]
    foot.add_run(view.footer).font.size = Pt(8)
    # Decree 30/2020: the page number centred at the top, from the second page on
    section.different_first_page_header_footer = True
    number = section.header.add_paragraph() if view.draft else section.header.paragraphs[0]
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_field(number, "PAGE")
    first_foot = section.first_page_footer.paragraphs[0]
    first_foot.add_run(view.footer).font.size = Pt(8)
    if view.draft:
        first_head = section.first_page_header.paragraphs[0]
        first_head.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = first_head.add_run(f"{view.L['draft']} – {view.L['draft_note']}")
        run.bold, run.font.color.rgb = True, RGBColor(0xAA, 0, 0)


def _masthead(doc: Document, view: MinutesView, *, editable: bool) -> None:
    L = view.L
    if editable:   # an approved version's DOCX is for editing; the signed PDF is the original
        note = _centered(doc.add_paragraph(), L["docx_copy"], bold=True, size=10)
        note.runs[0].font.color.rgb = RGBColor(0xAA, 0, 0)
    table = doc.add_table(rows=0, cols=2)
    no_borders(table)
    table.autofit = False
    for column, width in zip(table.columns, (62, 103), strict=True):
        column.width = Mm(width)
    left, right = table.add_row().cells
    if view.governing_body:
        _centered(left.paragraphs[0], view.governing_body, size=12.5)
        _centered(left.add_paragraph(), view.organization, bold=True, size=12.5)
    else:
        _centered(left.paragraphs[0], view.organization, bold=True, size=12.5)
    _centered(left.add_paragraph(), "―――――", size=9)
    if view.number_line:
        _centered(left.add_paragraph(), view.number_line, size=13)
    if view.draft:
        _centered(left.add_paragraph(), f"[ {L['draft']} ]", bold=True, size=12)
    _centered(right.paragraphs[0], L["nation"], bold=True, size=12)
    _centered(right.add_paragraph(), L["motto"], bold=True, size=13)
    _centered(right.add_paragraph(), "―――――――――――――", size=9)
    date = doc.add_paragraph()
    date.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    date.add_run(view.place_date).italic = True
    _centered(doc.add_paragraph(), L["doc_kind"], bold=True, size=15).paragraph_format.space_before = Pt(8)
    _centered(doc.add_paragraph(), view.title, bold=True).paragraph_format.space_after = Pt(8)
    if view.draft:
        note = _centered(doc.add_paragraph(), L["draft_note"])
        note.runs[0].italic = True


def _centered(p: Paragraph, text: str, *, bold: bool = False,
              size: float | None = None) -> Paragraph:
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.space_after = Pt(0)
    run = p.add_run(text)
    run.bold = bold
    if size is not None:
        run.font.size = Pt(size)
    return p


def _fields(doc: Document, view: MinutesView) -> None:
    for f in view.fields:
        p = doc.add_paragraph()
        p.add_run(f"{f.label}: ").bold = True
        p.add_run(f.value)


def _grid(doc: Document, header: list[str], widths_mm: Sequence[float]) -> Table:
    """A bordered table: column widths first (new cells take them), then the header row,
    repeated on every page."""
    table: Table = doc.add_table(rows=0, cols=len(header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    narrow_cell_margins(table)
    for column, width in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(width)
    _row(doc, table, [[h] for h in header], bold=True, center=tuple(range(len(header))))
    repeat_header(table)
    return table


def _row(doc: Document, table: Table, cells: list[list[str]], *, bold: bool = False,
         center: tuple[int, ...] = ()) -> None:
    fill_row(table, cells, style_id=doc.styles[TABLE_TEXT].style_id, bold=bold, center=center)


def _attendance(doc: Document, view: MinutesView) -> None:
    L = view.L
    doc.add_heading(L["sec_attendance"], level=1)
    widths = [10, 40, 14, 13, 13, 18, 15, 42]
    table = _grid(doc, list(view.headers.attendance), widths)
    for r in view.attendance:
        site = f"{r.site} ({L['main_mark']})" if r.main else r.site
        _row(doc, table, [[r.number], [site], [r.presence], [r.joined], [r.left], [r.headcount],
                         [r.leaders_present], list(r.leaders_absent)], center=(0, 2, 3, 4, 5, 6))
    _row(doc, table, [[""], [L["total_row"]], [""], [""], [""], [view.attendance_total], [""], [""]],
             bold=True, center=(5,))


def _agenda(doc: Document, view: MinutesView) -> None:
    L = view.L
    doc.add_heading(L["sec_agenda"], level=1)
    widths = [10, 48, 30, 13, 16, 16, 14, 18]
    table = _grid(doc, list(view.headers.agenda), widths)
    for a in view.agenda:
        _row(doc, table, [[a.number], [a.title], [a.presenter], [a.start], [a.planned], [a.actual], [a.delta],
                         [a.status]], center=(0, 3, 4, 5, 6))


def _proceedings(doc: Document, view: MinutesView) -> None:
    L = view.L
    doc.add_heading(L["sec_content"], level=1)
    for s in view.sections:
        doc.add_heading(f"{s.number}. {s.title}", level=2)
        if s.presenter:
            p = doc.add_paragraph()
            p.add_run(f"{L['presenter']}: ").bold = True
            p.add_run(s.presenter)
        doc.add_paragraph(s.time_line)
        if s.follow_up_lines:
            doc.add_paragraph().add_run(f"{L['follow_up']}:").bold = True
            for n, line in enumerate(s.follow_up_lines, 1):
                doc.add_paragraph(f"{n}. {line}")
        if s.follow_up:
            p = doc.add_paragraph()
            p.add_run(f"{L['follow_up']}: ").bold = True
            p.add_run(s.follow_up)
        if s.notes:
            doc.add_heading(L["notes"], level=3)
            for note in s.notes:
                doc.add_paragraph(note)
        if s.speakers:
            doc.add_heading(L["speakers"], level=3)
            widths = [10, 32, 78, 14, 31]
            table = _grid(doc, list(view.headers.speakers), widths)
            for t in s.speakers:
                topic = [t.topic, t.slides] if t.slides else [t.topic]
                _row(doc, table, [[t.number], [t.site], topic, [t.start], [t.duration]], center=(0, 3, 4))
        for line in s.slides:
            doc.add_paragraph(line)
        if s.conclusions:
            doc.add_paragraph().add_run(f"{L['conclusions']}:").bold = True
            for text in s.conclusions:
                doc.add_paragraph().add_run(text).bold = True
    if view.general_notes:
        doc.add_heading(L["sec_general"], level=2)
        for note in view.general_notes:
            doc.add_paragraph(note)


def _actions(doc: Document, view: MinutesView) -> None:
    L = view.L
    doc.add_heading(L["sec_actions"], level=1)
    if not view.actions:
        doc.add_paragraph(L["no_actions"])
        return
    widths = [10, 52, 47, 21, 11, 24]
    table = _grid(doc, list(view.headers.actions), widths)
    for a in view.actions:
        _row(doc, table, [[a.number], [a.title, a.description] if a.description else [a.title], [a.assignees],
                         [a.due], [a.item], [a.status]], center=(0, 3, 4))
        if a.description:
            for run in table.rows[-1].cells[1].paragraphs[-1].runs:
                run.italic = True


def _signatures(doc: Document, view: MinutesView) -> None:
    L = view.L
    if view.closing:
        p = doc.add_paragraph()
        p.paragraph_format.space_before = Pt(8)
        p.paragraph_format.keep_with_next = True
        p.add_run(view.closing).italic = True
    table = doc.add_table(rows=1, cols=2)
    no_borders(table)
    for cell, role, names in zip(table.rows[0].cells, (view.secretary_title, view.chair_title),
                                 (view.secretaries, (view.chair,)), strict=True):
        _centered(cell.paragraphs[0], role, bold=True)
        _centered(cell.add_paragraph(), L["sign_hint"]).runs[0].italic = True
        for _ in range(4):
            cell.add_paragraph()
        for name in names:
            _centered(cell.add_paragraph(), name, bold=True)
    if view.recipients:
        head = doc.add_paragraph()
        head.paragraph_format.space_before = Pt(12)
        run = head.add_run(f"{L['recipients']}:")
        run.bold, run.italic, run.font.size = True, True, Pt(12)
        for r in view.recipients:
            p = doc.add_paragraph()
            p.paragraph_format.space_after = Pt(0)
            p.add_run(f"- {r}").font.size = Pt(11)


def _verification(doc: Document, view: MinutesView) -> None:
    if not view.verification:
        return
    L = view.L
    doc.add_paragraph().paragraph_format.space_before = Pt(12)
    table = doc.add_table(rows=0, cols=1)
    table.style = doc.styles["Table Grid"]
    lines = [L["verification"]] + [f"{f.label}: {f.value}" + (f" {f.note}" if f.note else "")
                                   for f in view.verification] + [L["verify_hint"]]
    _row(doc, table, [lines])
    cell = table.rows[0].cells[0]
    cell.paragraphs[0].runs[0].bold = True
    for p in cell.paragraphs:
        for run in p.runs:
            run.font.size = Pt(9)
