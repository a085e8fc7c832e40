"""The 41 awkward real PDFs through the real ingest: each is indexed or skipped with a one-line reason."""
import pytest

from ragqa.retrieve.search import Searcher

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pdfs")]


@pytest.fixture
def pdf_ingest(pdf_index):
    return pdf_index  # conftest: the 41 PDFs with their passwords and OCR, ingested once per session


def test_every_pdf_is_indexed_or_skipped_with_one_line_reason(pdf_ingest):
    _, report, manifest = pdf_ingest
    names = {row["file"] for row in manifest}
    indexed = set(report.added)
    skipped = {s["path"]: s["reason"] for s in report.skipped if s["path"].endswith(".pdf")}
    assert len(names) == 41
    assert indexed | set(skipped) == names and not indexed & set(skipped)
    assert all(0 < len(r) < 200 and "\n" not in r for r in skipped.values())


def test_pdfs_without_a_text_layer_are_read_by_ocr_and_only_pictures_without_text_skipped(pdf_ingest):
    _, report, manifest = pdf_ingest
    skipped = {s["path"]: s["reason"] for s in report.skipped if s["path"].endswith(".pdf")}
    no_text = {row["file"] for row in manifest if row["pypdf_text_chars"] == "0"}
    scans = {"unstructured__pdf_loremipsum-flat.pdf", "pypdf__encrypted_doc_no_id.pdf"}  # scanned pages of text
    pictures = {"pypdf__git.pdf", "pypdf__imagemagick-CCITTFaxDecode.pdf"}  # a logo and a 16x16 image
    assert no_text == scans | pictures and scans <= set(report.added)
    assert {name: skipped.get(name) for name in pictures} == dict.fromkeys(pictures, "no text found by OCR in 1 page")


def test_encrypted_pdfs_open_with_configured_passwords_and_cite_pages(pdf_ingest, minilm):
    settings, report, _ = pdf_ingest
    assert "pypdf__libreoffice-writer-password.pdf" in report.added
    hits = Searcher(settings, minilm).search("crazy ones misfits rebels troublemakers", k=5)
    assert any(h.chunk.path.startswith("pypdf__crazyones") and h.chunk.page == 1 for h in hits)
