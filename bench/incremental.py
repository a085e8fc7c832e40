"""Incremental ingest: what a person waits for after touching their notes.

    python bench/incremental.py [--limit N] [--sizes 10000 100000] [--model NAME]

On a copy of the vault (`--limit N`: its first N notes): the first ingest, a no-change re-ingest (goal < 2 s),
one edited note from save to searchable (goal < 1 s: write, incremental ingest, a fresh search finds the new
words), and deleting the note with the most chunks. Then the same delete on synthetic index folders of
`--sizes` chunks (built as in bench/query.py, with BM25 rows), split into SQLite, FAISS remove and the FAISS
file rewrite at publish, which is O(index). Prints Markdown tables.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as bench/query.py
REPO = Path(__file__).resolve().parents[1]
sys.path[0] = str(REPO)  # not bench/: bench/ingest.py would shadow the ingest package
VAULT = REPO.parent / "shared" / "data" / "notes-lesleylai-digital-garden"

from bench.machine import load_average, machine_line  # noqa: E402

BIG_FILE_CHUNKS = 400


def copy_vault(target: Path, limit: int | None) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    if not limit:
        shutil.copytree(VAULT, target)
        return target
    for path in sorted(p for p in VAULT.rglob("*.md") if p.is_file())[:limit]:
        (target / path.relative_to(VAULT)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target / path.relative_to(VAULT))
    return target


def timed_delete(writer, path: str) -> dict:
    """Delete one file's chunks through the writer; time SQLite, FAISS remove and publish separately."""
    remove = writer.vectors.remove
    spent = {"faiss_remove_s": 0.0}

    def timed_remove(ids):
        started = time.perf_counter()
        remove(ids)
        spent["faiss_remove_s"] += time.perf_counter() - started

    writer.vectors.remove = timed_remove
    started = time.perf_counter()
    writer.apply([], removed=[path])
    apply_s = time.perf_counter() - started
    started = time.perf_counter()
    writer.publish()
    publish_s = time.perf_counter() - started
    return {"sqlite_s": apply_s - spent["faiss_remove_s"], **spent, "publish_s": publish_s,
            "total_s": apply_s + publish_s}


def vault_runs(args, work: Path) -> list[str]:
    from ragqa.config import Settings
    from ragqa.index.store import IndexReader
    from ragqa.ingest.pipeline import ingest_folder
    from ragqa.models.embedder import load_embedder
    from ragqa.retrieve.search import Searcher

    notes = copy_vault(work / "vault", args.limit)
    settings = Settings.model_validate({"notes_dir": str(notes), "index_dir": str(work / "vault-index"),
                                        "embedding": {"model": args.model}})
    embedder = load_embedder(settings.embedding)
    embedder.embed_passages(["warm up"] * 4)
    rows = []
    first = ingest_folder(settings, embedder)
    rows.append(("first ingest", f"{len(first.added)} files, {first.chunks} chunks", first.seconds, None))
    again = ingest_folder(settings, embedder)
    rows.append(("no-change re-ingest", f"{len(again.unchanged)} files unchanged", again.seconds, 2.0))

    searcher = Searcher(settings, embedder)
    rel = searcher.reader.conn.execute("SELECT path FROM chunks ORDER BY id LIMIT 1 OFFSET ?",
                                       (first.chunks // 2,)).fetchone()[0]
    note = notes / rel
    started = time.perf_counter()
    with open(note, "a", encoding="utf-8") as handle:
        handle.write("\n\nThe quokka sanctuary opens at dawn on Rottnest Island.\n")
    edit = ingest_folder(settings, embedder)
    hits = searcher.search("quokka sanctuary Rottnest", k=3, mode="hybrid")
    seconds = time.perf_counter() - started
    assert any(hit.chunk.path == rel for hit in hits), "the edited note was not found"
    rows.append(("one note edited: save to searchable (hybrid search)", f"{edit.chunks} chunks re-embedded",
                 seconds, 1.0))

    reader = IndexReader(settings.index_path)
    path, chunks = reader.conn.execute(
        "SELECT path, count(*) FROM chunks GROUP BY path ORDER BY count(*) DESC LIMIT 1").fetchone()
    total = reader.stats()["chunks"]
    reader.close()
    started = time.perf_counter()
    (notes / path).unlink()
    gone = ingest_folder(settings, embedder)
    rows.append((f"biggest note deleted ({chunks} of {total} chunks)", f"{len(gone.removed)} file removed",
                 time.perf_counter() - started, None))
    searcher.reader.close()
    return [f"| {what} | {detail} | {seconds:.2f} | {'' if goal is None else f'< {goal:g} s'} | {load_average():.1f} |"
            for what, detail, seconds, goal in rows]


def synthetic_delete(n: int, work: Path) -> str:
    """Delete a 400-chunk file from an n-chunk index folder built like bench/query.py's."""
    from bench.query import IDENTITY, build, synthetic_queries
    from ragqa.index.store import IndexWriter

    folder = work / f"synthetic-{n}"
    build(folder, n, synthetic_queries(n, 1), fts=True)
    writer = IndexWriter(folder, IDENTITY)
    big = "notes/big.md"
    with writer.transaction():
        writer.conn.execute("UPDATE chunks SET path=? WHERE id <= ?", (big, BIG_FILE_CHUNKS))
    kind = writer.vectors.kind
    times = timed_delete(writer, big)
    left = writer.vectors.count()
    writer.close()
    size_mb = sum(p.stat().st_size for p in folder.glob("vectors.*.faiss")) / 1e6
    shutil.rmtree(folder, ignore_errors=True)
    return (f"| {n:,} | {kind} | {BIG_FILE_CHUNKS} | {times['sqlite_s']:.3f} | {times['faiss_remove_s']:.3f} | "
            f"{times['publish_s']:.3f} ({size_mb:.0f} MB file) | {times['total_s']:.2f} | {left:,} | "
            f"{load_average():.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="only the first N notes of the vault")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--model", default="intfloat/multilingual-e5-small")
    parser.add_argument("--work", default=None)
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="ragqa-bench-incremental-"))
    work.mkdir(parents=True, exist_ok=True)
    vault = vault_runs(args, work)
    deletes = [synthetic_delete(n, work) for n in args.sizes]
    print(f"\n{args.model}, {machine_line()}; load = 1-min load average right after the step\n")
    print("| step | what changed | seconds | goal | load |\n|---|---|---|---|---|")
    print("\n".join(vault))
    if deletes:
        print("\nDeleting one 400-chunk file from a bigger index (synthetic vectors, real SQLite with BM25):\n")
        print("| chunks | index | deleted | SQLite delete s | FAISS remove s | publish (file rewrite) s | total s | "
              "left | load |\n|---|---|---|---|---|---|---|---|---|")
        print("\n".join(deletes))


if __name__ == "__main__":
    main()
