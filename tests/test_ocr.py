"""OCR, offline: images read by their text, scanned PDF pages read with their page numbers, and every
image or scan without readable text skipped with a one-line reason. (A scanned PDF read by OCR through the
real ingest and found by its words: tests/test_formats_ingest.py.)"""
from __future__ import annotations

import shutil

import pytest
from PIL import Image

from ragqa.ingest.documents import SkipFile
from ragqa.ingest.formats import ReadOptions
from ragqa.ingest.formats import ocr as ocr_module
from ragqa.ingest.formats.images import NO_TEXT, OCR_OFF, read_image
from ragqa.ingest.pdf import load_pdf, read_pdf

from helpers.data import SHARED_DATA

FORMATS = SHARED_DATA / "formats"
PDFS = SHARED_DATA / "pdfs"
LOREM = "unstructured__pdf_loremipsum-flat.pdf"


def skip_reason(read, *args) -> str:
    with pytest.raises(SkipFile) as caught:
        read(*args)
    reason = str(caught.value)
    assert reason and "\n" not in reason and len(reason) < 200
    return reason


@pytest.fixture(scope="module")
def rules_png(tmp_path_factory):
    """The English part of a fixture screenshot (650x410): small, so OCR takes about a second."""
    path = tmp_path_factory.mktemp("ocr") / "rules.png"
    Image.open(FORMATS / "img_english-and-korean.png").crop((0, 0, 650, 410)).save(path)
    return path


@pytest.mark.shared_data("formats")
@pytest.mark.parametrize("engine", ocr_module.ENGINES)
def test_each_engine_reads_a_screenshots_words_in_reading_order(engine, rules_png):
    if engine == "tesseract" and shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed (apt-get install tesseract-ocr)")
    doc = read_image(rules_png, "shots/rules.png", ReadOptions(ocr_engine=engine))
    assert (doc.kind, doc.title, [s.page for s in doc.sections]) == ("image", "rules", [1])
    text = doc.sections[0].text
    assert "INSTRUCTIONS" in text.splitlines()[0]  # rapidocr may still run the bold heading's words together
    for phrase in ("Use all your accounts", "Remember to write your own", "for day 3 both English and korean"):
        assert phrase in text


@pytest.mark.shared_data("formats")
def test_a_photo_without_text_is_skipped_saying_so():
    assert skip_reason(read_image, FORMATS / "img_example.jpg", "img_example.jpg", ReadOptions()) == NO_TEXT


def test_with_ocr_off_an_image_is_skipped_saying_which_setting(rules_png):
    reason = skip_reason(read_image, rules_png, "rules.png", ReadOptions(ocr_enabled=False))
    assert reason == OCR_OFF and "ocr.enabled" in reason


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, b"not an image at all"])
def test_a_damaged_image_is_skipped_with_one_line(tmp_path, data):
    path = tmp_path / "broken.png"
    path.write_bytes(data)
    assert "image" in skip_reason(read_image, path, "broken.png", ReadOptions())


@pytest.mark.shared_data("formats")
def test_a_truncated_image_is_skipped_with_one_line(tmp_path):
    path = tmp_path / "cut.png"
    path.write_bytes((FORMATS / "img_table-multi-row-column-cells.png").read_bytes()[:5000])
    assert "image" in skip_reason(read_image, path, "cut.png", ReadOptions())


def test_a_missing_engine_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(ocr_module, "_LOADED", {})
    monkeypatch.setattr(ocr_module.shutil, "which", lambda _name: None)
    with pytest.raises(SkipFile, match=r"^OCR engine tesseract is not installed: apt-get install tesseract-ocr$"):
        ocr_module.ocr_engine("tesseract")


@pytest.mark.shared_data("pdfs")
def test_with_ocr_off_a_scanned_pdf_is_skipped_saying_which_setting():
    reason = skip_reason(read_pdf, PDFS / LOREM, LOREM, ReadOptions(ocr_enabled=False))
    assert "no extractable text in 1 page" in reason and "turn on ocr.enabled" in reason
    assert "turn on ocr.enabled" in skip_reason(load_pdf, PDFS / LOREM, LOREM)  # the old callers: no OCR


@pytest.mark.shared_data("pdfs")
def test_ocr_stops_at_the_time_limit_with_a_reason():
    reason = skip_reason(read_pdf, PDFS / LOREM, LOREM, ReadOptions(ocr_seconds=0))
    assert reason.startswith("no text found by OCR in 1 page; OCR stopped after 0 s at page 1 (ocr.timeout_seconds)")


@pytest.mark.shared_data("pdfs")
def test_pages_without_text_even_by_ocr_are_listed_and_the_others_kept():
    doc = read_pdf(PDFS / "pypdf__imagemagick-images.pdf", "images.pdf", ReadOptions())
    assert [s.page for s in doc.sections] == [1, 2, 3, 6]
    assert doc.warnings == ["no text on page(s) 4-5, even by OCR"]
    reason = skip_reason(read_pdf, PDFS / "pypdf__imagemagick-CCITTFaxDecode.pdf", "fax.pdf", ReadOptions())
    assert reason == "no text found by OCR in 1 page"


def test_boxes_on_one_line_are_joined_left_to_right_and_tall_boxes_swallow_nothing():
    boxes = [(0, 400, 0, "arXiv"), (10, 30, 300, "world"), (12, 30, 100, "hello"), (50, 70, 100, "next")]
    assert ocr_module.join_lines(boxes) == ["hello world", "next", "arXiv"]
