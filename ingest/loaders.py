"""Load one found file into a Document, whatever its kind.

The scan decided the kind from the file name; this module reads the bytes,
refuses binaries dressed up as text, decodes, and hands over to the parser.
"""
from __future__ import annotations

import codecs

from ingest.decode import decode_bytes, looks_binary
from ingest.documents import Document, Section, SkipFile
from ingest.markdown import parse_markdown, stem_of
from ingest.scan import FoundFile


def load_file(found: FoundFile, pdf_passwords: dict[str, str] | None = None, pdf_worker=None) -> Document:
    """Parse the file; raise SkipFile with a one-line reason if it cannot be indexed.

    PDFs are read by `pdf_worker` (an `ingest.pdf_worker.PdfWorker`, which enforces
    pdf.timeout_seconds) when one is given, else in this process with no time limit.
    """
    if found.kind == "pdf":
        if pdf_worker is not None:
            return pdf_worker.load(found.path, found.rel, pdf_passwords)
        from ingest.pdf import load_pdf  # pypdf is imported only by a process that reads a PDF itself

        return load_pdf(found.path, found.rel, pdf_passwords)
    text, warning = read_text(found)
    doc = parse_markdown(text, found.rel) if found.kind == "markdown" else parse_text(text, found.rel)
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
    try:
        data = found.path.read_bytes()
    except FileNotFoundError:
        raise SkipFile("file disappeared during ingest") from None
    except PermissionError:
        raise SkipFile("permission denied") from None
    except IsADirectoryError:
        raise SkipFile("became a folder during ingest") from None
    except OSError as err:
        raise SkipFile(f"cannot be read: {err.strerror or type(err).__name__}") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Windows editors save "Unicode" text as UTF-16 with a byte-order mark; its NULs are not binary.
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            raise SkipFile("not valid UTF-16 text despite its byte-order mark (damaged file?)") from None
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
