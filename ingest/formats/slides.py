"""Read a PowerPoint .pptx into one Section per slide: page = slide number, headings = [slide title].

A slide's text is its shapes' text in reading order (top to bottom, then left to right), tables as rows,
then its speaker notes. A slide that cannot be read is left out with a warning, so one bad slide does not
lose the deck; a deck python-pptx cannot open is a SkipFile.
"""
from __future__ import annotations

from pathlib import Path

import pptx
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER

from ragqa.ingest.documents import Document, Section, SkipFile
from ragqa.ingest.formats.package import check_package, damaged, office_title
from ragqa.ingest.markdown import stem_of
from ragqa.ingest.reasons import one_line, page_ranges

_TITLES = (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE, PP_PLACEHOLDER.VERTICAL_TITLE)
_FAR = 10**12  # where a shape with no position sorts: after the ones that have one


def read_pptx(path: Path, rel: str, options) -> Document:
    """The reader for ragqa.ingest.formats."""
    check_package(path, "pptx")
    try:
        deck = pptx.Presentation(str(path))
        slides = list(deck.slides)
        core_title = deck.core_properties.title
    except Exception as err:  # noqa: BLE001 - python-pptx, lxml and zipfile raise many types for damaged files
        raise damaged("pptx", err) from None
    sections: list[Section] = []
    broken: list[int] = []
    first_error = ""
    for number, slide in enumerate(slides, 1):
        try:
            section = slide_section(slide, number)
        except Exception as err:  # noqa: BLE001 - keep the other slides
            broken.append(number)
            first_error = first_error or one_line(err)
            continue
        if section is not None:
            sections.append(section)
    warnings = [f"slide(s) {page_ranges(broken)} could not be read: {first_error}"] if broken else []
    if not sections:
        raise SkipFile(warnings[0] if warnings else f"no text on {len(slides)} slide(s)")
    first = next((s.headings[0] for s in sections if s.headings), None)
    title = office_title(core_title) or first or stem_of(rel)
    return Document(path=rel, title=title, sections=sections, kind="pptx", metadata={"slides": len(slides)},
                    warnings=warnings)


def slide_section(slide, number: int) -> Section | None:
    """The slide's Section, or None if it has no text at all."""
    title_shape = next((s for s in slide.placeholders if _placeholder_type(s) in _TITLES), None)
    title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
    title_id = title_shape.shape_id if title_shape is not None else None  # shapes are new proxies each time
    blocks = [text for shape in _in_reading_order(slide.shapes) if shape.shape_id != title_id
              for text in [shape_text(shape)] if text]
    if slide.has_notes_slide:
        frame = slide.notes_slide.notes_text_frame
        notes = _clean(frame.text) if frame is not None else ""
        if notes:
            blocks.append("Notes: " + notes)
    if not blocks and not title:
        return None
    # A title-only slide keeps its title as text, so that it still makes a chunk that can be found.
    return Section(headings=[title] if title else [], text="\n\n".join(blocks) or title, page=number)


def shape_text(shape) -> str:
    """A shape's text: its paragraphs (indented by level), a table's rows, a group's shapes in order."""
    if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
        return "\n\n".join(t for t in map(shape_text, _in_reading_order(shape.shapes)) if t)
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = []
        for row in shape.table.rows:
            cells = [" ".join(c.text.split()) for c in row.cells if not c.is_spanned]
            if any(cells):
                rows.append(" | ".join(c for c in cells if c))
        return "\n".join(rows)
    if _placeholder_type(shape) == PP_PLACEHOLDER.SLIDE_NUMBER or not shape.has_text_frame:
        return ""
    lines = ["  " * (p.level or 0) + _clean(p.text) for p in shape.text_frame.paragraphs]
    return "\n".join(line for line in lines if line.strip())


def _placeholder_type(shape):
    return shape.placeholder_format.type if shape.is_placeholder else None


def _in_reading_order(shapes) -> list:
    """Top to bottom, then left to right; a placeholder whose layout lost its position goes last."""
    def key(shape):
        try:
            top, left = shape.top, shape.left
        except Exception:  # noqa: BLE001 - an inherited position python-pptx cannot resolve
            top = left = None
        return (_FAR if top is None else top, _FAR if left is None else left)

    return sorted(shapes, key=key)


def _clean(text: str) -> str:
    """python-pptx writes a line break inside a paragraph as a vertical tab.

    >>> _clean(" a\\x0bb \\n")
    'a\\nb'
    """
    return "\n".join(line.strip() for line in text.replace("\x0b", "\n").strip().split("\n"))
