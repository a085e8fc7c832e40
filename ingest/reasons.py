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
