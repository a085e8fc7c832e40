"""Readers for every document that is not a plain note: office files, e-books, web pages, email, images.

Each reader is `read_<kind>(path, rel, options) -> Document` in a module of its own, imported only when a
file of its kind turns up (a folder of Markdown never imports lxml or onnxruntime). A reader keeps each
passage's place for citations: a heading breadcrumb (Section.headings) or a page, slide or sheet
(Section.page / headings). It raises SkipFile with a one-line reason a user can act on, never anything else
on bad input. They run in the document worker's child process (ragqa.ingest.worker), so one pathological
file cannot hang or crash an ingest.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from ragqa.ingest.documents import Document, SkipFile


@dataclass
class ReadOptions:
    """What a reader may need from config.yaml (plain data: it is pickled to the worker)."""

    pdf_passwords: dict[str, str] = field(default_factory=dict)
    ocr_enabled: bool = True  # ocr.enabled
    ocr_engine: str = "rapidocr"  # ocr.engine
    ocr_seconds: float = 120.0  # ocr.timeout_seconds: OCR stops after this long on one file, keeping what it read
    max_sheet_rows: int = 2000  # a spreadsheet's larger sheets are cut here, with a warning


# kind -> "module:function"; the kinds are ragqa.filetypes' (markdown and text are read by ragqa.ingest.loaders).
READERS = {
    "pdf": "ragqa.ingest.pdf:read_pdf",
    "docx": "ragqa.ingest.formats.word:read_docx",
    "odt": "ragqa.ingest.formats.opendocument:read_odt",
    "pptx": "ragqa.ingest.formats.slides:read_pptx",
    "xlsx": "ragqa.ingest.formats.sheets:read_xlsx",
    "epub": "ragqa.ingest.formats.epub:read_epub",
    "html": "ragqa.ingest.formats.html:read_html",
    "email": "ragqa.ingest.formats.mail:read_eml",
    "rtf": "ragqa.ingest.formats.rtf:read_rtf",
    "org": "ragqa.ingest.formats.markup:read_org",
    "rst": "ragqa.ingest.formats.markup:read_rst",
    "image": "ragqa.ingest.formats.images:read_image",
}


_ocr_listeners: list = []


def on_ocr_start(listener) -> None:
    """Call `listener(seconds)` whenever a reader is about to OCR a file (the worker grants it more time)."""
    _ocr_listeners.append(listener)


def ocr_starting(options: ReadOptions) -> None:
    """Readers call this once per file, just before its first OCR: OCR has its own time allowance."""
    for listener in _ocr_listeners:
        listener(options.ocr_seconds)


def read_document(path: Path, rel: str, kind: str, options: ReadOptions | None = None) -> Document:
    """The file read by its kind's reader; SkipFile if it cannot be."""
    target = READERS.get(kind)
    if target is None:
        raise SkipFile(f"no reader for files of kind {kind!r}")
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)(Path(path), rel, options or ReadOptions())
