"""A document's own title (PDF metadata, Word core properties), kept only when it names the document."""
from __future__ import annotations

import re

_GENERIC_TITLES = {"title", "untitled", "document", "no title", "slide 1", "powerpoint presentation"}
_FILE_NAME = re.compile(r"\.(pdf|docx?|odt|rtf|txt|pptx?|xlsx?|jpe?g|png|tiff?|bmp|ps|dvi|tex)$", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def sensible_title(raw) -> str | None:
    """The metadata title if it names the document, not the tool or a file.

    >>> sensible_title("Binder1.pdf"), sensible_title("Untitled"), sensible_title(" Annual  Report ")
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
