"""Read an Excel .xlsx into one Section per sheet (headings = [sheet name]), each row as text.

When a sheet's first non-empty row looks like a header, each row becomes a block of "column: value" lines,
so a retrieved passage says what its numbers are; otherwise a row is one line of cells joined with " | ".
Cells hold the values Excel last calculated, never formulas. Sheets longer than ReadOptions.max_sheet_rows
are cut there, with a warning.

python-calamine (Rust) reads the workbook: on the fixture it took 3 ms where openpyxl's read-only mode took
~100 ms, and on a 100,000-row sheet 0.5 s where openpyxl took 6 s just to reach row 2000.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from python_calamine import CalamineWorkbook, SheetTypeEnum

from ragqa.ingest.documents import Document, Section, SkipFile
from ragqa.ingest.formats.package import check_package, damaged
from ragqa.ingest.markdown import stem_of


def read_xlsx(path: Path, rel: str, options) -> Document:
    """The reader for ragqa.ingest.formats."""
    check_package(path, "xlsx")
    limit = max(1, options.max_sheet_rows)
    sections: list[Section] = []
    warnings: list[str] = []
    try:
        book = CalamineWorkbook.from_path(str(path))
        try:
            for meta in book.sheets_metadata:
                if meta.typ != SheetTypeEnum.WorkSheet:  # a chart or dialog sheet has no cells
                    continue
                sheet = book.get_sheet_by_name(meta.name)
                rows = [row for _, row in zip(range(limit), sheet.iter_rows(), strict=False)]
                text = sheet_text(rows)
                if text:
                    sections.append(Section(headings=[meta.name], text=text))
                if sheet.height > limit:
                    warnings.append(f"sheet {meta.name!r} has {sheet.height} rows; only the first {limit} are "
                                    "indexed (raise max_sheet_rows to read more)")
        finally:
            book.close()
    except Exception as err:  # noqa: BLE001 - calamine raises CalamineError, XmlError, ZipError, PasswordError, ...
        if type(err).__name__ == "PasswordError":
            raise SkipFile("password-protected xlsx: save it without a password") from None
        raise damaged("xlsx", err) from None
    if not sections:
        raise SkipFile("no cells with values in this xlsx")
    return Document(path=rel, title=stem_of(rel), sections=sections, kind="xlsx", warnings=warnings)


def sheet_text(rows: list[list]) -> str:
    """Rows as text: "column: value" lines under a header row, else cells joined with " | ".

    >>> print(sheet_text([["Name", "Qty", ""], ["tea", 2.0, ""], ["", "", ""], ["jam", "", "n/a"]]))
    Name: tea
    Qty: 2
    <BLANKLINE>
    Name: jam
    C: n/a
    >>> sheet_text([["Total", 3.5], ["x", True]])
    'Total | 3.5\\nx | TRUE'
    """
    rows = [[cell_text(value) for value in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if not rows:
        return ""
    if not looks_like_header(rows[0]):
        return "\n".join(" | ".join(cell for cell in row if cell) for row in rows)
    names = [cell or column_letter(i) for i, cell in enumerate(rows[0])]
    blocks = ["\n".join(f"{names[i] if i < len(names) else column_letter(i)}: {cell}"
                        for i, cell in enumerate(row) if cell) for row in rows[1:]]
    return "\n\n".join(blocks) if blocks else " | ".join(cell for cell in rows[0] if cell)


def looks_like_header(row: list[str]) -> bool:
    """At least two non-empty cells, all short text, none a number and none repeated.

    >>> looks_like_header(["Name", "", "Qty"]), looks_like_header(["3. Analyses by segment"])
    (True, False)
    >>> looks_like_header(["Zone NA", "12553"]), looks_like_header(["a", "a"])
    (False, False)
    """
    cells = [cell for cell in row if cell]
    return (len(cells) >= 2 and len(set(cells)) == len(cells)
            and all(len(cell) <= 80 and not _is_number(cell) for cell in cells))


def cell_text(value) -> str:
    """One cell's value as text on one line.

    >>> [cell_text(v) for v in [12553.0, 0.1 + 0.2, "a\\nb", dt.datetime(2023, 6, 30), None, False]]
    ['12553', '0.3', 'a b', '2023-06-30', '', 'FALSE']
    """
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.15g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return " ".join(str(value).split())


def column_letter(index: int) -> str:
    """Excel's name for a 0-based column index.

    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(701)
    ('A', 'Z', 'AA', 'ZZ')
    """
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True
