"""Read a Rich Text Format file (.rtf) as plain text, with striprtf.

striprtf removes the control words and decodes the \\'xx escapes by the file's code page; what is left is
the text, one paragraph a line, table cells separated by "|". RTF keeps no heading structure that survives
the round trip through word processors reliably, so the file is one section under its title.
"""
from __future__ import annotations

from pathlib import Path

from ragqa.ingest.decode import decode_bytes
from ragqa.ingest.documents import Document, Section, SkipFile, read_bytes
from ragqa.ingest.markdown import stem_of
from ragqa.ingest.reasons import one_line


def read_rtf(path: Path, rel: str, options=None) -> Document:
    """The text of an RTF file as one section."""
    data = read_bytes(path)
    # RTF is 7-bit by definition; decode_bytes copes with the odd writer that puts raw 8-bit bytes in.
    source, _ = decode_bytes(data)
    if not source.lstrip().startswith("{\\rtf"):
        raise SkipFile("damaged rtf: it does not start with {\\rtf (renamed from another format?)")
    try:
        from striprtf.striprtf import rtf_to_text

        text = rtf_to_text(source, errors="replace")
    except Exception as err:  # noqa: BLE001 - striprtf is a set of regular expressions; bad input can trip it anywhere

        raise SkipFile(f"damaged rtf: {one_line(err)}") from None
    text = _tidy(text)
    if not text:
        raise SkipFile("no text to index (the RTF file holds no text; images only?)")
    return Document(path=rel, title=stem_of(rel), sections=[Section(headings=[], text=text)], kind="rtf")


def _tidy(text: str) -> str:
    """Trailing spaces and cell bars off each line; runs of blank lines down to one.

    >>> _tidy("Title\\n\\n\\n\\na|b|  \\n")
    'Title\\n\\na|b'
    """
    lines = [line.rstrip().removesuffix("|").rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
