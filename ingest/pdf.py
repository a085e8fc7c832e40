"""Load a PDF into one Section per page, or say in one line why it cannot be.

Real PDFs are messy: encrypted, damaged, scanned without a text layer. None
of that may crash an ingest run, so every failure becomes a SkipFile whose
message a user can act on, and pypdf's own log chatter becomes at most one
Document warning.
"""
from __future__ import annotations

import logging
import re
import warnings as pywarnings
from contextlib import contextmanager
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError

from ragqa.ingest.documents import Document, Section, SkipFile, read_bytes
from ragqa.ingest.globs import matches_any
from ragqa.ingest.markdown import stem_of
from ragqa.ingest.reasons import PageFailures, one_line, page_ranges, shorten
from ragqa.ingest.titles import sensible_title

NO_PASSWORD = "encrypted PDF: no password opens it (set pdf.passwords in config.yaml)"  # noqa: S105 - a message
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def read_pdf(path: Path, rel: str, options) -> Document:
    """The reader for ragqa.ingest.formats (options: its ReadOptions)."""
    return load_pdf(path, rel, options.pdf_passwords, ocr=options)


def load_pdf(path: Path, rel: str, passwords: dict[str, str] | None = None, ocr=None) -> Document:
    """Read the text of every page; raise SkipFile when there is none to read.

    ocr: a ReadOptions (ragqa.ingest.formats); with ocr.ocr_enabled, pages without a text layer are read by
    OCR (ragqa.ingest.formats.pdf_ocr). None, or OCR turned off, leaves them out with a warning.
    """
    _check_header(Path(path))
    ocr_on = bool(ocr is not None and ocr.ocr_enabled)
    with _captured_pypdf_log() as log:
        try:
            reader = PdfReader(path, strict=False)
            password = _unlock(reader, rel, passwords or {}) if reader.is_encrypted else ""
            sections, problems, page_count, empty = _read_pages(reader)
            if empty and ocr_on:
                sections, problems = _add_ocr(path, reader, password, sections, problems, empty, ocr)
            title = sensible_title(_metadata_title(reader)) or stem_of(rel)
        except SkipFile:
            raise
        except DependencyError:
            raise SkipFile("encrypted PDF uses AES, which needs the 'cryptography' package "
                           "(pip install cryptography)") from None
        except Exception as err:  # noqa: BLE001 - pypdf raises many types for damaged files
            raise SkipFile(f"broken PDF: {one_line(err)}") from None
    pages = f"{page_count} page" + ("" if page_count == 1 else "s")
    if not sections and ocr_on:
        raise SkipFile(shorten(f"no text found by OCR in {pages}" + "".join(f"; {p}" for p in problems[-1:]), 190))
    if not sections:
        raise SkipFile(f"no extractable text in {pages} (scanned? turn on ocr.enabled to read it by OCR)")
    if empty and not ocr_on:
        problems.insert(0, f"no text on page(s) {page_ranges(empty)} (images only? turn on ocr.enabled "
                           "to read them by OCR)")
    if log:
        problems.append(f"damaged PDF structure was repaired while reading ({len(log)} "
                        f"notice(s), first: {shorten(log[0], 100)})")
    return Document(path=rel, title=title, sections=sections, kind="pdf",
                    metadata={"pages": page_count}, warnings=problems)


def _check_header(path: Path) -> None:
    # Readers accept junk before the header, so look for it, not at byte 0.
    if b"%PDF" not in read_bytes(path, 1024):
        raise SkipFile("not a PDF file (no %PDF header; renamed or damaged?)")


def _unlock(reader: PdfReader, rel: str, passwords: dict[str, str]) -> str:
    """The password that opens READER (often ""); SkipFile if none does."""
    # Many "encrypted" PDFs only restrict printing/copying: the empty user
    # password opens them, so try that before asking the user for anything.
    if reader.decrypt(""):
        return ""
    candidates = [pw for key, pw in passwords.items() if key == rel]
    candidates += [pw for key, pw in passwords.items() if key != rel and matches_any(rel, [key])]
    for password in candidates:
        if reader.decrypt(password):
            return password
    if candidates:
        raise SkipFile("encrypted PDF: the configured password does not open it "
                       "(check pdf.passwords in config.yaml)")
    raise SkipFile(NO_PASSWORD)


def _read_pages(reader: PdfReader) -> tuple[list[Section], list[str], int, list[int]]:
    """Sections for pages with text, warnings, the page count and the pages without text."""
    page_count = len(reader.pages)
    if page_count == 0:
        raise SkipFile("PDF has no pages")
    sections: list[Section] = []
    empty: list[int] = []
    failed = PageFailures("text extraction")
    for number in range(1, page_count + 1):
        try:
            text = clean_pdf_text(reader.pages[number - 1].extract_text() or "")
        except DependencyError:
            raise
        except Exception as err:  # noqa: BLE001 - one bad page must not lose the others
            failed.add(number, err)
            continue
        if text:
            sections.append(Section(headings=[], text=text, page=number))
        else:
            empty.append(number)
    return sections, failed.warnings(), page_count, empty


def _add_ocr(path, reader, password, sections, problems, empty, options) -> tuple[list[Section], list[str]]:
    """SECTIONS with the pages EMPTY read by OCR added in page order, and PROBLEMS with OCR's warnings."""
    from ragqa.ingest.formats.pdf_ocr import ocr_pages  # numpy, PIL and the engine load only for scans

    try:
        found, blank, notes = ocr_pages(Path(path), reader, empty, options, password)
    except SkipFile as why:  # the engine is not installed
        if not sections:
            raise
        found, blank, notes = [], [], [f"no text on page(s) {page_ranges(empty)}, and no OCR: {why}"]
    if blank and (sections or found):
        notes.insert(0, f"no text on page(s) {page_ranges(blank)}, even by OCR")
    return sorted(sections + found, key=lambda s: s.page), problems + notes


def clean_pdf_text(text: str) -> str:
    """Tidy extracted text: no NULs or control characters, single spaces,
    no trailing blanks, at most one empty line between paragraphs.

    >>> clean_pdf_text("a\\x00b   c \\r\\n\\n\\n\\nd\\t e")
    'ab c\\n\\nd e'
    """
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _metadata_title(reader: PdfReader) -> str | None:
    try:
        meta = reader.metadata
        return meta.title if meta else None
    except Exception:  # noqa: BLE001 - a broken info dictionary only costs the title
        return None


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]):
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        # A hint about an optional font package says nothing about this file.
        if "fontTools" not in message and message not in self.sink:
            self.sink.append(message)


@contextmanager
def _captured_pypdf_log():
    """Collect pypdf's log warnings instead of printing them to the user."""
    logger = logging.getLogger("pypdf")
    sink: list[str] = []
    handler = _ListHandler(sink)
    old_propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            yield sink
    finally:
        logger.removeHandler(handler)
        logger.propagate = old_propagate
