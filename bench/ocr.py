"""OCR engines and scanned-PDF routes, measured on the shared fixtures.

    python bench/ocr.py [--engines rapidocr tesseract] [--repeat 1]

Table 1, per engine and fixture image: character error rate (edit distance / length of the typed
transcription in bench/ocr_truth/, whitespace collapsed) and seconds per page, model loading excluded
(shown separately). Each fixture is OCRed on a fixed region (REGIONS) whose text was typed by hand.
"rapidocr-raw" is rapidocr without ragqa's space repair (ragqa.ingest.formats.ocr._SpacedDecoder).
Table 2, held out: word recall (words of 3+ letters of the PDF's text layer that OCR finds) on
img_layout-parser-paper-fast.jpg, a 612x792 rendering of unstructured__pdf_layout-parser-paper-fast.pdf p1.
Table 3, per scanned PDF page: its image taken out with pypdf (`page.images`, the largest one) against
the page rendered by pypdfium2 at 200 dpi; seconds to get the image, and what rapidocr then reads.
An engine or route that is not installed is skipped with a line saying so.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
REPO = Path(__file__).resolve().parents[1]
sys.path[0] = str(REPO)  # not bench/: the repo's packages
DATA = REPO.parent / "shared" / "data"
TRUTH = Path(__file__).resolve().parent / "ocr_truth"

from PIL import Image  # noqa: E402

from bench.machine import load_average, machine_line  # noqa: E402
from ragqa.ingest.documents import SkipFile  # noqa: E402
from ragqa.ingest.formats import ocr  # noqa: E402
from ragqa.ingest.formats.ocr import ocr_engine  # noqa: E402

VARIANTS = ("rapidocr", "rapidocr-raw", "tesseract")

# fixture -> the region (left, top, right, bottom) whose text bench/ocr_truth/<stem>.txt holds
REGIONS = {
    "img_english-and-korean.png": (0, 0, 650, 410),  # the English part: the Korean is read by neither
    "img_DA-1p.png": (40, 50, 560, 300),  # headings and the first two paragraphs
    "img_table-multi-row-column-cells.png": (50, 237, 1335, 597),  # the table's body rows
}
SCANNED = ["unstructured__pdf_loremipsum-flat.pdf", "pypdf__git.pdf",
           "pypdf__imagemagick-CCITTFaxDecode.pdf", "pypdf__imagemagick-images.pdf"]
DPI = 200


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance. >>> edit_distance("kitten", "sitting")  # 3"""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def cer(found: str, truth: str) -> float:
    found, truth = " ".join(found.split()), " ".join(truth.split())
    return edit_distance(found, truth) / len(truth)


def load(name: str):
    """(engine, seconds to load it), or None after printing why it cannot run."""
    started = time.perf_counter()
    try:
        if name == "rapidocr-raw":  # > 1: never a space where the blank wins, as rapidocr decodes by itself
            return ocr.RapidOcrEngine(space_probability=1.1), time.perf_counter() - started
        return ocr_engine(name), time.perf_counter() - started
    except SkipFile as why:
        print(f"| {name} | skipped: {why} | | | |")
        return None


def engine_table(names: list[str], repeat: int) -> None:
    print("| engine | fixture (region) | chars | CER | s/page |\n|---|---|---:|---:|---:|")
    for name in names:
        if not (loaded := load(name)):
            continue
        engine, loaded = loaded
        errors, seconds = [], []
        for fixture, box in REGIONS.items():
            image = Image.open(DATA / "formats" / fixture).convert("RGB").crop(box)
            truth = (TRUTH / f"{Path(fixture).stem}.txt").read_text(encoding="utf-8")
            engine.lines(image)  # warm-up: the first call allocates onnxruntime's buffers
            started = time.perf_counter()
            for _ in range(repeat):
                text = "\n".join(engine.lines(image))
            seconds.append((time.perf_counter() - started) / repeat)
            errors.append(cer(text, truth))
            print(f"| {name} | {fixture} {image.width}x{image.height} | {len(truth)} | "
                  f"{errors[-1]:.3f} | {seconds[-1]:.2f} |")
        print(f"| **{name}** | mean (load {loaded:.1f} s) | | **{sum(errors) / len(errors):.3f}** | "
              f"**{sum(seconds) / len(seconds):.2f}** |")


def held_out_table(names: list[str]) -> None:
    from pypdf import PdfReader

    words = lambda text: re.findall(r"[a-z]{3,}", text.lower())  # noqa: E731
    truth = words(PdfReader(DATA / "pdfs" / "unstructured__pdf_layout-parser-paper-fast.pdf").pages[0].extract_text())
    image = Image.open(DATA / "formats" / "img_layout-parser-paper-fast.jpg").convert("RGB")
    print(f"\n| engine | held-out page 612x792 | word recall ({len(truth)} words) | s/page |\n|---|---|---:|---:|")
    for name in names:
        if not (loaded := load(name)):
            continue
        started = time.perf_counter()
        found = set(words("\n".join(loaded[0].lines(image))))
        print(f"| {name} | img_layout-parser-paper-fast.jpg | {sum(w in found for w in truth) / len(truth):.3f} | "
              f"{time.perf_counter() - started:.2f} |")


def pdf_table() -> None:
    from pypdf import PdfReader

    have_pdfium = importlib.util.find_spec("pypdfium2") is not None
    engine, _ = load("rapidocr")
    print("\n| PDF page | route | image | s to get image | s OCR | text read (start) |\n|---|---|---|---:|---:|---|")
    for name in SCANNED:
        reader = PdfReader(DATA / "pdfs" / name)
        pdfium = None
        if have_pdfium:
            import pypdfium2
            pdfium = pypdfium2.PdfDocument(DATA / "pdfs" / name)
        for number, page in enumerate(reader.pages, 1):
            if (page.extract_text() or "").strip():
                continue
            routes = {"pypdf page.images": lambda: max((i.image for i in page.images),
                                                      key=lambda im: im.width * im.height, default=None)}
            if pdfium is not None:
                routes["pypdfium2 render"] = lambda: pdfium[number - 1].render(scale=DPI / 72).to_pil()
            else:
                print(f"| {name} p{number} | pypdfium2 render | skipped: pip install pypdfium2 | | | |")
            for route, get in routes.items():
                started = time.perf_counter()
                try:
                    image = get()
                except Exception as err:  # noqa: BLE001 - a route that fails is a row of the table
                    print(f"| {name} p{number} | {route} | failed: {type(err).__name__} | | | |")
                    continue
                got = time.perf_counter() - started
                if image is None:
                    print(f"| {name} p{number} | {route} | no image | {got:.2f} | | |")
                    continue
                started = time.perf_counter()
                text = " ".join(engine.lines(image))
                read = time.perf_counter() - started
                shown = (text[:50] + "…") if len(text) > 50 else text or "(nothing)"
                print(f"| {name} p{number} | {route} | {image.width}x{image.height} {image.mode} | "
                      f"{got:.2f} | {read:.2f} | {shown} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per fixture (after one warm-up)")
    parser.add_argument("--no-pdf", action="store_true", help="skip the scanned-PDF table")
    args = parser.parse_args()
    print(f"{machine_line()}\n")
    engine_table(args.engines, args.repeat)
    held_out_table(args.engines)
    if not args.no_pdf:
        pdf_table()
    print(f"\nload at the end: {load_average():.1f} (2 shared cores: seconds rise with load)")


if __name__ == "__main__":
    main()
