"""How much of the retrieved text the model must read: gold answers kept against prompt tokens.

    python bench/context_focus.py [--questions 300] [--seed 11] [--k 5]

No language model runs here. For SQuAD questions (squad-dev, the index bench/answer_quality.py builds)
each way of cutting the retrieved passages down (ragqa.answer.focus) is scored by whether the text the model
would read still holds a gold answer, and by how many tokens it costs (tiktoken; the model's own
tokenizer counts within a few percent of it on English). Reading the prompt is most of the time to the
first token on a CPU, so this is the cheap screen before bench/answer_quality.py measures answers.

Also scored: the questions bench/llm_speed.py asks of ragqa's own docs/ (the sample folder), each with
the words its answer must contain, as a check on notes that are not encyclopaedia paragraphs (headings
that carry the topic, tables, lists).
"""
from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]

from bench.answer_quality import DATA, build_index, contains_gold, sample_questions  # noqa: E402
from bench.docs_questions import DOCS_QUESTIONS  # noqa: E402
from bench.machine import machine_line  # noqa: E402
from ragqa.answer.focus import FocusOptions, focus_passages  # noqa: E402
from ragqa.tokens import count_tokens  # noqa: E402

CONTEXT_NEEDS = {  # the words the context must keep for a right answer to be possible
    "How does ragqa keep the index safe if ingest is killed?": "one SQLite transaction",
    "Does ragqa need the internet?": "No.",
    "Can two ingests run at once?": "one writer at a time",
    "Why is my PDF skipped?": "no text layer",
    "Who can reach the chat?": "127.0.0.1",
    "What is the default embedding model?": "multilingual-e5-small",
    "How fast is a re-ingest when nothing changed?": "0.05 s",
    "Which local model answers by default?": "qwen2.5-coder-1.5b",
}


def variants(k: int) -> dict:
    """name -> (kind, passages, budget, FocusOptions and whether the embedding and headings count)."""
    out = {f"whole passages, top {n}": ("whole", n, 0, {}) for n in sorted({k, 3})}
    for budget in (140, 180, 240, 320):
        out[f"words only, {budget}"] = ("focus", k, budget, {"semantic": False, "headings": False, "rank_weight": 0.05})
        out[f"+ embedding, {budget}"] = ("focus", k, budget, {"headings": False, "rank_weight": 0.05})
        out[f"+ headings (shipped), {budget}"] = ("focus", k, budget, {"rank_weight": 0.05})
        out[f"+ each passage first, {budget}"] = ("focus", k, budget, {"each_passage": True, "rank_weight": 0.05})
        out[f"+ rank weight 0.15, {budget}"] = ("focus", k, budget, {"rank_weight": 0.15})
        out[f"+ rank weight 0.3, {budget}"] = ("focus", k, budget, {"rank_weight": 0.3})
    return out


def context(spec, question, hits, similarity):
    kind, n, budget, options = spec
    texts = [h.chunk.text for h in hits[:n]]
    if kind == "whole":
        return texts
    options = dict(options)
    semantic = options.pop("semantic", True)
    headings = [h.chunk.heading for h in hits[:n]] if options.pop("headings", True) else None
    return [f.text for f in focus_passages(question, texts, budget=budget, count_tokens=count_tokens,
                                           similarity=similarity if semantic else None, headings=headings,
                                           options=FocusOptions(**options))]


def cached_similarity(embedder):
    @functools.cache
    def similar(question: str, sentences: tuple[str, ...]) -> tuple[float, ...]:
        return tuple(embedder.similarities(question, list(sentences)))

    return lambda question, sentences: similar(question, tuple(sentences))


def docs_searcher():
    from ragqa.config import Settings
    from ragqa.ingest.pipeline import ingest_folder
    from ragqa.models.embedder import load_embedder
    from ragqa.retrieve.search import Searcher

    work = Path(tempfile.mkdtemp(prefix="ragqa-focus-docs-"))
    settings = Settings.model_validate({"notes_dir": str(REPO / "docs"), "index_dir": str(work / "index")})
    embedder = load_embedder(settings.embedding)
    ingest_folder(settings, embedder)
    return Searcher(settings, embedder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--work", default="~/.cache/ragqa/bench/squad-dev")
    args = parser.parse_args(argv)

    corpus, questions = sample_questions(Path(args.data), args.questions, args.seed)
    _, searcher, note_to_doc = build_index(corpus, Path(os.path.expanduser(args.work)))
    similarity = cached_similarity(searcher.embedder)
    table = {name: {"gold": 0, "gold_doc": 0, "tokens": [], "docs": 0} for name in variants(args.k)}
    for _, text, golds, gold_docs in questions:
        hits = searcher.search(text, k=max(args.k, 3))
        docs = [note_to_doc.get(h.chunk.path) for h in hits]
        for name, spec in variants(args.k).items():
            kept = context(spec, text, hits, similarity)
            row = table[name]
            row["gold"] += contains_gold(" ".join(kept), golds)
            row["gold_doc"] += any(d in gold_docs and contains_gold(t, golds) for d, t in zip(docs, kept, strict=False))
            row["tokens"].append(sum(count_tokens(t) for t in kept if t))
    docs = docs_searcher()
    docs_similarity = cached_similarity(docs.embedder)
    for question, _answers, _notes, _follow in DOCS_QUESTIONS:
        hits = docs.search(question, k=args.k)
        needed = CONTEXT_NEEDS[question]
        for name, spec in variants(args.k).items():
            table[name]["docs"] += needed.lower() in " ".join(context(spec, question, hits, docs_similarity)).lower()
    n = len(questions)
    print(f"\n{machine_line()}; {n} squad-dev questions (seed {args.seed}) and {len(DOCS_QUESTIONS)} questions "
          f"on ragqa's docs/, top {args.k} hybrid\n")
    print("| context given to the model | squad: holds a gold answer | gold passage kept with its answer "
          "| median tokens | 90th pct tokens | docs/: answer kept |")
    print("|---|---|---|---|---|---|")
    for name, row in table.items():
        tokens = sorted(row["tokens"])
        print(f"| {name} | {100 * row['gold'] / n:.0f}% | {100 * row['gold_doc'] / n:.0f}% "
              f"| {statistics.median(tokens):.0f} | {tokens[int(0.9 * (n - 1))]:.0f} "
              f"| {row['docs']}/{len(DOCS_QUESTIONS)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
