"""Which cosine makes two notes near-duplicates? Plant near-copies of vault notes (a sentence added, the last
paragraph dropped, a word changed), ingest originals and copies, and compare the planted pairs' scores with
how many pairs of the real vault (which has no planted copies) each threshold would flag. Both for the plain
cosine of note vectors and for the centred cosine `ragqa duplicates` uses (centred on the vault's mean).

    python bench/duplicates_threshold.py --index VAULT_INDEX [--folder VAULT] [--model NAME] [--notes 30]

VAULT_INDEX must be built with the same model. Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parents[1]
# REPO first and bench/ out: bench/ingest.py would hide the `ingest` package (a namespace package).
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
VAULT = REPO.parent / "shared" / "data" / "notes-lesleylai-digital-garden"
THRESHOLDS = [0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99]


def near_copy(text: str, kind: str) -> str:
    """A realistic near-duplicate of a note.

    >>> near_copy("A b.\\n\\nC d.", "drop"), near_copy("A b.", "append")[-15:]
    ('A b.', 'see the notes.\\n')
    """
    if kind == "append":
        return text.rstrip() + "\n\nI should revisit this later; see the notes.\n"
    if kind == "drop":
        parts = text.rstrip().split("\n\n")
        return "\n\n".join(parts[:-1]) if len(parts) > 1 else text
    words = text.split(" ")
    middle = len(words) // 2
    return " ".join([*words[:middle], "really", *words[middle:]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", required=True)
    parser.add_argument("--folder", default=str(VAULT))
    parser.add_argument("--model", default="intfloat/multilingual-e5-small")
    parser.add_argument("--notes", type=int, default=30)
    args = parser.parse_args()
    from ragqa.config import Settings
    from ragqa.ingest.pipeline import ingest_folder
    from ragqa.models.embedder import load_embedder
    from ragqa.notes.vectors import load_note_vectors

    folder = Path(args.folder)
    candidates = sorted(p for p in folder.rglob("*.md") if p.stat().st_size >= 400 and not any(
        part.startswith(".") for part in p.relative_to(folder).parts))
    chosen = random.Random(7).sample(candidates, args.notes)
    work = Path(tempfile.mkdtemp(prefix="ragqa-dups-"))
    kinds = ["append", "drop", "word"]
    for n, source in enumerate(chosen):
        text = source.read_text(encoding="utf-8", errors="replace")
        (work / "notes").mkdir(exist_ok=True)
        (work / "notes" / f"{n}-original.md").write_text(text, encoding="utf-8")
        (work / "notes" / f"{n}-copy.md").write_text(near_copy(text, kinds[n % 3]), encoding="utf-8")
    settings = Settings.model_validate({"notes_dir": str(work / "notes"), "index_dir": str(work / "index"),
                                        "embedding": {"model": args.model}})
    ingest_folder(settings, load_embedder(settings.embedding))
    planted = load_note_vectors(work / "index")
    vault = load_note_vectors(Path(args.index))
    mean = vault.vectors.mean(axis=0)
    spaces = {"plain": lambda v: v, "centred": lambda v: _unit(v - mean)}
    print(f"\n{args.notes} planted near-copies of vault notes; vault: {len(vault)} notes; "
          f"model {args.model}; {time.strftime('%Y-%m-%d')}\n")
    found, natural = {}, {}
    print("| cosine | planted edit | pairs | lowest | median |")
    print("|---|---|---|---|---|")
    for space, f in spaces.items():
        scores = {k: [] for k in kinds}
        for n in range(args.notes):
            a, b = planted.row(f"{n}-original.md"), planted.row(f"{n}-copy.md")
            if a is not None and b is not None:
                scores[kinds[n % 3]].append(float(f(planted.vectors[a]) @ f(planted.vectors[b])))
        for kind, values in scores.items():
            print(f"| {space} | {kind} | {len(values)} | {min(values):.4f} | {np.median(values):.4f} |")
        found[space] = [s for v in scores.values() for s in v]
        x = f(vault.vectors)
        natural[space] = (x @ x.T)[np.triu_indices(len(vault), 1)]
    print("\n| threshold | plain: planted found | plain: vault pairs flagged | centred: planted found | "
          "centred: vault pairs flagged |")
    print("|---|---|---|---|---|")
    for t in THRESHOLDS:
        cells = [f"{sum(s >= t for s in found[sp])}/{len(found[sp])} | {int((natural[sp] >= t).sum())}"
                 for sp in spaces]
        print(f"| {t} | " + " | ".join(cells) + " |")
    print(f"\nhighest cosine between two different vault notes: plain {natural['plain'].max():.4f}, "
          f"centred {natural['centred'].max():.4f} (of {len(natural['plain'])} pairs)")


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)

if __name__ == "__main__":
    main()
