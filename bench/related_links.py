"""Related notes measured against wikilinks: for every note that links to other notes of the vault, how
many of the notes it links to are among its 10 related notes. The author wrote the links for readers, not
for this, so they are an independent relevance signal. Baseline: BM25 with the whole note as the query.

    python bench/related_links.py [--index INDEX_DIR] [--folder VAULT --model NAME]

Without --index the vault is ingested into a temp folder first. Prints Markdown tables.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path, PurePosixPath

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parents[1]
# REPO first and bench/ out: bench/ingest.py would hide the `ingest` package (a namespace package).
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
VAULT = REPO.parent / "shared" / "data" / "notes-lesleylai-digital-garden"
K = 10


def link_targets(files: list[tuple[str, str, dict]], note_paths: list[str]) -> dict[str, set[str]]:
    """{note: notes of `note_paths` it links to}, from (path, title, meta) rows whose meta has "links".

    A link resolves as Obsidian does: the full path without extension, else the file name
    (shortest match wins ties); links to itself or to nothing in the index are dropped.

    >>> link_targets([("a/x.md", "X", {"links": ["y", "a/x", "nope", "b/y"]})], ["a/x.md", "b/y.md"])
    {'a/x.md': {'b/y.md'}}
    """
    by_path = {str(PurePosixPath(p).with_suffix("")).lower(): p for p in note_paths}
    by_name: dict[str, str] = {}
    for p in sorted(note_paths, key=lambda p: (p.count("/"), p)):
        by_name.setdefault(PurePosixPath(p).stem.lower(), p)
    out: dict[str, set[str]] = {}
    indexed = set(note_paths)
    for path, _title, meta in files:
        if path not in indexed:
            continue
        found = set()
        for link in (meta or {}).get("links", []):
            key = link.strip().lower()
            target = by_path.get(key) or by_name.get(PurePosixPath(key).name)
            if target and target != path:
                found.add(target)
        if found:
            out[path] = found
    return out


def recall_at_k(links: dict[str, set[str]], ranked: dict[str, list[str]], k: int = K) -> dict:
    """Mean recall@k of links and the share of linking notes with at least one link in their top k.

    >>> recall_at_k({"a": {"b", "c"}, "d": {"e"}}, {"a": ["b", "x"], "d": ["x", "y"]}, 2)
    {'notes': 2, 'mean_recall': 0.25, 'any_hit': 0.5, 'links_found': 1, 'links': 3}
    """
    recalls, hits, found, total = [], 0, 0, 0
    for note, targets in links.items():
        got = len(targets & set(ranked.get(note, [])[:k]))
        recalls.append(got / len(targets))
        hits += got > 0
        found += got
        total += len(targets)
    n = len(recalls)
    return {"notes": n, "mean_recall": sum(recalls) / n if n else 0.0, "any_hit": hits / n if n else 0.0,
            "links_found": found, "links": total}


def bm25_top(texts: list[str], depth: int, k1: float = 1.2, b: float = 0.75) -> np.ndarray:
    """Each text as a query (its distinct words) over all texts by BM25; rows of best others, best first."""
    from ragqa.notes.topic_names import words

    docs = [Counter(words(t)) for t in texts]
    lengths = np.array([sum(d.values()) for d in docs], dtype=np.float64)
    average = lengths.mean() or 1.0
    postings: dict[str, tuple[list[int], list[float]]] = {}
    for i, doc in enumerate(docs):
        for term, tf in doc.items():
            entry = postings.setdefault(term, ([], []))
            entry[0].append(i)
            entry[1].append(tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[i] / average)))
    n = len(docs)
    weights = {t: (np.array(d), np.array(w) * math.log(1 + (n - len(d) + 0.5) / (len(d) + 0.5)))
               for t, (d, w) in postings.items()}
    out = np.zeros((n, depth), dtype=np.int64)
    for i, doc in enumerate(docs):
        if not doc:
            out[i] = [j for j in range(n) if j != i][:depth]
            continue
        parts = [weights[t] for t in doc]
        scores = np.bincount(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), minlength=n)
        scores[i] = -np.inf
        best = np.argpartition(-scores, depth - 1)[:depth]
        out[i] = best[np.argsort(-scores[best], kind="stable")]
    return out


def fuse(a: np.ndarray, b: np.ndarray, k: int, rrf_k: int = 60) -> np.ndarray:
    """Reciprocal rank fusion of two rankings per row."""
    out = np.zeros((len(a), k), dtype=np.int64)
    for i in range(len(a)):
        score: dict[int, float] = {}
        for ranking in (a[i], b[i]):
            for rank, j in enumerate(ranking):
                score[int(j)] = score.get(int(j), 0.0) + 1.0 / (rrf_k + rank + 1)
        out[i] = sorted(score, key=lambda j: (-score[j], j))[:k]
    return out


def without_link_words(text: str, links: list[str]) -> str:
    """The text with the visible words of its wikilinks (the target's name) taken out.

    >>> without_link_words("See Rust Traits and recall.", ["Concepts/Rust Traits", "recall"])
    'See  and .'
    """
    for link in sorted(links, key=len, reverse=True):
        name = PurePosixPath(link).name
        if name:
            text = re.sub(re.escape(name), "", text, flags=re.IGNORECASE)
    return text


def read_files(index_dir: Path) -> list[tuple[str, str, dict]]:
    from ragqa.index.store import connect

    conn = connect(index_dir)
    rows = [(p, t, json.loads(m or "{}")) for p, t, m in conn.execute("SELECT path, title, meta FROM files")]
    conn.close()
    return rows


def ingest(folder: Path, model: str) -> Path:
    from ragqa.config import Settings
    from ragqa.ingest.pipeline import ingest_folder
    from ragqa.models.embedder import load_embedder

    index = Path(tempfile.mkdtemp(prefix="ragqa-links-")) / "index"
    settings = Settings.model_validate({"notes_dir": str(folder), "index_dir": str(index),
                                        "embedding": {"model": model}})
    report = ingest_folder(settings, load_embedder(settings.embedding))
    print(f"ingested {len(report.added)} files, {report.chunks} chunks in {report.seconds:.0f} s", file=sys.stderr)
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", help="an index of the vault already built (skips ingest)")
    parser.add_argument("--folder", default=str(VAULT))
    parser.add_argument("--model", default="intfloat/multilingual-e5-small")
    args = parser.parse_args()
    from ragqa.notes.graph import note_texts
    from ragqa.notes.similarity import all_top_k
    from ragqa.notes.vectors import load_note_vectors

    index = Path(args.index) if args.index else ingest(Path(args.folder), args.model)
    started = time.perf_counter()
    notes = load_note_vectors(index)
    vectors_s = time.perf_counter() - started
    links = link_targets(read_files(index), notes.paths)
    texts = note_texts(index, chars=10**9)
    started = time.perf_counter()
    dense = all_top_k(notes.comparable(), 50)
    dense_s = time.perf_counter() - started
    raw = all_top_k(notes.vectors, K)
    started = time.perf_counter()
    lexical = bm25_top([f"{t}\n{texts.get(p, '')}" for p, t in zip(notes.paths, notes.titles, strict=True)], 50)
    bm25_s = time.perf_counter() - started
    meta = {p: m for p, _, m in read_files(index)}
    unlinked = bm25_top([f"{t}\n{without_link_words(texts.get(p, ''), meta.get(p, {}).get('links', []))}"
                         for p, t in zip(notes.paths, notes.titles, strict=True)], K)
    rows = {
        "`ragqa related`: mean of chunk vectors, centred, cosine": (dense[:, :K], dense_s),
        "same, not centred": (raw, None),
        "BM25, whole note as query (baseline)": (lexical[:, :K], bm25_s),
        "BM25, the links' own words taken out of the query": (unlinked, None),
        "`ragqa related` + BM25, reciprocal rank fusion": (fuse(dense, lexical, K), None),
    }
    model = json.loads(dict(__import__("sqlite3").connect(index / "index.sqlite").execute(
        "SELECT key, value FROM manifest")).get("model", "null"))
    n = len(notes)
    print(f"\n{Path(args.folder).name}: {n} notes, {sum(map(len, links.values()))} links between them from "
          f"{len(links)} notes; model {model}; {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}\n")
    print("| top 10 by | mean recall@10 of links | notes with ≥1 link in top 10 | links found | seconds (all notes) |")
    print("|---|---|---|---|---|")
    for name, (ranked, seconds) in rows.items():
        score = recall_at_k(links, {notes.paths[i]: [notes.paths[j] for j in r] for i, r in enumerate(ranked)})
        took = f"{seconds:.2f}" if seconds is not None else ""
        print(f"| {name} | {score['mean_recall']:.3f} | {score['any_hit']:.1%} | "
              f"{score['links_found']}/{score['links']} | {took} |")
    print(f"| random 10 notes (expected) | {K / (n - 1):.3f} | | | |")
    print(f"\nnote vectors loaded in {vectors_s:.2f} s ({len(notes.recomputed)} of {n} notes averaged from SQLite, "
          "the rest from the cache)")


if __name__ == "__main__":
    main()
