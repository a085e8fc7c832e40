"""What the office readers share (word, slides, sheets, opendocument): the zip package check, the reason for
a damaged file, the title worth keeping, and sections under a heading breadcrumb."""
from __future__ import annotations

from pathlib import Path

from ragqa.ingest.documents import Section, SkipFile, read_bytes
from ragqa.ingest.reasons import one_line
from ragqa.ingest.titles import sensible_title

_OFFICE_TITLES = {"word document", "microsoft word document", "presentation", "workbook"}
Block = tuple[int | None, str]  # (heading level, text): level None is body text, 0 a Title paragraph


def check_package(path: Path, kind: str) -> None:
    """SkipFile with the reason unless `path` starts like a zip package, as every .docx/.pptx/.xlsx/.odt does."""
    head = read_bytes(path, 8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # an OLE container: Office's encryption wraps the zip in one
        raise SkipFile(f"password-protected {kind} (or an old binary Office file renamed): save it unprotected")
    if not head.startswith(b"PK"):
        raise SkipFile(f"damaged {kind}: not a zip package (renamed, or truncated?)")


def damaged(kind: str, err: Exception) -> SkipFile:
    """The SkipFile for a library's error on a damaged file, in one line a user can act on."""
    if type(err).__name__ in ("BadZipFile", "PackageNotFoundError", "ZipError"):  # zipfile, python-docx/pptx, calamine
        return SkipFile(f"damaged {kind}: its zip package is cut short or broken (an incomplete copy?)")
    return SkipFile(f"damaged {kind}: {one_line(err)}")


def office_title(raw) -> str | None:
    """The core-properties title if it names the document, not the template it came from.

    >>> office_title("Word Document"), office_title("Q3 plan")
    (None, 'Q3 plan')
    """
    title = sensible_title(raw)
    return None if title is None or title.casefold() in _OFFICE_TITLES else title


def heading_sections(blocks: list[Block], title: str) -> list[Section]:
    """Sections under a heading breadcrumb, as Markdown's: the heading equal to the title is not repeated.

    >>> [(s.headings, s.text) for s in heading_sections(
    ...     [(1, "Plan"), (None, "a"), (2, "Steps"), (None, "b"), (None, "c"), (1, "Next"), (None, "d")], "Plan")]
    [([], 'a'), (['Steps'], 'b\\n\\nc'), (['Next'], 'd')]
    """
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    body: list[str] = []
    title_seen = False

    def flush() -> None:
        if body:
            sections.append(Section(headings=[h for _, h in path], text="\n\n".join(body)))
            body.clear()

    for level, text in blocks:
        if level is None:
            body.append(text)
            continue
        flush()
        while path and path[-1][0] >= level:
            path.pop()
        if level <= 1 and not title_seen and text.casefold() == title.casefold():
            title_seen = True  # the title is already the breadcrumb's first part
            path.clear()
        else:
            path.append((level, text))
    flush()
    return sections
