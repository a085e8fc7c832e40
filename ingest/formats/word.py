"""Read a Word .docx into sections under its heading breadcrumb, then its headers, footers and notes.

python-docx opens the package (checking its parts and relationships) and gives the styles, the core
properties and the header, footer and note parts. The text itself is read from the XML: python-docx's
Paragraph.text leaves out tracked insertions, content controls and fields, and its Document.paragraphs
loses where the tables were. The heading breadcrumb is built as for Markdown (package.heading_sections, which
the OpenDocument reader shares).
"""
from __future__ import annotations

import re
from pathlib import Path

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from lxml import etree

from ragqa.ingest.documents import Document, Section, SkipFile
from ragqa.ingest.formats.package import check_package, damaged, heading_sections, office_title
from ragqa.ingest.markdown import stem_of

NS = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
      "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006"}
W = f"{{{NS['w']}}}"
# Text-bearing run children; mc:Fallback repeats a text box's text in old VML, so it is left out.
_RUN_TEXT = etree.XPath(".//w:r[not(ancestor::mc:Fallback)]/*[self::w:t or self::w:tab or self::w:br "
                        "or self::w:cr or self::w:noBreakHyphen]", namespaces=NS)
_BLANK = " \t\n\u00a0•◦▪"  # a paragraph of only these (an empty bullet typed by hand) says nothing
_INLINE = {"tab": "\t", "br": "\n", "cr": "\n", "noBreakHyphen": "-"}  # w:t gives its own text
_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.I)
_NOTE_PARTS = [(RT.HEADER, "Header"), (RT.FOOTER, "Footer"), (RT.FOOTNOTES, "Footnotes"), (RT.ENDNOTES, "Endnotes")]



def read_docx(path: Path, rel: str, options) -> Document:
    """The reader for ragqa.ingest.formats: body under its headings, then Header/Footer/Footnotes sections."""
    check_package(path, "docx")
    try:
        word = docx.Document(str(path))
        blocks = list(_blocks(word.element.body, _style_levels(word)))
        extra = _part_sections(word.part)
        core_title = word.core_properties.title
    except Exception as err:  # noqa: BLE001 - python-docx, lxml and zipfile raise many types for damaged files
        raise damaged("docx", err) from None
    first = next((text for level, text in blocks if level is not None and level <= 1), None)
    title = office_title(core_title) or first or stem_of(rel)
    sections = heading_sections(blocks, title) + extra
    if not sections:
        raise SkipFile("no text in this docx")
    return Document(path=rel, title=title, sections=sections, kind="docx")


def _style_levels(word) -> dict[str, int]:
    """style id -> heading level (0 for Title), from the style's name or its outline level. (basedOn is not
    followed: Subtitle is based on Title in some templates, and is no heading.)"""
    levels = {}
    for style in word.styles.element.findall(W + "style"):
        name = (_val(style, W + "name") or "").strip()
        outline = _val(style, f"{W}pPr/{W}outlineLvl") or ""
        heading = _HEADING_STYLE.match(name)
        if name.lower() == "title" or heading:
            levels[style.get(W + "styleId", "")] = int(heading.group(1)) if heading else 0
        elif outline.isdigit() and int(outline) < 9:  # 9 means body text
            levels[style.get(W + "styleId", "")] = int(outline) + 1
    return levels


def _val(parent, path: str) -> str | None:
    """The w:val of parent's child at `path`, if there is one."""
    child = parent.find(path)
    return None if child is None else child.get(W + "val")


def _blocks(parent, levels: dict[str, int]):
    """Blocks in document order: paragraphs (a heading level if they are one), tables as rows of text."""
    items: list[str] = []  # consecutive list items stay one block, one a line
    for child in parent:
        if child.tag == W + "p":
            text = paragraph_text(child)
            if not text.strip(_BLANK):
                continue
            style = _val(child, f"{W}pPr/{W}pStyle")
            level = levels.get(style) if style is not None else None
            if level is None and child.find(f"{W}pPr/{W}numPr") is not None:
                items.append("- " + text.strip())
                continue
            if items:
                yield None, "\n".join(items)
                items = []
            yield (level, " ".join(text.split())) if level is not None else (None, text.strip())
        else:
            if items:
                yield None, "\n".join(items)
                items = []
            if child.tag == W + "tbl":
                rows = table_rows(child)
                if rows:
                    yield None, "\n".join(rows)
            elif child.tag == W + "sdt":  # a content control: its content is ordinary blocks
                content = child.find(W + "sdtContent")
                yield from _blocks(content if content is not None else [], levels)
    if items:
        yield None, "\n".join(items)


def paragraph_text(p) -> str:
    """A w:p's text, with tabs and line breaks kept."""
    return "".join(_INLINE.get(etree.QName(node).localname, node.text or "") for node in _RUN_TEXT(p))


def table_rows(tbl) -> list[str]:
    """One line per row, cells joined with " | "; a nested table's rows are joined with "; " in its cell."""
    rows = []
    for tr in tbl.iterchildren(W + "tr"):
        cells = []
        for tc in tr.iterchildren(W + "tc"):
            lines = [line for _, text in _blocks(tc, {}) for line in text.split("\n")]
            cell = "; ".join(" ".join(line.split()) for line in lines if line.strip())
            if cell:
                cells.append(cell)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def _part_sections(document_part) -> list[Section]:
    """["Header"], ["Footer"], ["Footnotes"], ["Endnotes"] sections; a text repeated in several is kept once."""
    sections: list[Section] = []
    seen: set[str] = set()
    rels = sorted(document_part.rels.values(), key=lambda r: "" if r.is_external else str(r.target_part.partname))
    for reltype, heading in _NOTE_PARTS:
        texts = []
        for rel in rels:
            if rel.reltype != reltype or rel.is_external:
                continue
            root = parse_xml(rel.target_part.blob)
            notes = [n for n in root if n.get(W + "type") not in ("separator", "continuationSeparator",
                                                                     "continuationNotice")]
            for holder in (notes if heading.endswith("notes") else [root]):
                text = "\n".join(t for _, t in _blocks(holder, {})).strip()
                if text and text not in seen:
                    seen.add(text)
                    texts.append(text)
        if texts:
            sections.append(Section(headings=[heading], text="\n\n".join(texts)))
    return sections
