"""OCR for the pages of a PDF that have no text layer (scans, flattened or printed-to-image pages).

Each page is rendered by pypdfium2 at 200 dpi, as a viewer shows it, and read by the configured
engine (ragqa.ingest.formats.ocr). Rendering rather than taking out the page's embedded image also reads
JBIG2 scans (which pypdf cannot decode), pages cut into strips, and text drawn over a picture; without
pypdfium2 the page's largest embedded image (pypdf `page.images`) is read instead.
bench/ocr.py compares the two routes.
"""
from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path

from ragqa.ingest.documents import Section, SkipFile
from ragqa.ingest.formats import ocr_starting
from ragqa.ingest.formats.ocr import MAX_SIDE, ocr_engine, page_text
from ragqa.ingest.reasons import PageFailures

DPI = 200
_PDFIUM = threading.Lock()  # PDFium is not thread-safe


def ocr_pages(path: Path, reader, numbers: list[int], options, password: str = ""
              ) -> tuple[list[Section], list[int], list[str]]:
    """Sections for those of the pages NUMBERS (1-based) in which OCR finds text, the pages it read and
    found none in, and one-line warnings (OCR stopped, or failed on a page).

    Stops at options.ocr_seconds (checked between pages: one page takes seconds), keeping the pages
    read. SkipFile if the engine options.ocr_engine is not installed.
    """
    ocr_starting(options)  # in the document worker: OCR has its own time allowance
    engine = ocr_engine(options.ocr_engine)
    started = time.monotonic()
    pages = _PageImages(path, reader, password)
    sections: list[Section] = []
    blank: list[int] = []
    warnings: list[str] = []
    failed = PageFailures("OCR")
    try:
        for done, number in enumerate(numbers):
            if time.monotonic() - started > options.ocr_seconds:
                warnings.append(f"OCR stopped after {options.ocr_seconds:g} s at page {number} "
                                f"(ocr.timeout_seconds); {len(numbers) - done} page(s) without text not read")
                break
            try:
                image = pages.image(number)
                text = page_text(engine, image) if image is not None else ""
            except SkipFile:
                raise
            except Exception as err:  # noqa: BLE001 - one bad page must not lose the others
                failed.add(number, err)
                continue
            if text:
                sections.append(Section(headings=[], text=text, page=number))
            else:
                blank.append(number)
    finally:
        pages.close()
    warnings += failed.warnings()
    return sections, blank, warnings


class _PageImages:
    """A page as an image: rendered by pypdfium2 if it is installed and opens the file, else the
    page's largest embedded image, via pypdf."""

    def __init__(self, path: Path, reader, password: str):
        self.reader = reader
        self.document = None
        if importlib.util.find_spec("pypdfium2") is not None:
            import pypdfium2

            try:
                with _PDFIUM:
                    self.document = pypdfium2.PdfDocument(str(path), password=password or None)
            except Exception:  # noqa: BLE001 - PDFium refuses some files pypdf repairs: fall back to the images
                self.document = None

    def image(self, number: int):
        if self.document is None:
            images = [item.image for item in self.reader.pages[number - 1].images]
            return max(images, key=lambda image: image.width * image.height, default=None)
        with _PDFIUM:
            page = self.document[number - 1]
            try:
                width, height = page.get_size()  # points
                scale = min(DPI / 72, MAX_SIDE / max(width, height, 1))
                return page.render(scale=scale).to_pil()
            finally:
                page.close()

    def close(self) -> None:
        if self.document is not None:
            with _PDFIUM:
                self.document.close()
