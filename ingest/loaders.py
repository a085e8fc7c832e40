"""Load one found file into a Document, whatever its kind.

The scan decided the kind from the file name; this module reads the bytes,
refuses binaries dressed up as text, decodes, and hands over to the parser.
"""
from __future__ import annotations

import codecs

from ragqa.filetypes import PLAIN_KINDS
from ragqa.ingest.decode import decode_bytes, looks_binary, utf16_without_bom
from ragqa.ingest.documents import Document, Section, SkipFile, read_bytes
from ragqa.ingest.formats import ReadOptions, read_document
from ragqa.ingest.frontmatter import split_front_matter
from ragqa.ingest.markdown import parse_markdown, stem_of
from ragqa.ingest.note_refs import inline_tags, markdown_links
from ragqa.ingest.scan import FoundFile


def read_options(settings) -> ReadOptions:
    """What the document readers need of config.yaml (pdf passwords, ocr)."""
    return ReadOptions(pdf_passwords=dict(settings.pdf.passwords), ocr_enabled=settings.ocr.enabled,
                       ocr_engine=settings.ocr.engine, ocr_seconds=settings.ocr.timeout_seconds)


def load_file(found: FoundFile, options: ReadOptions | None = None, worker=None) -> Document:
    """Parse the file; raise SkipFile with a one-line reason if it cannot be indexed.

    Notes and text files are read here; every other kind by `worker` (an `ragqa.ingest.worker.DocumentWorker`,
    which isolates the readers and enforces their time limits) when one is given, else in this process
    with no time limit.
    """
    if found.kind not in PLAIN_KINDS:
        if worker is not None:
            return worker.load(found.path, found.rel, found.kind)
        return read_document(found.path, found.rel, found.kind, options)
    text, warning = read_text(found)
    doc = parse_markdown(text, found.rel) if found.kind == "markdown" else parse_text(text, found.rel)
    if found.kind == "markdown":  # what the note's text says besides its prose: inline #tags, links to notes
        body = split_front_matter(text)[1]
        inline = inline_tags(body)
        if inline:
            doc.metadata["tags"] = list(dict.fromkeys([*doc.tags, *inline]))
        doc.links += markdown_links(body, found.rel)
    if warning:
        doc.warnings.insert(0, warning)
    if not doc.sections and found.kind == "markdown" and doc.metadata:
        # A stub note (front matter only) is still findable by its title, aliases and tags.
        doc.sections = [Section(headings=[], text=stub_text(doc))]
    if not doc.sections:
        raise SkipFile("no text to index (the file holds only front matter, embeds or whitespace)")
    return doc


def stub_text(doc: Document) -> str:
    """The searchable text of a note with front matter but no body.

    >>> stub_text(Document("a.md", "Recall", [], "markdown", {"aliases": ["sensitivity"], "tags": ["ml"]}))
    'Recall. Also known as: sensitivity. Tags: ml.'
    """
    parts = [doc.title + "."]
    aliases = [str(a) for a in (doc.metadata.get("aliases") or []) if a]
    if aliases:
        parts.append("Also known as: " + ", ".join(aliases) + ".")
    if doc.tags:
        parts.append("Tags: " + ", ".join(doc.tags) + ".")
    return " ".join(parts)


def read_text(found: FoundFile) -> tuple[str, str | None]:
    """The file's text and an encoding warning, if any."""
    return text_of(read_bytes(found.path))


def text_of(data: bytes) -> tuple[str, str | None]:
    """A text file's bytes as text, and an encoding warning, if any; SkipFile for binary content.

    >>> text_of("Hamburgers".encode("utf-16-be"))  # UTF-16 without a byte-order mark, as some tools save it
    ('Hamburgers', None)
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Windows editors save "Unicode" text as UTF-16 with a byte-order mark; its NULs are not binary.
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            raise SkipFile("not valid UTF-16 text despite its byte-order mark (damaged file?)") from None
    utf16 = utf16_without_bom(data)
    if utf16 is not None:
        return utf16, None
    if looks_binary(data):
        raise SkipFile("binary content in a text file")
    return decode_bytes(data)


def parse_text(text: str, path: str) -> Document:
    """A plain .txt file: no markup, so one section with the whole text.

    >>> parse_text("line one\\r\\nline two\\n", "todo.txt").sections[0].text
    'line one\\nline two'
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    sections = [Section(headings=[], text=text)] if text else []
    return Document(path=path, title=stem_of(path), sections=sections, kind="text")
