"""Web pages, e-books, email, RTF, Org and reStructuredText: the real fixtures in ../shared/data/formats read
as a user would expect (the phrase each really holds, titles, breadcrumbs, no script code, no mojibake)."""
from __future__ import annotations

import csv
import re

import pytest

from ragqa.ingest.documents import SkipFile
from ragqa.ingest.formats import read_document

from helpers.data import SHARED_DATA

FORMATS = SHARED_DATA / "formats"
KINDS = {"html": "html", "epub": "epub", "eml": "email", "rtf": "rtf", "org": "org", "rst": "rst"}

pytestmark = pytest.mark.shared_data("formats")


def manifest_rows() -> list[tuple[str, str, str]]:
    """(file, reader kind, phrase) for each fixture of these kinds; read at collection, so absent data gives none."""
    if not (FORMATS / "MANIFEST.tsv").exists():
        return []
    with open(FORMATS / "MANIFEST.tsv", encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [(row["file"], KINDS[row["kind"]], row["phrase"]) for row in rows if row["kind"] in KINDS]


def words(text: str) -> str:
    """Case, punctuation and spacing aside (the manifest's phrase says "its" where a page says "it's")."""
    return " ".join(re.sub(r"[^\w\s]", "", text).split()).casefold()


def read(name: str, kind: str | None = None):
    kind = kind or next(k for file, k, _ in manifest_rows() if file == name)
    return read_document(FORMATS / name, name, kind)


def full_text(doc) -> str:
    return "\n".join(section.text for section in doc.sections)


def indexed_text(doc) -> str:
    """What a search sees: each chunk carries its breadcrumb (title > headings) with its text."""
    return "\n".join(" > ".join([doc.title, *s.headings]) + "\n" + s.text for s in doc.sections)


@pytest.mark.parametrize(("name", "kind", "phrase"), manifest_rows(), ids=lambda value: str(value)[:40])
def test_each_fixture_is_read_with_its_phrase(name, kind, phrase):
    doc = read(name, kind)
    assert doc.kind == kind and doc.path == name and doc.title
    assert doc.sections and all(section.text.strip() for section in doc.sections)
    if phrase:
        assert words(phrase) in words(indexed_text(doc))


def test_all_fixtures_of_these_kinds_are_listed():
    assert len(manifest_rows()) == 15  # 5 html, 2 epub, 5 eml, rtf, org, rst


def test_an_email_has_its_subject_as_title_and_sender_and_date_as_metadata():
    doc = read("eml_fake-email.eml")
    assert doc.title == "Test Email"
    assert doc.metadata["from"] == "Matthew Robinson <mrobinson@unstructured.io>"
    assert doc.metadata["to"] == "NotMatthew <NotMatthew@notunstructured.com>"
    assert doc.metadata["date"] == "2022-12-16T17:04:16-05:00"
    assert "Violets are blue" in full_text(doc)


@pytest.mark.parametrize("name", ["eml_fake-email-utf-16.eml", "eml_fake-email-malformed-encoding.eml"])
def test_a_utf16_or_malformed_email_is_still_read(name):
    doc = read(name)
    assert doc.title == "Test Email" and doc.metadata["from"].startswith("Matthew Robinson")
    assert "Roses are red" in full_text(doc) and "\x00" not in full_text(doc)


def test_an_html_only_email_is_read_through_the_html_reader():
    text = full_text(read("eml_mime-html-only.eml"))
    assert "Scott Fahlman" in text and "<p>" not in text


def test_an_emails_attachment_is_listed_and_read():
    doc = read("eml_fake-email-attachment.eml")
    assert "Attachments: fake-attachment.txt" in full_text(doc)
    attached = [s for s in doc.sections if s.headings[:1] == ["Attachment: fake-attachment.txt"]]
    assert [s.text for s in attached] == ["Hey this is a fake attachment!"]


def test_a_web_pages_scripts_and_navigation_never_become_text():
    doc = read("example-with-scripts.html")
    text = full_text(doc)
    for code in ["jQuery", "function", "GoogleAnalyticsObject", "getElementsByTagName", "var switchTo5x"]:
        assert code not in text
    assert "Search form" not in text + str([s.headings for s in doc.sections])  # a form's heading
    assert doc.sections[0].headings == ["Russian Offensive Campaign Assessment, December 13"]


def test_html_headings_become_the_breadcrumb():
    doc = read("fake-html.html")
    assert doc.title == "My First Heading"
    assert [s.headings for s in doc.sections] == [["My Second Heading"], ["My Second Heading", "A Third Heading"]]
    assert "Row 2, Cell 1 | Row 2, Cell 2" in doc.sections[1].text


def test_cp1252_and_utf16_pages_decode_without_mojibake():
    cp1252 = full_text(read("fake-html-cp1252.html"))
    assert "Die schöne Frau" in cp1252 and "15,50 €" in cp1252 and "Ã" not in cp1252
    utf16 = read("example-steelJIS-datasheet-utf-16.html")
    assert utf16.title.startswith("SNB22-3 - SteelJIS") and "SNB22-3" in full_text(utf16)
    assert "\x00" not in full_text(utf16) and "日本語" in full_text(utf16)


def test_an_inline_base64_image_is_dropped():
    assert full_text(read("fake-html-with-base64-image.html")) == "Test page"


def test_an_epubs_chapters_are_in_reading_order_under_their_titles():
    doc = read("winter-sports.epub")
    assert doc.title == "Winter Sports in Switzerland" and doc.metadata["author"] == "E. F. Benson"
    chapters = [s.headings[0] for s in doc.sections if s.headings and s.headings[0].startswith("CHAPTER")]
    assert list(dict.fromkeys(chapters))[:3] == ["CHAPTER I THE SUN-SEEKER", "CHAPTER II RINKS AND SKATERS",
                                                 "CHAPTER III TEES AND CRAMPITS"]
    # The book's files are cut by size: a test of chapter II is still under chapter II.
    assert ["CHAPTER II RINKS AND SKATERS", "THIRD-CLASS TEST"] in [s.headings for s in doc.sections]


def test_an_epub_without_headings_is_still_read():
    doc = read("language-docs_eng_spa_mult.epub")
    assert doc.title == "Untitled document" and "born free and equal" in full_text(doc)


def test_rtf_org_and_rst_keep_their_text_and_outline():
    assert "Row 2, Cell 1|Row 2, Cell 2" in full_text(read("fake-doc.rtf"))
    for name in ["README.org", "README.rst"]:
        doc = read(name)
        assert doc.title == "Example Docs"
        assert [s.headings for s in doc.sections] == [[], ["XBRL 10-K"]]
        assert "```bash" in doc.sections[1].text and "#+" not in full_text(doc) and ".. code" not in full_text(doc)


@pytest.mark.parametrize("kind", ["epub", "rtf", "email", "html"])
def test_a_damaged_file_is_skipped_with_one_line(tmp_path, kind):
    garbage = tmp_path / f"broken.{kind}"
    garbage.write_bytes(bytes(range(256)) * 8)
    if kind in ("email", "html"):  # lenient formats: garbage is read as (odd) text, never an exception
        read_document(garbage, garbage.name, kind)
        return
    with pytest.raises(SkipFile, match=f"^damaged {kind}: ") as skipped:
        read_document(garbage, garbage.name, kind)
    assert "\n" not in str(skipped.value) and len(str(skipped.value)) < 200
