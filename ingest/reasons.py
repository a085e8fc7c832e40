"""One-line reasons and warnings for the user: what went wrong with a file, in words that fit a line."""
from __future__ import annotations


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
    return shorten(f"{type(err).__name__}: {message}" if message else type(err).__name__, 150)


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


class PageFailures:
    """Pages whose reading failed, said in one warning: one bad page must not lose the others.

    >>> failures = PageFailures("OCR")
    >>> failures.add(2, ValueError("bad crc")); failures.add(3, KeyError("x"))
    >>> failures.warnings()
    ['OCR failed on page(s) 2-3: ValueError: bad crc']
    """

    def __init__(self, what: str):
        self.what, self.first = what, ""
        self.pages: list[int] = []

    def add(self, page: int, err: BaseException) -> None:
        self.pages.append(page)
        self.first = self.first or one_line(err)

    def warnings(self) -> list[str]:
        return [f"{self.what} failed on page(s) {page_ranges(self.pages)}: {self.first}"] if self.pages else []
