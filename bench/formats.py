"""Reading every kind of document: seconds per file per type, and OCR seconds per page.

    python bench/formats.py [--data ../shared/data] [--engine rapidocr|tesseract]

Reads the 37 files of formats/ and the scanned PDFs of pdfs/ with ragqa's own readers (ragqa.ingest.formats, in this
process, as the isolated reader's child does), each file once after one warm-up read of its kind (so library
imports and the OCR model's load are not counted; they are printed apart). Prints a Markdown table by type,
then one row per OCRed file with its pages and seconds per page. Machine, date and load are printed with it.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path[0] = str(REPO)  # not bench/: bench/ingest.py would shadow the ingest package

from bench.machine import load_average, machine_line  # noqa: E402
from ragqa.filetypes import PLAIN_KINDS, kind_of  # noqa: E402
from ragqa.ingest.documents import SkipFile  # noqa: E402
from ragqa.ingest.formats import ReadOptions, read_document  # noqa: E402

SCANNED = ["unstructured__pdf_loremipsum-flat.pdf", "pypdf__git.pdf", "pypdf__imagemagick-CCITTFaxDecode.pdf",
           "pypdf__imagemagick-images.pdf"]  # the PDFs of pdfs/ without a text layer (its MANIFEST.tsv)


def files(data: Path) -> list[Path]:
    found = sorted(p for p in (data / "formats").iterdir() if kind_of(p.name))
    return found + [data / "pdfs" / name for name in SCANNED if (data / "pdfs" / name).exists()]


def read(path: Path, options: ReadOptions):
    """(kind, seconds, pages read, outcome) for one file."""
    kind = kind_of(path.name)
    started = time.perf_counter()
    try:
        if kind in PLAIN_KINDS:
            from ragqa.ingest.loaders import text_of  # the notes' own path: decode, then the Markdown/text parser

            text_of(path.read_bytes())
            pages, outcome = 1, "read"
        else:
            doc = read_document(path, path.name, kind, options)
            pages, outcome = len({s.page for s in doc.sections if s.page}) or 1, "read"
    except SkipFile as skip:
        pages, outcome = 0, f"skipped: {skip}"
    return kind, time.perf_counter() - started, pages, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--engine", default="rapidocr")
    args = parser.parse_args()
    options = ReadOptions(ocr_engine=args.engine)
    print(f"# bench/formats.py: {machine_line()}\n")
    started = time.perf_counter()
    from ragqa.ingest.formats.ocr import ocr_engine

    ocr_engine(args.engine)
    print(f"OCR engine {args.engine} loaded in {time.perf_counter() - started:.2f} s (once per reader process)\n")
    warmed: set[str] = set()
    rows = []
    for path in files(args.data):
        kind = kind_of(path.name)
        if kind not in warmed:  # the first read of a kind imports its libraries: not a per-file cost
            read(path, options)
            warmed.add(kind)
        rows.append((path, *read(path, options)))
    by_kind = defaultdict(list)
    for _path, kind, seconds, _pages, outcome in rows:
        by_kind[kind].append((seconds, outcome))
    print("| type | files | read | skipped | median s/file | max s/file |\n|---|---|---|---|---|---|")
    for kind, results in sorted(by_kind.items()):
        times = [s for s, _ in results]
        read_ok = sum(o == "read" for _, o in results)
        print(f"| {kind} | {len(results)} | {read_ok} | {len(results) - read_ok} | {statistics.median(times):.3f} "
              f"| {max(times):.3f} |")
    print("\nOCR, per file (images, and PDFs whose pages have no text layer):\n")
    print("| file | pages | seconds | s/page | outcome |\n|---|---|---|---|---|")
    for path, kind, seconds, pages, outcome in rows:
        if kind == "image" or path.name in SCANNED:
            per_page = f"{seconds / pages:.2f}" if pages else "-"
            print(f"| {path.name} | {pages} | {seconds:.2f} | {per_page} | {outcome[:70]} |")
    skipped = [(p.name, o) for p, _, _, _, o in rows if o != "read"]
    if skipped:
        print("\nSkipped: " + "; ".join(f"{name} ({outcome})" for name, outcome in skipped))
    print(f"\nload at the end: {load_average():.1f}")


if __name__ == "__main__":
    main()
