"""Citation-checking rules compared on the answers bench/answer_quality.py logged: which one cites gold?

    python bench/citation_rules.py [--questions 100] [--seed 7] [--work ~/.cache/ragqa/bench/squad-dev]

Reads the answer log (answers-seed<seed>-n<questions>.jsonl) and opens the kept index exactly as
build_index does, but only to search: no note is written and nothing is ingested. For each question the
passages the model saw are rebuilt (search with the default settings, then build_prompt, so the same
passages in the same order and numbering), and every rule is re-applied to each local model's answer:

- (a) the rule the log was made with (recite's copy of check_citations) on the final text as logged: must
  reproduce the logged citations; mismatches are counted and printed. The last row runs check_citations
  as it is now on the raw text, so it shows when ragqa's rule has moved on from the logged one;
- the rules that start from the model's own citations take the model's raw text as logged (its words and
  its numbers, before any check); a citation standing alone after the sentence's full stop
  ("… Nevada. [1]") is checked against that sentence ("joined"), where the current rule sees an empty sentence;
- (b) re-point a citation whenever another passage supports the sentence better by a margin;
- (c) ignore the model's numbers: each sentence cites its best-supported passage if support ≥ SUPPORT_MIN.

Prints one Markdown table per model: cites gold (the qrels passage is among the citations), ≥1 citation,
mean citations per answer, all on the same answers.
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

from bench.answer_quality import DATA, read_log, sample_questions  # noqa: E402
from ragqa.answer.citations import CITATION, SUPPORT_MIN, check_citations, parse_citations, support  # noqa: E402
from ragqa.text import sentences as split_text  # noqa: E402


def passages_seen(questions: list[tuple], work: Path) -> dict[str, list[tuple[str, str]]]:
    """{qid: [(doc id, passage text)]}, numbered 1..n as in the prompt."""
    from ragqa.answer.prompt import build_prompt
    from ragqa.config import Settings
    from ragqa.models.embedder import load_embedder
    from ragqa.retrieve.search import Searcher
    from ragqa.tokens import count_tokens

    settings = Settings.model_validate({"notes_dir": str(work / "notes"), "index_dir": str(work / "index")})
    searcher = Searcher(settings, load_embedder(settings.embedding))
    seen = {}
    for qid, text, _golds, _gold_docs in questions:
        packed = build_prompt(text, searcher.search(text), [], context_window=settings.llm.context_window,
                              answer_tokens=settings.llm.max_answer_tokens, count_tokens=count_tokens)
        seen[qid] = [(h.chunk.path, h.chunk.text) for h in packed.passages]
    return seen


def sentences(text: str, join: bool) -> list[str]:
    parts = split_text(text, paragraphs=False)
    if not join:
        return parts
    joined: list[str] = []
    for part in parts:
        if joined and CITATION.sub("", part).strip(" .,;:!?") == "":
            joined[-1] += " " + part  # "… Nevada. [1]": the citation belongs to the sentence before it
        else:
            joined.append(part)
    return joined


def recite(text: str, passages: list[str], *, join: bool = True, margin: float = 0.2, gated: bool = False,
           own: bool = True, fallback: bool = True) -> list[int]:
    """The passage numbers an answer ends up citing, first-cited order, under one rule.

    own: start from the model's numbers (re-point one if `gated` only when its support < SUPPORT_MIN, then
    when another passage has support ≥ SUPPORT_MIN and ≥ its own + margin); not own: each sentence cites its
    best passage when that support ≥ SUPPORT_MIN. fallback: an answer left uncited gets the passage that
    best supports the whole text, if ≥ SUPPORT_MIN. The current rule is join=False, margin=0.2, gated=True.
    """
    cited: list[int] = []
    if not passages:
        return cited
    for sentence in sentences(text, join):
        scores = [support(sentence, p) for p in passages]
        best = max(range(len(passages)), key=lambda i: scores[i]) + 1
        numbers = [n for n in parse_citations(sentence) if 1 <= n <= len(passages)] if own else [best]
        for n in numbers:
            given = scores[n - 1] if own else -1.0
            clearly_better = scores[best - 1] >= max(SUPPORT_MIN, given + margin)
            if best != n and (not gated or given < SUPPORT_MIN) and clearly_better:
                n = best
            if scores[n - 1] >= SUPPORT_MIN or own:
                cited += [n] if n not in cited else []
    if fallback and not cited and text.strip():
        scores = [support(text, p) for p in passages]
        best = max(range(len(passages)), key=lambda i: scores[i])
        cited = [best + 1] if scores[best] >= SUPPORT_MIN else []
    return cited


def words(text: str) -> str:
    return " ".join(CITATION.sub(" ", text).split())


RULES = {  # name: (which logged text it starts from, cited numbers)
    "(a) current rule, final text as logged": ("text", lambda t, p: recite(t, p, join=False, gated=True)),
    "current rule on raw text, trailing [n] joined": ("raw", lambda t, p: recite(t, p, gated=True)),
    **{f"(b) re-point if another passage is +{m:g} better": ("raw", lambda t, p, m=m: recite(t, p, margin=m))
       for m in (0.1, 0.2, 0.3)},
    "(c) best passage per sentence, model's numbers ignored": ("text", lambda t, p: recite(words(t), p, own=False)),
    "ragqa.answer.citations.check_citations as shipped, raw text": ("raw", lambda t, p: check_citations(t, p).cited),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", default="~/.cache/ragqa/bench/squad-dev")
    args = parser.parse_args()
    work = Path(os.path.expanduser(args.work))
    _corpus, questions = sample_questions(Path(args.data), args.questions, args.seed)
    done = {k: row for k, row in read_log(work / f"answers-seed{args.seed}-n{args.questions}.jsonl").items()
            if k[0] != "none"}  # a snapshot: the benchmark may still be appending
    from ragqa.cli.eval_command import note_name

    gold = {q: {note_name(d) for d in docs} for q, _t, _g, docs in questions}
    seen = passages_seen([q for q in questions if any(k[2] == q[0] for k in done)], work)
    for model, variant in sorted({k[:2] for k in done}):
        rows = [r for k, r in done.items() if k[:2] == (model, variant)]
        words_differ = sum(words(r["text"]) != words(r["raw"]) for r in rows)
        print(f"\n### {model}{'' if variant == 'default' else f' ({variant})'}: {len(rows)} answers, "
              f"{words_differ} whose final text's words differ from the raw text's\n")
        print("| rule | cites gold | ≥1 citation | mean citations per answer |\n|---|---|---|---|")
        for name, (source, rule) in RULES.items():
            cited = [rule(r[source], [text for _doc, text in seen[r["qid"]]]) for r in rows]
            docs = [[seen[r["qid"]][n - 1][0] for n in c] for r, c in zip(rows, cited, strict=True)]
            hits = sum(bool(set(d) & gold[r["qid"]]) for r, d in zip(rows, docs, strict=True))
            print(f"| {name} | {hits}/{len(rows)} ({100 * hits / len(rows):.0f}%) | "
                  f"{sum(map(bool, cited))}/{len(rows)} | {sum(map(len, cited)) / len(rows):.2f} |")
            if name.startswith("(a)"):
                logged = [[note_name(d) for d in r["cited"]] for r in rows]
                wrong = sum(d != g for d, g in zip(docs, logged, strict=True))
                wrong_gold = sum(bool(set(d) & gold[r["qid"]]) != r["cites_gold"]
                                 for r, d in zip(rows, docs, strict=True))
                mismatch = f"(a) mismatches with the log: {wrong} in cited passages, {wrong_gold} in cites gold"
        print(f"\n{mismatch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
