"""Which files are notes: the one table of file types, by suffix.

The scan, the uploads, the watcher, the search filters (`--type`, the app's "file types") and the
default `include` globs all read it, so a new type is one line here (and a loader in ingest/).
"""
from __future__ import annotations

import os

KIND_SUFFIXES = {
    "markdown": (".md", ".markdown"),
    "text": (".txt",),
    "pdf": (".pdf",),
    "docx": (".docx",),  # Word
    "odt": (".odt",),  # OpenDocument text (LibreOffice)
    "pptx": (".pptx",),  # PowerPoint: a passage's page is its slide
    "xlsx": (".xlsx",),  # Excel: a passage's heading is its sheet
    "epub": (".epub",),
    "html": (".html", ".htm"),
    "email": (".eml",),
    "rtf": (".rtf",),
    "org": (".org",),
    "rst": (".rst",),
    "image": (".png", ".jpg", ".jpeg", ".tif", ".tiff"),  # read by OCR (ocr.enabled)
}
KINDS = list(KIND_SUFFIXES)  # "markdown", "text", "pdf", "docx", ...
PLAIN_KINDS = ("markdown", "text")  # read in the ingest process; every other kind in the isolated reader
SUFFIX_KINDS = {suffix: kind for kind, suffixes in KIND_SUFFIXES.items() for suffix in suffixes}
NOTE_SUFFIXES = tuple(SUFFIX_KINDS)  # ".md", ".markdown", ".txt", ".pdf", ".docx", ...
DEFAULT_INCLUDE = [f"**/*{suffix}" for suffix in NOTE_SUFFIXES]


def kind_of(name: str) -> str | None:
    """The kind of a file by its name's suffix (any case), or None for a type that is not read.

    >>> kind_of("Garden/Tomatoes.MD"), kind_of("paper.pdf"), kind_of("photo.JPG"), kind_of("song.mp3")
    ('markdown', 'pdf', 'image', None)
    """
    return SUFFIX_KINDS.get(os.path.splitext(name)[1].lower())


def place(path: str, page: int | None) -> str:
    """Where in a file a passage sits, as a citation says it: a slide for a presentation, else a page.

    >>> place("talks/q3.pptx", 4), place("paper.pdf", 2), place("note.md", None)
    ('slide 4', 'page 2', '')
    """
    if not page:
        return ""
    return f"{'slide' if kind_of(path) == 'pptx' else 'page'} {page}"
