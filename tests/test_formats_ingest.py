"""Every kind of document, ingested and searched as a user would: the 37 real files of formats/ and the
scanned PDFs of pdfs/, through the real ingest (the isolated reader, real OCR), MiniLM, FAISS and the hybrid
search; then an edited and a deleted .docx, incrementally."""
from __future__ import annotations

import csv
import shutil

import pytest

from ragqa.answer.prompt import source_label
from ragqa.index.store import IndexReader
from ragqa.ingest.pipeline import ingest_folder
from ragqa.retrieve.search import Searcher

from helpers.data import SHARED_DATA
from helpers.settings import make_settings

pytestmark = [pytest.mark.slow, pytest.mark.shared_data("formats", "pdfs"), pytest.mark.xdist_group("formats")]

FORMATS = SHARED_DATA / "formats"


def manifest() -> list[dict]:
    with open(FORMATS / "MANIFEST.tsv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture
def documents(formats_index):
    return formats_index  # conftest: formats/ and two scanned PDFs, ingested once per session


def test_at_least_33_of_the_37_files_are_indexed_and_the_rest_say_why(documents):
    _, report, _ = documents
    names = {row["file"] for row in manifest()}
    indexed = names & set(report.added)
    skipped = {s["path"]: s["reason"] for s in report.skipped}
    assert names <= indexed | set(skipped), names - indexed - set(skipped)
    assert len(indexed) >= 33, skipped
    assert all(reason and "\n" not in reason and len(reason) < 200 for reason in skipped.values()), skipped


@pytest.mark.parametrize("row", [r for r in manifest() if r["phrase"]], ids=lambda r: r["file"])
def test_a_search_for_a_files_phrase_finds_it_in_the_top_3(documents, row):
    _, _, searcher = documents
    found = [hit.chunk.path for hit in searcher.search(row["phrase"], k=3)]
    assert row["file"] in found, found


def test_scanned_pdfs_are_indexed_through_ocr_and_found_by_their_words(documents):
    _, report, searcher = documents
    skipped = {s["path"]: s["reason"] for s in report.skipped}
    assert "unstructured__pdf_loremipsum-flat.pdf" in report.added
    assert skipped["pypdf__git.pdf"] == "no text found by OCR in 1 page"  # only a logo: nothing to read
    hits = searcher.search("lorem ipsum dolor sit amet", k=3)
    flat = [h for h in hits if h.chunk.path == "unstructured__pdf_loremipsum-flat.pdf"]
    assert flat and flat[0].chunk.page == 1, [(h.chunk.path, h.chunk.page) for h in hits]


def test_a_citation_into_slides_names_the_slide_and_one_into_an_email_its_subject(documents):
    _, _, searcher = documents
    slide = next(h for h in searcher.search("This is the first content slide", k=5)
                 if h.chunk.path == "sample-presentation.pptx")
    assert slide.chunk.page and f"slide {slide.chunk.page}" in source_label(slide)
    mail = next(h for h in searcher.search("Violets are blue", k=5) if h.chunk.path == "eml_fake-email.eml")
    assert "Test Email" in mail.chunk.title and mail.chunk.title in source_label(mail)


def test_status_counts_files_by_type(documents):
    settings, report, _ = documents
    reader = IndexReader(settings.index_path)
    try:
        types = reader.stats()["types"]
    finally:
        reader.close()
    assert types["docx"] >= 8 and types["pptx"] >= 3 and types["email"] >= 4 and types["image"] >= 3, types
    assert sum(types.values()) == len(report.added)


def test_an_edited_docx_is_read_again_and_a_deleted_one_leaves_the_index(tmp_path, minilm):
    import docx

    notes = tmp_path / "notes"
    notes.mkdir()
    document = docx.Document()
    document.add_heading("Greenhouse plan", 1)
    document.add_paragraph("The tomatoes go in the north bed.")
    document.save(notes / "plan.docx")
    shutil.copy(FORMATS / "simple.docx", notes / "simple.docx")
    settings = make_settings(tmp_path, notes)
    assert sorted(ingest_folder(settings, minilm).added) == ["plan.docx", "simple.docx"]

    document.add_paragraph("The peppers moved to the heated propagator in March.")
    document.save(notes / "plan.docx")
    (notes / "simple.docx").unlink()
    report = ingest_folder(settings, minilm)
    assert report.updated == ["plan.docx"] and report.removed == ["simple.docx"]
    hits = Searcher(settings, minilm).search("Where are the peppers?", k=3)
    assert hits[0].chunk.path == "plan.docx" and "propagator" in hits[0].chunk.text
    assert {h.chunk.path for h in hits} == {"plan.docx"}
    assert hits[0].chunk.heading.endswith("Greenhouse plan")
