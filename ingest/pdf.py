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

from ingest.documents import Document, Section, SkipFile
from ingest.globs import matches_any
from ingest.markdown import stem_of

NO_PASSWORD = "encrypted PDF: no password opens it (set pdf.passwords in config.yaml)"
_GENERIC_TITLES = {"title", "untitled", "document", "no title", "slide 1", "powerpoint presentation"}
_FILE_NAME = re.compile(r"\.(pdf|docx?|odt|rtf|txt|pptx?|xlsx?|jpe?g|png|tiff?|bmp|ps|dvi|tex)$", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def load_pdf(path: Path, rel: str, passwords: dict[str, str] | None = None) -> Document:
    """Read the text of every page; raise SkipFile when there is none to read."""
    _check_header(Path(path))
    with _captured_pypdf_log() as log:
        try:
            reader = PdfReader(path, strict=False)
            if reader.is_encrypted:
                _unlock(reader, rel, passwords or {})
            sections, problems, page_count = _read_pages(reader)
            title = _sensible_title(_metadata_title(reader)) or stem_of(rel)
        except SkipFile:
            raise
        except DependencyError:
            raise SkipFile("encrypted PDF uses AES, which needs the 'cryptography' package "
                           "(pip install cryptography)") from None
        except Exception as err:  # pypdf raises many types for damaged files
            raise SkipFile(f"broken PDF: {one_line(err)}") from None
    if not sections:
        pages = f"{page_count} page" + ("" if page_count == 1 else "s")
        raise SkipFile(f"no extractable text in {pages} (scanned image? OCR is not supported)")
    if log:
        problems.append(f"damaged PDF structure was repaired while reading ({len(log)} "
                        f"notice(s), first: {_shorten(log[0], 100)})")
    return Document(path=rel, title=title, sections=sections, kind="pdf",
                    metadata={"pages": page_count}, warnings=problems)


def _check_header(path: Path) -> None:
    try:
        with open(path, "rb") as handle:
            head = handle.read(1024)
    except FileNotFoundError:
        raise SkipFile("file disappeared during ingest") from None
    except PermissionError:
        raise SkipFile("permission denied") from None
    except OSError as err:
        raise SkipFile(f"cannot be read: {err.strerror or type(err).__name__}") from None
    # Readers accept junk before the header, so look for it, not at byte 0.
    if b"%PDF" not in head:
        raise SkipFile("not a PDF file (no %PDF header; renamed or damaged?)")


def _unlock(reader: PdfReader, rel: str, passwords: dict[str, str]) -> None:
    # Many "encrypted" PDFs only restrict printing/copying: the empty user
    # password opens them, so try that before asking the user for anything.
    if reader.decrypt(""):
        return
    candidates = [pw for key, pw in passwords.items() if key == rel]
    candidates += [pw for key, pw in passwords.items() if key != rel and matches_any(rel, [key])]
    for password in candidates:
        if reader.decrypt(password):
            return
    if candidates:
        raise SkipFile("encrypted PDF: the configured password does not open it "
                       "(check pdf.passwords in config.yaml)")
    raise SkipFile(NO_PASSWORD)


def _read_pages(reader: PdfReader) -> tuple[list[Section], list[str], int]:
    """Sections for pages with text, warnings, and the page count."""
    page_count = len(reader.pages)
    if page_count == 0:
        raise SkipFile("PDF has no pages")
    sections: list[Section] = []
    empty: list[int] = []
    failed: list[int] = []
    first_error = ""
    for number in range(1, page_count + 1):
        try:
            text = clean_pdf_text(reader.pages[number - 1].extract_text() or "")
        except DependencyError:
            raise
        except Exception as err:  # one bad page must not lose the others
            failed.append(number)
            first_error = first_error or one_line(err)
            continue
        if text:
            sections.append(Section(headings=[], text=text, page=number))
        else:
            empty.append(number)
    problems = []
    if empty and sections:
        problems.append(f"no text on page(s) {page_ranges(empty)} (images only? OCR is not supported)")
    if failed:
        problems.append(f"text extraction failed on page(s) {page_ranges(failed)}: {first_error}")
    return sections, problems, page_count


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
    except Exception:  # a broken info dictionary only costs the title
        return None


def _sensible_title(raw) -> str | None:
    """The metadata title if it names the document, not the tool or a file.

    >>> _sensible_title("Binder1.pdf"), _sensible_title("Untitled"), _sensible_title(" Annual  Report ")
    (None, None, 'Annual Report')
    """
    if not isinstance(raw, str):
        return None
    title = " ".join(_CONTROL.sub(" ", raw).split())
    if title.lower().startswith("microsoft word - "):
        title = title[len("microsoft word - "):]
    if (len(title) < 3 or len(title) > 200 or title.lower() in _GENERIC_TITLES
            or _FILE_NAME.search(title) or not any(c.isalpha() for c in title)):
        return None
    return title


def page_ranges(pages: list[int]) -> str:
    """Compact page numbers for a warning.

    >>> page_ranges([1, 2, 3, 5, 7, 8])
    '1-3, 5, 7-8'
    """
    runs: list[list[int]] = []
    for page in pages:
        if runs and page == runs[-1][1] + 1:
            runs[-1][1] = page
        else:
            runs.append([page, page])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def one_line(err: BaseException) -> str:
    """'ExceptionClass: short message' on one line, for a user-facing reason."""
    message = " ".join(str(err).split())
    return _shorten(f"{type(err).__name__}: {message}" if message else type(err).__name__, 150)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


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
