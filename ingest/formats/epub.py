"""Read an e-book: its chapters in reading (spine) order, each under its chapter title.

An EPUB is a zip of XHTML files listed in reading order by its package file, with a table of contents
(EPUB 3's nav page or EPUB 2's toc.ncx). zipfile and lxml read that structure in a few lines: on the fixtures
the output was identical to ebooklib's and as fast, without adding an AGPL dependency. Each chapter goes
through html.py.
The chapters are joined before they are split into sections, because e-book makers cut files by size, not
by chapter (Project Gutenberg's "CHAPTER II" runs over two files): the breadcrumb carries over a cut.
"""
from __future__ import annotations

import json
import posixpath
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote

from ragqa.ingest.documents import Document, SkipFile
from ragqa.ingest.formats.html import decode_html, html_to_markdown
from ragqa.ingest.markdown import parse_markdown, stem_of
from ragqa.ingest.reasons import one_line


def read_epub(path: Path, rel: str, options=None) -> Document:
    """The book's chapters as sections under their headings; the book's title as the title."""
    try:
        title, author, markdown = _book_markdown(path)
    except SkipFile:
        raise
    except Exception as err:  # noqa: BLE001 - zip, XML and lookup errors alike: the file is damaged, not our code

        raise SkipFile(f"damaged epub: {one_line(err)}") from None
    doc = parse_markdown(markdown, rel)
    if not doc.sections:
        raise SkipFile("no text to index (the e-book holds no readable chapters; images only?)")
    return Document(path=rel, title=title or (doc.title if markdown.startswith("# ") else stem_of(rel)),
                    sections=doc.sections, kind="epub", metadata={"author": author} if author else {})


def _book_markdown(path: Path) -> tuple[str | None, str | None, str]:
    """(book title, author, all chapters as one Markdown text in reading order)."""
    with zipfile.ZipFile(path) as book:
        container = _xml(book, "META-INF/container.xml")
        opf_name = container.xpath("string(//*[local-name()='rootfile']/@full-path)")
        opf = _xml(book, opf_name)
        title, author = _dc(opf, "title"), _dc(opf, "creator")
        manifest = {item.get("id"): (_join(opf_name, item.get("href", "")), item)
                    for item in opf.xpath("//*[local-name()='manifest']/*[local-name()='item']")}
        labels = _toc_labels(book, opf, manifest)
        chapters = []
        for idref in opf.xpath("//*[local-name()='spine']/*[local-name()='itemref']/@idref"):
            entry = manifest.get(idref)
            if entry is None or "html" not in entry[1].get("media-type", "") or entry[0] not in book.namelist():
                continue  # an image or a missing file in the spine: nothing to read
            name = entry[0]
            text = html_to_markdown(decode_html(book.read(name))[0])[1]
            label = labels.get(name)
            if label and not _has_heading(text, label):
                text = f"# {label}\n\n{text}"  # a chapter without its own heading still gets its TOC title
            if text.strip():
                chapters.append(text)
    markdown = "\n\n".join(chapters)
    if title:  # as front matter, so that the book's title is the document's and not its first h1
        markdown = f"---\ntitle: {json.dumps(title)}\n---\n{markdown}"
    return title, author, markdown


def _xml(book: zipfile.ZipFile, name: str):
    import lxml.etree

    # No network, no entities: a book's XML cannot make the parser fetch or expand anything.
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    root = lxml.etree.fromstring(book.read(name), parser)
    if root is None:
        raise ValueError(f"{name} is not XML")
    return root


def _dc(opf, name: str) -> str | None:
    return " ".join(opf.xpath(f"string(//*[local-name()='metadata']/*[local-name()='{name}'])").split()) or None


def _join(base: str, href: str) -> str:
    """A link's target as a name inside the zip, relative to the file that holds the link.

    >>> _join("OEBPS/content.opf", "text/ch%201.xhtml#p3")
    'OEBPS/text/ch 1.xhtml'
    """
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), unquote(href.split("#")[0])))


def _toc_labels(book: zipfile.ZipFile, opf, manifest: dict) -> dict[str, str]:
    """file name -> the title of the first table-of-contents entry pointing into it, in TOC order.

    EPUB 3 has a nav page (the manifest item with properties="nav"); EPUB 2 a toc.ncx named by the spine.
    """
    nav = next((name for name, item in manifest.values() if "nav" in (item.get("properties") or "").split()), None)
    ncx = manifest.get(opf.xpath("string(//*[local-name()='spine']/@toc)"), (None,))[0]
    labels: dict[str, str] = {}
    if nav and nav in book.namelist():
        root = _xml(book, nav)
        entries = [(a.get("href", ""), a.xpath("string()")) for a in
                   root.xpath("//*[local-name()='nav'][contains(@*[local-name()='type'], 'toc')]//*[local-name()='a']")]
        base = nav
    elif ncx and ncx in book.namelist():
        root = _xml(book, ncx)
        entries = [(point.xpath("string(*[local-name()='content']/@src)"),
                    point.xpath("string(*[local-name()='navLabel'])")) for point in
                   root.xpath("//*[local-name()='navPoint']")]
        base = ncx
    else:
        return labels
    for href, label in entries:
        label = " ".join(label.split())
        if href and label:
            labels.setdefault(_join(base, href), label)
    return labels


def _has_heading(markdown: str, label: str) -> bool:
    """True if the chapter already has the label as one of its headings (punctuation and case aside).

    >>> _has_heading("## CHAPTER II RINKS, AND SKATERS\\ntext", "Chapter II Rinks and Skaters")
    True
    """
    def words(text: str) -> str:
        return " ".join(re.sub(r"[^\w\s]", " ", text).split()).casefold()

    return any(words(line.lstrip("#")) == words(label) for line in markdown.split("\n") if line.startswith("#"))
