"""The low-level pieces of the DOCX: styles (Times New Roman 13 pt, Vietnamese proofing
language, black headings), table helpers, page fields, and the parts that carry the stamp
(a custom XML part, which Word keeps on save, and custom document properties)."""

from __future__ import annotations

from datetime import UTC, datetime

from docx.document import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.styles.style import BaseStyle
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from lxml import etree

from .stamp import XML_NS

FONT = "Times New Roman"
TABLE_TEXT = "Table Text"
CUSTOM_PROPS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
DS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/customXml"
FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
ITEM_ID = "{6B0A4C4E-6E0F-4B4B-9C1D-3B1D2B6C0A11}"


def set_font(style: BaseStyle, *, size: float | None = None, bold: bool | None = None,
             italic: bool | None = None) -> None:
    """Times New Roman for every script (theme fonts removed), black, and the given size."""
    font = style.font  # type: ignore[attr-defined]  # paragraph and character styles have one
    font.name = FONT
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)
    font.color.rgb = RGBColor(0, 0, 0)
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if italic is not None:
        font.italic = italic


def setup_styles(doc: Document, lang: str) -> None:
    normal = doc.styles["Normal"]
    set_font(normal, size=13)
    normal.paragraph_format.space_after = Pt(3)
    normal.paragraph_format.line_spacing = 1.1
    rpr = normal.element.get_or_add_rPr()
    lang_el = rpr.find(qn("w:lang"))
    if lang_el is None:
        lang_el = OxmlElement("w:lang")
        rpr.append(lang_el)
    lang_el.set(qn("w:val"), "vi-VN" if lang == "vi" else "en-GB")
    for name, size in (("Heading 1", 13), ("Heading 2", 13), ("Heading 3", 13)):
        style = doc.styles[name]
        set_font(style, size=size, bold=name != "Heading 3", italic=name == "Heading 3")
        style.paragraph_format.space_before = Pt(10 if name == "Heading 1" else 6)
        style.paragraph_format.space_after = Pt(3)
        style.paragraph_format.keep_with_next = True
    for name in ("Header", "Footer"):
        set_font(doc.styles[name], size=9)
    table_text = doc.styles.add_style(TABLE_TEXT, WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = normal
    set_font(table_text, size=10)
    table_text.paragraph_format.space_after = Pt(0)
    table_text.paragraph_format.line_spacing = 1.0


def fill_row(table: Table, cells: list[list[str]], *, style_id: str, bold: bool = False,
             center: tuple[int, ...] = ()) -> None:
    """Append a row; each cell is a list of lines (one paragraph each, in paragraph style
    ``style_id``). Cells take their widths from the table's grid. Works on the cell elements
    directly: python-docx's per-cell style lookup by name costs ~1 ms a cell."""
    tr = table.add_row()._tr  # type: ignore[no-untyped-call]
    tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))   # a row never breaks across pages
    for i, (tc, lines) in enumerate(zip(tr.tc_lst, cells, strict=True)):
        cell = _Cell(tc, table)
        for k, line in enumerate(lines or [""]):
            p = cell.paragraphs[0] if k == 0 else cell.add_paragraph()
            p._p.style = style_id
            if i in center:
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = p.add_run(line)
            if bold:
                run.bold = True


def repeat_header(table: Table) -> None:
    trpr = table.rows[0]._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def narrow_cell_margins(table: Table, twips: int = 57) -> None:
    """Left/right cell padding of ~1 mm (Word's default is 1.9 mm): narrow columns fit."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(twips))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    table._tbl.tblPr.append(margins)


def no_borders(table: Table) -> None:
    tblpr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tblpr.append(borders)


def add_field(paragraph: Paragraph, instruction: str) -> None:
    """A Word field such as PAGE or NUMPAGES (updated by Word when the page is laid out)."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def add_stamp_parts(doc: Document, stamp_json_ascii: str, props: dict[str, str]) -> None:
    """The stamp as a custom XML data part, and a few custom properties people can see."""
    package = doc.part.package
    root = etree.Element(f"{{{XML_NS}}}minutes", nsmap={None: XML_NS})
    root.text = stamp_json_ascii
    item_name = package.next_partname("/customXml/item%d.xml")
    item = Part(item_name, "application/xml",
                etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True), package)
    ds = etree.Element(f"{{{DS_NS}}}datastoreItem", nsmap={"ds": DS_NS})
    ds.set(f"{{{DS_NS}}}itemID", ITEM_ID)
    etree.SubElement(etree.SubElement(ds, f"{{{DS_NS}}}schemaRefs"), f"{{{DS_NS}}}schemaRef").set(
        f"{{{DS_NS}}}uri", XML_NS)
    item_props = Part(PackURI(item_name.replace("/item", "/itemProps")), CT.OFC_CUSTOM_XML_PROPERTIES,
                      etree.tostring(ds, xml_declaration=True, encoding="UTF-8", standalone=True), package)
    doc.part.relate_to(item, RT.CUSTOM_XML)
    item.relate_to(item_props, RT.CUSTOM_XML_PROPS)
    custom = etree.Element(f"{{{CUSTOM_PROPS_NS}}}Properties", nsmap={None: CUSTOM_PROPS_NS, "vt": VT_NS})
    for pid, (name, value) in enumerate(props.items(), start=2):
        prop = etree.SubElement(custom, f"{{{CUSTOM_PROPS_NS}}}property", fmtid=FMTID, pid=str(pid), name=name)
        etree.SubElement(prop, f"{{{VT_NS}}}lpwstr").text = value
    part = Part(PackURI("/docProps/custom.xml"), CT.OFC_CUSTOM_PROPERTIES,
                etree.tostring(custom, xml_declaration=True, encoding="UTF-8", standalone=True), package)
    package.relate_to(part, RT.CUSTOM_PROPERTIES)


APP_XML = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           '<Application>bridgeconf</Application><DocSecurity>0</DocSecurity></Properties>')


def set_core_properties(doc: Document, *, title: str, author: str, subject: str, lang: str,
                        when: datetime) -> None:
    """The file's own metadata, not the library template's (created 2013 by "Microsoft
    Macintosh Word", a blank thumbnail): our title, the organisation as author, created and
    modified at ``when`` (the approval, or the end of the conference for a draft)."""
    core = doc.core_properties
    core.title, core.subject = title[:255], subject[:255]
    core.author = core.last_modified_by = author[:255]
    core.language = "vi-VN" if lang == "vi" else "en-GB"
    core.created = core.modified = when.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    core.revision = 1
    core.keywords = core.comments = core.category = ""
    package = doc.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package.rels.pop(rid)
        elif rel.reltype == RT.EXTENDED_PROPERTIES:
            rel.target_part._blob = APP_XML.encode()
