"""Office documents (.docx, .odt, .pptx, .xlsx) read from the real files in ../shared/data/formats: each
file's text is there, and each passage keeps the place a citation will show (heading, slide, sheet)."""
from __future__ import annotations

import csv
import os
import re

import pytest

from ragqa.ingest.documents import SkipFile
from ragqa.ingest.formats import ReadOptions, read_document

from helpers.data import SHARED_DATA

FORMATS = SHARED_DATA / "formats"
KINDS = ("docx", "odt", "pptx", "xlsx")


def manifest_rows() -> list[dict]:
    if not (FORMATS / "MANIFEST.tsv").exists():
        return [{"file": "(absent)", "kind": "docx", "phrase": ""}]  # one test, which the marker skips
    with open(FORMATS / "MANIFEST.tsv", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle, delimiter="\t") if row["kind"] in KINDS]


def read(name: str, kind: str | None = None, **options):
    return read_document(FORMATS / name, name, kind or name.rsplit(".", 1)[1], ReadOptions(**options))


def indexed_text(doc) -> str:
    """What the index embeds for each chunk (breadcrumb, then text), whitespace-normalised; a cell
    separator " | " counts as a space."""
    parts = [doc.title] + [" ".join(s.headings) + " " + s.text for s in doc.sections]
    return " ".join(" ".join(parts).replace(" | ", " ").split())


def section(doc, *headings: str):
    return next(s for s in doc.sections if s.headings == list(headings))


@pytest.mark.shared_data("formats")
@pytest.mark.parametrize("row", manifest_rows(), ids=lambda row: row["file"])
def test_each_office_file_is_read_with_its_phrase(row):
    doc = read(row["file"], row["kind"])
    assert doc.kind == row["kind"] and doc.sections and doc.path == row["file"]
    text = indexed_text(doc)
    if row["kind"] == "xlsx":  # its manifest phrase is a query: the words, in order, across cells
        assert re.search(".*".join(map(re.escape, row["phrase"].split())), text, re.I | re.S)
    else:
        assert " ".join(row["phrase"].split()) in text


@pytest.mark.shared_data("formats")
def test_a_slide_keeps_its_number_and_title():
    doc = read("sample-presentation.pptx")
    assert [(s.page, s.headings) for s in doc.sections] == [
        (1, ["Title Slide"]), (2, ["This is the first content slide"]), (3, ["This is the second content slide"]),
        (4, ["This is kinda backwards, huh?"])]
    assert "With a sub-bullet" in doc.sections[1].text
    assert "This is kinda backwards" not in doc.sections[3].text  # the title is the heading, not the body
    assert "1 | A1 | B1 | C1" in doc.sections[3].text.splitlines()


@pytest.mark.shared_data("formats")
def test_a_slide_table_is_read_as_rows():
    slide = read("fake-power-point-table.pptx").sections[0]
    assert slide.page == 1 and slide.headings == ["A Slide with a Table"]
    assert slide.text.splitlines()[:2] == ["Column 1 | Column 2 | Column 3", "Red | Green | Blue"]


@pytest.mark.shared_data("formats")
def test_the_malformed_deck_is_read_as_far_as_it_goes():
    # Its date placeholder has no position to inherit: sorting shapes by place must not fail on it.
    doc = read("fake-power-point-malformed.pptx")
    assert [(s.page, s.headings, s.text) for s in doc.sections] == [(1, ["Test Slide"], "Problem Date Placeholder")]


@pytest.mark.shared_data("formats")
def test_a_word_heading_is_the_title_of_the_breadcrumb():
    doc = read("simple.docx")
    assert doc.title == "These are a few of my favorite things:"
    assert doc.sections[0].headings == [] and doc.sections[0].text.startswith("• Parrots\n\nHockey")


def test_word_headings_nest_into_a_breadcrumb(tmp_path):
    import docx  # no fixture has nested headings, so this document is made here

    made = docx.Document()
    for style, text in [("Title", "Guide"), (None, "Why"), ("Heading 1", "Setup"), ("Heading 2", "Linux"),
                        (None, "apt install ragqa"), ("Heading 1", "Usage"), (None, "ask")]:
        made.add_paragraph(text, style=style)
    made.save(tmp_path / "guide.docx")
    doc = read_document(tmp_path / "guide.docx", "guide.docx", "docx")
    assert doc.title == "Guide"
    assert [(s.headings, s.text) for s in doc.sections] == [
        ([], "Why"), (["Setup", "Linux"], "apt install ragqa"), (["Usage"], "ask")]


@pytest.mark.shared_data("formats")
def test_word_headers_and_footers_are_their_own_sections():
    doc = read("docx-hdrftr.docx")
    assert section(doc).text == "Main document"
    assert section(doc, "Header").text.splitlines() == ["First header para", "Table cell1 | Table cell2",
                                                         "Last header para"]
    assert section(doc, "Footer").text.splitlines()[0] == "para1"
    assert section(read("handbook-1p.docx"), "Footer").text == "Copyright"


@pytest.mark.shared_data("formats")
def test_word_tables_are_rows_in_document_order():
    lines = read("docx-tables.docx").sections[0].text.splitlines()
    assert lines[:4] == ["Simple uniform table", "", "Header Col 1 | Header Col 2", "Lorem ipsum | A link example"]
    assert "d | e | f; g&t | h | i" in lines  # a table in a cell: its rows joined with "; "


@pytest.mark.shared_data("formats")
def test_an_opendocument_table_is_read_as_rows():
    doc = read("fake.odt")
    assert doc.sections[0].text.splitlines()[-1] == "Leader | Sarah | Mark | Ryan"


@pytest.mark.shared_data("formats")
def test_each_sheet_is_a_section_named_for_it():
    doc = read("2023-half-year-analyses-by-segment.xlsx")
    assert [s.headings for s in doc.sections] == [
        ["OS-Rev.and results 30 06 2023"], ["OS-Other information 30 06 2023"], ["Prod.Rev.and results 30 06 2023"],
        ["Prod.-Other inform. 30 06 23"], ["Reconciliation 30 06 2023"]]
    assert "Zone LATAM | 6082 | 1202 | 1101 | -101 | -4 | -21 | -192" in doc.sections[0].text.splitlines()
    assert not doc.warnings


@pytest.mark.shared_data("formats")
def test_a_long_sheet_is_cut_with_a_warning():
    doc = read("2023-half-year-analyses-by-segment.xlsx", max_sheet_rows=10)
    first = doc.sections[0].text
    assert "Zone NA | 12553" in first and "Zone LATAM" not in first  # row 9 is in, row 12 is not
    assert doc.warnings[0].startswith("sheet 'OS-Rev.and results 30 06 2023' has 39 rows; only the first 10")


@pytest.mark.parametrize("kind", KINDS)
def test_random_bytes_are_skipped_with_a_one_line_reason(tmp_path, kind):
    junk = tmp_path / f"junk.{kind}"
    junk.write_bytes(os.urandom(2000).replace(b"PK", b"pk"))
    with pytest.raises(SkipFile, match=f"^damaged {kind}: not a zip package") as caught:
        read_document(junk, junk.name, kind)
    assert "\n" not in str(caught.value)


@pytest.mark.shared_data("formats")
@pytest.mark.parametrize("name", ["fake.docx", "fake.odt", "fake-power-point.pptx",
                                  "2023-half-year-analyses-by-segment.xlsx"])
def test_a_truncated_file_is_skipped_with_a_one_line_reason(tmp_path, name):
    cut = tmp_path / name
    cut.write_bytes((FORMATS / name).read_bytes()[:5000])
    kind = name.rsplit(".", 1)[1]
    with pytest.raises(SkipFile, match=f"^damaged {kind}: its zip package is cut short") as caught:
        read_document(cut, name, kind)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 200
