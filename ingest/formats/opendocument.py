"""Read an OpenDocument text (.odt) the way a .docx is read: heading breadcrumb, tables as rows,
then headers, footers and notes.

The XML is read with lxml (already here for python-docx) rather than odfpy: on the fixture odfpy took
~40x as long and has had no release since 2020, and ODF text is plain enough to walk (text:h carries its
outline level; text:s, text:tab and text:line-break are the only inline layout).
"""
from __future__ import annotations

import zipfile
from pathlib import Path

from lxml import etree

from ragqa.ingest.documents import Document, Section, SkipFile
from ragqa.ingest.formats.package import check_package, damaged, heading_sections, office_title
from ragqa.ingest.markdown import stem_of

TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
# No entity expansion, no network: the file is untrusted.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
# Generated or hidden content: a table of contents repeats the headings, tracked changes hold deleted
# text, and a page-number field in a footer says nothing about the document.
_SKIP = {TEXT + "table-of-content", TEXT + "alphabetical-index", TEXT + "illustration-index",
         TEXT + "table-index", TEXT + "object-index", TEXT + "user-index", TEXT + "bibliography",
         TEXT + "tracked-changes", TEXT + "sequence-decls", OFFICE + "forms", OFFICE + "annotation",
         TEXT + "page-number", TEXT + "page-count"}
_ROW_GROUPS = {TABLE + "table-header-rows", TABLE + "table-rows", TABLE + "table-row-group"}
_MAX_SPACES = 100  # text:s c="..." is a count from the file; a huge one must not build a huge string


def read_odt(path: Path, rel: str, options) -> Document:
    """The reader for ragqa.ingest.formats: body under its headings, then Header/Footer/Footnotes sections."""
    check_package(path, "odt")
    try:
        with zipfile.ZipFile(path) as package:
            names = set(package.namelist())
            if "META-INF/manifest.xml" in names and b"encryption-data" in package.read("META-INF/manifest.xml"):
                raise SkipFile("password-protected odt: save it without a password")
            content = etree.fromstring(package.read("content.xml"), _PARSER)
            styles = etree.fromstring(package.read("styles.xml"), _PARSER) if "styles.xml" in names else None
            meta = etree.fromstring(package.read("meta.xml"), _PARSER) if "meta.xml" in names else None
        body = content.find(f"{OFFICE}body/{OFFICE}text")
        if body is None:
            raise SkipFile("not a text document (no office:text body): is it a spreadsheet or drawing renamed?")
        notes: list[str] = []
        blocks = list(_blocks(body, notes, _title_styles(content)))
        extra = _page_sections(styles) if styles is not None else []
    except SkipFile:
        raise
    except Exception as err:  # noqa: BLE001 - zipfile, lxml and ValueError from bad attributes: all mean a damaged file
        raise damaged("odt", err) from None
    if notes:
        extra.append(Section(headings=["Footnotes"], text="\n\n".join(notes)))
    meta_title = meta.findtext(f".//{DC_TITLE}") if meta is not None else None
    first = next((text for level, text in blocks if level is not None and level <= 1), None)
    title = office_title(meta_title) or first or stem_of(rel)
    sections = heading_sections(blocks, title) + extra
    if not sections:
        raise SkipFile("no text in this odt")
    return Document(path=rel, title=title, sections=sections, kind="odt")


def _title_styles(content) -> set[str]:
    """Paragraph style names that are the Title style, including automatic styles derived from it."""
    titles = {"Title"}
    for style in content.iter(STYLE + "style"):
        if style.get(STYLE + "parent-style-name") == "Title":
            titles.add(style.get(STYLE + "name"))
    return titles


def _blocks(parent, notes: list[str], titles: set[str]):
    """(heading level or None, text) in document order; lists and tables are one block, one line each."""
    for child in parent:
        tag = child.tag
        if tag == TEXT + "h":
            text = " ".join(inline_text(child, notes).split())
            if text:
                yield int(child.get(TEXT + "outline-level") or 1), text
        elif tag == TEXT + "p":
            text = inline_text(child, notes).strip()
            if text:
                yield (0 if child.get(TEXT + "style-name") in titles else None), text
        elif tag == TEXT + "list":
            lines = list(_list_lines(child, notes, 0))
            if lines:
                yield None, "\n".join(lines)
        elif tag == TABLE + "table":
            rows = table_rows(child, notes)
            if rows:
                yield None, "\n".join(rows)
        elif tag not in _SKIP:  # text:section and other containers hold ordinary blocks
            yield from _blocks(child, notes, titles)


def _list_lines(lst, notes: list[str], depth: int):
    for item in lst:
        for child in item:
            if child.tag == TEXT + "list":
                yield from _list_lines(child, notes, depth + 1)
            else:
                for _, text in _blocks([child], notes, set()):
                    yield "  " * depth + "- " + " ".join(text.split())


def table_rows(table, notes: list[str]) -> list[str]:
    """One line per row, cells joined with " | " (a nested table's rows with "; "); merged-over cells skipped."""
    rows = []
    for row in _rows(table):
        cells = []
        for cell in row.iterchildren(TABLE + "table-cell"):
            lines = [line for _, text in _blocks(cell, notes, set()) for line in text.split("\n")]
            text = "; ".join(" ".join(line.split()) for line in lines if line.strip())
            if text:
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def _rows(table):
    for child in table:
        if child.tag == TABLE + "table-row":
            yield child
        elif child.tag in _ROW_GROUPS:
            yield from _rows(child)


def inline_text(element, notes: list[str]) -> str:
    """A paragraph's text with its spaces, tabs and line breaks; a footnote's text goes to `notes`.

    >>> p = etree.fromstring(f'<p xmlns:t="{TEXT[1:-1]}">a<t:s t:c="3"/>b<t:tab/>c<t:line-break/>d</p>')
    >>> inline_text(p, [])
    'a   b\\tc\\nd'
    """
    parts = [element.text or ""]
    for child in element:
        tag = child.tag
        if tag == TEXT + "s":
            count = child.get(TEXT + "c") or "1"
            parts.append(" " * min(int(count) if count.isdigit() else 1, _MAX_SPACES))
        elif tag == TEXT + "tab":
            parts.append("\t")
        elif tag == TEXT + "line-break":
            parts.append("\n")
        elif tag == TEXT + "note":
            body = child.find(TEXT + "note-body")
            text = "\n".join(t for _, t in _blocks(body, notes, set())) if body is not None else ""
            if text.strip():
                notes.append(text.strip())
        elif tag not in _SKIP and isinstance(tag, str):  # spans, links, frames: their text counts
            parts.append(inline_text(child, notes))
        parts.append(child.tail or "")
    return "".join(parts)


def _page_sections(styles) -> list[Section]:
    """["Header"] and ["Footer"] sections from the master pages; a text repeated on several is kept once."""
    found: dict[str, list[str]] = {"Header": [], "Footer": []}
    for page in styles.iter(STYLE + "master-page"):
        for part in page:
            name = etree.QName(part).localname  # header, header-left, header-first, footer, ...
            if not name.startswith(("header", "footer")):
                continue
            kind = "Header" if name.startswith("header") else "Footer"
            text = "\n".join(t for _, t in _blocks(part, [], set())).strip()
            if text and text not in found[kind]:
                found[kind].append(text)
    return [Section(headings=[kind], text="\n\n".join(texts)) for kind, texts in found.items() if texts]
