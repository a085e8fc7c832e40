"""How fast the parsers and the chunker get through hostile input, and the scan through the real vault: the
cases tests/test_fuzz.py and tests/test_scan.py check for correctness (the fuzz ones with a generous time-out
that only catches a hang, never a slow machine).

    python bench/parse_speed.py

Goals: a YAML alias bomb < 2 s, each huge adversarial line (200k-1M characters) < 5 s, a 200 KB unbroken
line chunked < 30 s (it took ~130 s for 400 KB before the chunker's search window was bounded), the vault's
scan (1,186 notes) < 0.2 s (best of 3). Prints a Markdown table with the machine, date and load.
"""
from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[0] = str(REPO)  # not bench/: bench/ingest.py would shadow the ingest package

from bench.machine import load_average, machine_line  # noqa: E402
from ragqa.ingest.chunk import chunk_document  # noqa: E402
from ragqa.ingest.documents import Document  # noqa: E402
from ragqa.ingest.markdown import parse_markdown  # noqa: E402
from ragqa.ingest.wikilinks import rewrite_inline  # noqa: E402
from ragqa.tokens import count_tokens  # noqa: E402

HUGE_LINES = {"[[ x 200k": "[[" * 200_000, "]] x 200k": "]]" * 200_000, "![a]( + (b) x 100k": "![a](" + "(b)" * 100_000,
              "![ + ] x 200k": "![" + "]" * 200_000, "[[a| x 100k": "[[a|" * 100_000,
              "![x](< + > x 200k": "![x](<" + ">" * 200_000, "x x 1M": "x" * 1_000_000}


def alias_bomb() -> str:
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for n in range(1, 10):
        prev, name = chr(ord("a") + n - 1), chr(ord("a") + n)
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "---\n" + "\n".join(levels) + "\ntags: *i\naliases: *j\n---\nBody"


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    rows = [("YAML alias bomb (9**10 items if expanded)", timed(lambda: parse_markdown(alias_bomb(), "b.md")), 2)]
    for name, line in HUGE_LINES.items():
        rows.append((f"huge line: {name}", timed(lambda line=line: (rewrite_inline(line, []),
                                                                    parse_markdown(line, "huge.md"))), 5))
    blob = "".join(random.Random(7).choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                                            k=200_000))
    doc = Document("blob.md", "Blob", parse_markdown(blob, "blob.md").sections, "markdown")
    rows.append(("200 KB unbroken line, chunked (256 tokens)",
                 timed(lambda: chunk_document(doc, chunk_tokens=256, overlap_tokens=32, count_tokens=count_tokens)),
                 30))
    vault = REPO.parent / "shared" / "data" / "notes-lesleylai-digital-garden"
    if vault.is_dir():
        from ragqa.filetypes import DEFAULT_INCLUDE
        from ragqa.ingest.scan import scan_folder

        best = min(timed(lambda: scan_folder(vault, DEFAULT_INCLUDE, [], 50 * 2**20)) for _ in range(3))
        rows.append(("scan of the vault (1,186 notes, 95 pictures), best of 3", best, 0.2))
    print(f"Machine: {machine_line()}\n")
    print("| input | seconds | goal |\n|---|---:|---:|")
    for name, seconds, goal in rows:
        print(f"| {name} | {seconds:.2f} | < {goal} |")
    print(f"\n(load {load_average():.1f} at the end)")


if __name__ == "__main__":
    main()
