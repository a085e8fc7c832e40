"""Loading PDFs: every awkward real file ends as text or as a clear one-line skip."""
from __future__ import annotations

import csv
import functools
import logging

import pytest

from ragqa.ingest.documents import Document, SkipFile
from ragqa.ingest.pdf import load_pdf

from helpers.data import SHARED_DATA

PDFS = SHARED_DATA / "pdfs"


def manifest() -> dict[str, dict]:
    if not (PDFS / "MANIFEST.tsv").is_file():
        return {}
    with open(PDFS / "MANIFEST.tsv", encoding="utf-8", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}


ROWS = manifest()
needs_data = pytest.mark.shared_data("pdfs/MANIFEST.tsv")


def outcome(name: str, passwords: dict | None = None) -> Document | SkipFile:
    """The Document, or the SkipFile raised; cached since some PDFs take seconds."""
    return _outcome(name, tuple(sorted((passwords or {}).items())))


@functools.cache
def _outcome(name: str, passwords: tuple) -> Document | SkipFile:
    try:
        return load_pdf(PDFS / name, name, dict(passwords))
    except SkipFile as skip:
        return skip


@needs_data
def test_all_41_real_pdfs_load_with_text_or_skip_with_a_one_line_reason():
    assert len(ROWS) == 41
    for name in ROWS:
        result = outcome(name)
        if isinstance(result, SkipFile):
            reason = str(result)
            assert reason and "\n" not in reason and len(reason) < 200, (name, reason)
        else:
            assert result.sections and all(s.text.strip() for s in result.sections), name
            assert all("\n" not in w and len(w) < 300 for w in result.warnings), name


@needs_data
def test_pages_are_numbered_from_one_and_in_range():
    for name, row in ROWS.items():
        result = outcome(name, {name: row["password"]} if row["password"] else None)
        if isinstance(result, Document):
            pages = [s.page for s in result.sections]
            assert pages == sorted(pages) and 1 <= pages[0] and pages[-1] <= int(row["pages"]), name
            assert result.metadata["pages"] == int(row["pages"])


@needs_data
def test_password_protected_pdfs_skip_without_password_and_open_with_it():
    locked = {n: r for n, r in ROWS.items() if r["password"]}
    assert len(locked) >= 5
    for name, row in locked.items():
        closed = outcome(name)
        assert isinstance(closed, SkipFile) and "pdf.passwords" in str(closed), (name, closed)
        opened = outcome(name, {name: row["password"]})  # AES included: pypdf[crypto] is a dependency
        assert isinstance(opened, Document), (name, opened)
        assert sum(len(s.text) for s in opened.sections) > 0.9 * int(row["pypdf_text_chars"])


@needs_data
def test_a_glob_key_in_passwords_matches_the_path():
    name = "unstructured__pdf_password.pdf"
    assert isinstance(outcome(name, {"**/*pdf_password.pdf": "password"}), Document)


@needs_data
def test_a_wrong_configured_password_says_so():
    result = outcome("pypdf__encrypted-file.pdf", {"pypdf__encrypted-file.pdf": "wrong"})
    assert isinstance(result, SkipFile) and "configured password does not open it" in str(result)


@needs_data
def test_encrypted_pdfs_that_the_empty_password_opens_need_no_configuration():
    for name in ("pypdf__encryption_r2-empty-password.pdf", "unstructured__pdf_copy-protected.pdf",
                 "pypdf__encryption_r6-owner-password.pdf"):
        result = outcome(name)
        assert isinstance(result, Document), (name, result)  # AES included: pypdf[crypto] is a dependency


@needs_data
def test_without_ocr_scanned_pdfs_are_skipped_saying_how_to_read_them():
    no_text = [n for n, r in ROWS.items() if r["pypdf_text_chars"] == "0"]
    assert len(no_text) >= 4
    for name in no_text:
        result = outcome(name)
        assert isinstance(result, SkipFile) and "no extractable text" in str(result), name
        assert "turn on ocr.enabled" in str(result)  # load_pdf alone does no OCR (read_pdf does: test_ocr.py)


@needs_data
def test_pages_without_text_are_listed_in_one_warning():
    doc = outcome("unstructured__pdf_layout-parser-paper-with-empty-pages.pdf")
    assert [s.page for s in doc.sections] == [1, 4]
    assert [w for w in doc.warnings if "no text on page(s) 2-3" in w]


@needs_data
def test_damaged_pdfs_are_repaired_quietly_with_a_warning(caplog, capsys):
    with caplog.at_level(logging.WARNING):
        doc = outcome("pypdf__toy.pdf")
    assert isinstance(doc, Document) and doc.sections
    assert any("repaired" in w for w in doc.warnings)
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
    assert capsys.readouterr().err == ""


@needs_data
def test_title_comes_from_metadata_only_when_it_names_the_document():
    assert outcome("samplefiles__011-google-doc-document_google-doc-document.pdf").title == "PDF Example Document"
    # Its metadata title is "Binder1.pdf": a tool's file name, not a title.
    assert outcome("pypdf__Seige_of_Vicksburg_Sample_OCR.pdf").title == "pypdf__Seige_of_Vicksburg_Sample_OCR"


@needs_data
def test_multilingual_and_rtl_text_is_extracted():
    korean = outcome("unstructured__pdf_korean-text-with-tables.pdf")
    assert any("\uac00" <= ch <= "\ud7a3" for s in korean.sections for ch in s.text)
    arabic = outcome("samplefiles__015-arabic_habibi.pdf")
    assert any("\u0600" <= ch <= "\u06ff" for s in arabic.sections for ch in s.text)


@needs_data
def test_extracted_text_has_no_nul_or_runs_of_spaces():
    for name in ("unstructured__pdf_multi-column-2p.pdf", "pypdf__GeoBase_NHNC1_Data_Model_UML_EN.pdf"):
        for section in outcome(name).sections:
            assert "\x00" not in section.text and "  " not in section.text and "\n\n\n" not in section.text


def test_a_file_that_is_not_a_pdf_is_skipped(tmp_path):
    fake = tmp_path / "notes.pdf"
    fake.write_text("I am plain text with a .pdf name", encoding="utf-8")
    with pytest.raises(SkipFile, match="not a PDF file"):
        load_pdf(fake, "notes.pdf")


def test_a_truncated_pdf_is_skipped_with_the_error_class(tmp_path):
    broken = tmp_path / "cut.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" + b"x" * 50)
    with pytest.raises(SkipFile) as caught:
        load_pdf(broken, "cut.pdf")
    reason = str(caught.value)
    assert reason.startswith(("broken PDF: ", "no extractable text")) and "\n" not in reason and len(reason) < 200


def test_a_pdf_that_vanished_is_skipped(tmp_path):
    with pytest.raises(SkipFile, match="file disappeared during ingest"):
        load_pdf(tmp_path / "gone.pdf", "gone.pdf")


def test_an_encrypted_pdf_made_here_opens_only_with_its_password(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="s3cret", owner_password="owner", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    with open(path, "wb") as handle:
        writer.write(handle)
    with pytest.raises(SkipFile, match=r"set pdf\.passwords"):
        load_pdf(path, "private/locked.pdf")
    # Opens now; the blank page then has no text, which is its own reason.
    with pytest.raises(SkipFile, match="no extractable text in 1 page "):
        load_pdf(path, "private/locked.pdf", {"private/*.pdf": "s3cret"})
