"""How to fuse dense and BM25 rankings: reciprocal rank fusion against score fusion, on a kept index.

    python bench/fusion.py [--datasets scifact squad-dev] [--squad-sample 1000]

Needs the indexes that bench/quality.py keeps (~/.cache/ragqa/quality/<dataset>-multilingual-e5-small).
Each query is run once per retriever (dense and BM25, 300 chunks deep); every fusion rule is then scored
on the same lists, so the comparison costs seconds, not a re-ingest. Prints nDCG@10 and recall@10 per rule.
Also scores MiniLM's dense run with each document ranked by its first chunk only, which is how published
runs score a document they truncate to the model's limit (parity check).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]

from bench.machine import machine_line  # noqa: E402
from bench.quality import DATA, E5, KEPT, MINILM, settings_for  # noqa: E402
from ragqa.cli.eval_command import load_beir, note_name, spread_sample  # noqa: E402
from ragqa.fusion import reciprocal_rank_fusion, score_fusion  # noqa: E402
from ragqa.models.embedder import load_embedder  # noqa: E402
from ragqa.retrieve.lexical import topic_terms  # noqa: E402
from ragqa.retrieve.metrics import best_chunk_per_doc, evaluate  # noqa: E402
from ragqa.retrieve.search import Searcher  # noqa: E402

DEPTH = 300


def retrieve(dataset: str, model: str, queries: dict) -> tuple[dict, dict, dict]:
    """({qid: dense [(id, score)]}, {qid: bm25 [(id, score)]}, {chunk id: doc id}) from the kept index."""
    settings = settings_for(model, {})
    work = KEPT / f"{dataset}-{Path(model).name}"
    searcher = Searcher(settings, load_embedder(settings.embedding), work / "index")
    reader = searcher.reader
    dense = {q: reader.dense(searcher.embedder.embed_query(t), DEPTH) for q, t in queries.items()}
    bm25 = {q: reader.bm25(topic_terms(t), DEPTH) for q, t in queries.items()}
    ids = {i for lists in (dense, bm25) for ranked in lists.values() for i, _ in ranked}
    chunks = reader.chunks(ids)
    return dense, bm25, {i: (c.path, c.ordinal) for i, c in chunks.items()}


def scores(ranked: dict, place: dict, doc_of: dict, qrels: dict, first_chunk_only: bool = False) -> dict:
    results = {}
    for qid, pairs in ranked.items():
        kept = [(doc_of[place[i][0]], s) for i, s in pairs if not first_chunk_only or place[i][1] == 0]
        results[qid] = best_chunk_per_doc(kept)[:100]
    return evaluate({q: qrels[q] for q in ranked}, results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["scifact", "squad-dev"])
    parser.add_argument("--squad-sample", type=int, default=1000)
    args = parser.parse_args()
    print(machine_line())
    for dataset in args.datasets:
        corpus, queries, qrels = load_beir(DATA / dataset)
        if dataset == "squad-dev":
            queries = spread_sample(queries, args.squad_sample)
        doc_of = {note_name(d): d for d in corpus}
        dense, bm25, place = retrieve(dataset, E5, queries)
        rules = {"dense only": dense, "BM25 only": bm25}
        for k in (5, 10, 20, 60):
            for wd, wb in ((1, 1), (1, 1.5), (1, 2)):
                rules[f"RRF k={k}, dense x{wd:g} bm25 x{wb:g}"] = {
                    q: reciprocal_rank_fusion([dense[q], bm25[q]], k=k, weights=[wd, wb]) for q in queries}
        for alpha in (0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7):
            rules[f"score fusion, dense share {alpha:g}"] = {
                q: score_fusion([dense[q], bm25[q]], weights=[alpha, 1 - alpha]) for q in queries}
        for depth in (20, 50):  # what search fuses by default (search.candidates): is score fusion depth-proof?
            rules[f"score fusion, dense share 0.6, lists cut to {depth}"] = {
                q: score_fusion([dense[q][:depth], bm25[q][:depth]], weights=[0.6, 0.4]) for q in queries}
            rules[f"RRF k=5, lists cut to {depth}"] = {
                q: reciprocal_rank_fusion([dense[q][:depth], bm25[q][:depth]], k=5) for q in queries}
        print(f"\n### {dataset}: {len(queries)} queries, E5 + BM25\n\n| fusion | nDCG@10 | recall@10 |\n|---|---|---|")
        for name, ranked in rules.items():
            got = scores(ranked, place, doc_of, qrels)
            print(f"| {name} | {got['ndcg@10']:.4f} | {got['recall@10']:.4f} |", flush=True)
        if dataset == "scifact":
            dense_m, _, place_m = retrieve(dataset, MINILM, queries)
            best, first = scores(dense_m, place_m, doc_of, qrels), scores(dense_m, place_m, doc_of, qrels, True)
            print(f"\nMiniLM dense nDCG@10: {best['ndcg@10']:.4f} (document = its best chunk), "
                  f"{first['ndcg@10']:.4f} (document = its first chunk, as a truncating run scores it)")


if __name__ == "__main__":
    main()
