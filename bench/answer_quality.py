"""Answer quality of each answer source, with retrieval included, on SQuAD dev questions.

    python bench/answer_quality.py [--models none smollm2-135m qwen2.5-coder-0.5b qwen2.5-coder-1.5b]
                                   [--questions 100] [--seed 7] [--variant default|cite-each-sentence]

squad-dev's corpus is written out as notes and ingested through the real pipeline (default E5 embedding,
default search mode) into a cache folder, so re-runs skip the ingest. Each question is answered with
`ragqa.answer.answer_question` exactly as `ragqa ask` does it, against the real llama.cpp server. Every
answer is appended to a JSONL log in the cache folder, so an interrupted run resumes where it stopped.
Prints a Markdown table:

- gold answer: the answer text contains a gold answer string (SQuAD normalisation: lower case, no
  punctuation, no articles, single spaces);
- model cited: the model's own text (before ragqa checks it) cites at least one passage that exists;
- ≥1 citation: the final answer, after ragqa's checks, cites at least one passage;
- cites gold: the final answer's citations include the gold passage (qrels);
- gold retrieved: the gold passage is among the passages given to the model (the ceiling for cites gold);
- load: the median 1-minute load average while answering (the timings are only comparable at equal load).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import string
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parents[1]
# bench/ingest.py would shadow the `ingest` namespace package, so bench/ leaves the path
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
DATA = REPO.parent / "shared" / "data" / "squad-dev"
CANDIDATES = ["none", "smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]
CITE_RULE = ("- After each statement, cite the passage it comes from as [n], for example [2]. "
             "Only cite numbers that exist.")
VARIANTS = {  # system-prompt rewrites tried against the shipped prompt
    "default": None,
    "cite-each-sentence": "- End every sentence with the number of the passage it comes from in square brackets, "
                          "for example: The bridge opened in 1932 [2]. Only cite numbers that exist.",
}


def normalize(text: str) -> str:
    """SQuAD's answer normalisation.

    >>> normalize("The  Denver Broncos!")
    'denver broncos'
    """
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def contains_gold(answer: str, golds: list[str]) -> bool:
    padded = f" {normalize(answer)} "
    return any(f" {normalize(g)} " in padded for g in golds if normalize(g))


def sample_questions(data: Path, count: int, seed: int):
    from ragqa.cli.eval_command import load_beir, read_jsonl

    corpus, queries, qrels = load_beir(data)
    golds = {str(r["_id"]): r["answers"] for r in read_jsonl(data / "answers.jsonl") if r.get("answers")}
    ids = sorted(q for q in queries if q in golds)
    chosen = random.Random(seed).sample(ids, count)
    return corpus, [(q, queries[q], golds[q], set(qrels[q])) for q in chosen]


def build_index(corpus: dict, work: Path):
    from ingest.pipeline import ingest_folder
    from ragqa.config import Settings
    from ragqa.embedder import load_embedder
    from ragqa.search import Searcher

    settings = Settings.model_validate({"notes_dir": str(work / "notes"), "index_dir": str(work / "index")})
    from ragqa.cli.eval_command import write_corpus_as_notes

    note_to_doc = write_corpus_as_notes(corpus, work / "notes")
    embedder = load_embedder(settings.embedding)
    report = ingest_folder(settings, embedder)
    print(f"index: {len(corpus)} documents, {report.chunks} chunks embedded now ({report.seconds:.0f} s)",
          file=sys.stderr)
    return settings, Searcher(settings, embedder), note_to_doc


def answer_one(question, settings, searcher, chat_model) -> tuple[object, str]:
    """The final Answer and the model's raw text (the joined deltas, before citation checks)."""
    from ragqa.answer import answer_events

    raw, final = [], None
    for kind, value in answer_events(question, searcher=searcher, chat_model=chat_model, settings=settings):
        if kind == "delta":
            raw.append(value)
        elif kind == "done":
            final = value
    return final, "".join(raw)


def score(answer, raw: str, golds: list[str], gold_docs: set, note_to_doc: dict) -> dict:
    from ragqa.citations import parse_citations

    doc = {n: note_to_doc.get(h.chunk.path) for n, h in enumerate(answer.passages, 1)}
    return {
        "gold_answer": contains_gold(answer.text, golds),
        "model_cited": any(1 <= n <= len(answer.passages) for n in parse_citations(raw)) if answer.generated else None,
        "has_citation": bool(answer.cited),
        "cites_gold": any(doc.get(n) in gold_docs for n in answer.cited),
        "gold_retrieved": any(d in gold_docs for d in doc.values()),
        "seconds": answer.seconds, "error": answer.error, "text": answer.text, "raw": raw,
        "cited": [doc.get(n) for n in answer.cited],
    }


def run_candidate(name, variant, questions, settings, searcher, note_to_doc, log: Path) -> list[dict]:
    import ragqa.prompt
    from ragqa.llm import make_chat_model

    done = {}
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["model"] == name and row["variant"] == variant and not row["error"]:
                done[row["qid"]] = row
    todo = [q for q in questions if q[0] not in done]
    if VARIANTS[variant]:
        ragqa.prompt.SYSTEM_PROMPT = ragqa.prompt.SYSTEM_PROMPT.replace(CITE_RULE, VARIANTS[variant])
    if name != "none":
        settings.llm.local_model = name
    settings.llm.provider = "none" if name == "none" else "local"
    chat_model = make_chat_model(settings) if todo and name != "none" else None
    try:
        if chat_model is not None:
            chat_model.complete([{"role": "user", "content": "Say hello."}], max_tokens=4)  # warm-up
        for i, (qid, text, golds, gold_docs) in enumerate(todo, 1):
            answer, raw = answer_one(text, settings, searcher, chat_model)
            if answer.error and chat_model is not None:  # the server went away (shared machine): once more
                chat_model = make_chat_model(settings)
                answer, raw = answer_one(text, settings, searcher, chat_model)
            row = {"model": name, "variant": variant, "qid": qid, "load": os.getloadavg()[0],
                   **score(answer, raw, golds, gold_docs, note_to_doc)}
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            done[qid] = row
            print(f"{name} {variant} {i}/{len(todo)} {row['seconds']:.1f}s gold={row['gold_answer']}",
                  file=sys.stderr, flush=True)
    finally:
        ragqa.prompt.SYSTEM_PROMPT = ragqa.prompt.SYSTEM_PROMPT.replace(VARIANTS[variant] or CITE_RULE, CITE_RULE)
    return [done[q[0]] for q in questions if q[0] in done]


def share(rows: list[dict], key: str) -> str:
    values = [r[key] for r in rows if r[key] is not None]
    return f"{100 * sum(values) / len(values):.0f}%" if values else "—"


def table(results: list[tuple[str, str, list[dict]]]) -> str:
    lines = ["| answers from | prompt | gold answer | model cited | ≥1 citation | cites gold | gold retrieved "
             "| median s/answer | load (1 min) | errors | n |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, variant, rows in results:
        median = statistics.median(r["seconds"] for r in rows) if rows else float("nan")
        load = statistics.median(r.get("load", float("nan")) for r in rows) if rows else float("nan")
        lines.append(f"| {name} | {variant if name != 'none' else '—'} | {share(rows, 'gold_answer')} "
                     f"| {share(rows, 'model_cited')} | {share(rows, 'has_citation')} | {share(rows, 'cites_gold')} "
                     f"| {share(rows, 'gold_retrieved')} | {median:.2f} | {load:.1f} "
                     f"| {sum(bool(r['error']) for r in rows)} | {len(rows)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--models", nargs="+", default=CANDIDATES, choices=CANDIDATES)
    parser.add_argument("--variants", nargs="+", default=["default"], choices=list(VARIANTS))
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", default="~/.cache/ragqa/bench/squad-dev", help="index and answer log live here")
    args = parser.parse_args(argv)

    work = Path(os.path.expanduser(args.work))
    corpus, questions = sample_questions(Path(args.data), args.questions, args.seed)
    settings, searcher, note_to_doc = build_index(corpus, work)
    log = work / f"answers-seed{args.seed}-n{args.questions}.jsonl"
    results = []
    for variant in args.variants:
        for name in args.models:
            if name == "none" and variant != args.variants[0]:
                continue  # the prompt does not matter without an LLM
            results.append((name, variant, run_candidate(name, variant, questions, settings, searcher,
                                                         note_to_doc, log)))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
