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
- load: the median 1-minute load average while answering (the timings are only comparable at equal load);
- CPU s: CPU seconds of this process and the model's server per answer, which load changes little; on an
  idle machine an answer takes about CPU s / 2 seconds (the server runs 2 threads).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import statistics
import string
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parents[1]
# bench/ingest.py would shadow the `ingest` namespace package, so bench/ leaves the path
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]

from ragqa.prompt import SYSTEM_PROMPT as DEFAULT_SYSTEM_PROMPT  # noqa: E402
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


class Candidates:
    """One started chat model per candidate, kept for the whole run (answers are interleaved)."""

    def __init__(self, settings, work: Path):
        self.settings, self.models = settings, {}
        self.cache = link_models(settings.resolve(settings.embedding.cache_dir), work / "llm")

    def settings_for(self, name: str):
        settings = self.settings.model_copy(deep=True)
        settings.llm.provider = "none" if name == "none" else "local"
        if name != "none":
            settings.llm.local_model = name
        return settings

    def chat_model(self, name: str, fresh: bool = False):
        from ragqa.llm import make_chat_model

        if name != "none" and (fresh or name not in self.models):
            self.models[name] = make_chat_model(self.settings_for(name), cache_dir=self.cache)
            self.models[name].complete([{"role": "user", "content": "Say hello."}], max_tokens=4)  # warm-up
        return self.models.get(name)

    def cpu_seconds(self, name: str) -> float:
        """CPU time used so far by this process and by the candidate's server: unlike wall time, an answer's
        share of it hardly changes when other work loads the machine."""
        total = time.process_time()
        state = self.cache / f"llm-server-{name}-ctx{self.settings.llm.context_window}.json"
        if name != "none" and state.exists():
            try:
                fields = Path(f"/proc/{json.loads(state.read_text())['pid']}/stat").read_text().rsplit(")", 1)[1]
                total += sum(int(x) for x in fields.split()[11:13]) / os.sysconf("SC_CLK_TCK")  # utime, stime
            except (OSError, ValueError, KeyError):
                pass
        return total


def link_models(shared: Path, own: Path) -> Path:
    """A server folder of the bench's own, so the app's or the tests' servers (same model, same window)
    are neither reused nor stopped by the bench, nor it by them; assembled GGUFs are linked, not copied."""
    (own / "models").mkdir(parents=True, exist_ok=True)
    for gguf in (shared / "models").glob("*.gguf"):
        if not (own / "models" / gguf.name).exists():
            (own / "models" / gguf.name).symlink_to(gguf)
    return own


def system_prompt(variant: str) -> str:
    if VARIANTS[variant] is None:
        return DEFAULT_SYSTEM_PROMPT
    if CITE_RULE not in DEFAULT_SYSTEM_PROMPT:
        raise SystemExit("ragqa.prompt.SYSTEM_PROMPT no longer has the citation rule this variant rewrites")
    return DEFAULT_SYSTEM_PROMPT.replace(CITE_RULE, VARIANTS[variant])


def answer_as(name, variant, question, candidates: Candidates, searcher):
    import ragqa.prompt

    ragqa.prompt.SYSTEM_PROMPT = system_prompt(variant)  # build_prompt reads it at call time
    try:
        settings = candidates.settings_for(name)
        chat_model, cpu = candidates.chat_model(name), candidates.cpu_seconds(name)
        answer, raw = answer_one(question, settings, searcher, chat_model)
        if answer.error and name != "none":  # the server went away (a shared machine): once more
            chat_model = candidates.chat_model(name, fresh=True)
            cpu = candidates.cpu_seconds(name)
            answer, raw = answer_one(question, settings, searcher, chat_model)
        return answer, raw, candidates.cpu_seconds(name) - cpu
    finally:
        ragqa.prompt.SYSTEM_PROMPT = DEFAULT_SYSTEM_PROMPT


def read_log(log: Path) -> dict:
    done = {}
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if not row["error"]:
                done[row["model"], row["variant"], row["qid"]] = row
    return done


def combos(models: list[str], variants: list[str]) -> list[tuple[str, str]]:
    """(model, prompt variant) pairs; without an LLM the prompt does not matter."""
    return [(m, v) for m in models for v in variants if m != "none" or v == variants[0]]


def run(questions, models, variants, candidates, searcher, note_to_doc, log: Path) -> None:
    """Each question in turn by every candidate and prompt, so a run cut short still compares them all on
    the same questions, and under the same load (the machine may be shared)."""
    done = read_log(log)
    for i, (qid, text, golds, gold_docs) in enumerate(questions, 1):
        for name, variant in combos(models, variants):
            if (name, variant, qid) in done:
                continue
            answer, raw, cpu = answer_as(name, variant, text, candidates, searcher)
            row = {"model": name, "variant": variant, "qid": qid, "load": os.getloadavg()[0], "cpu_s": cpu,
                   **score(answer, raw, golds, gold_docs, note_to_doc)}
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            done[name, variant, qid] = row
            print(f"q{i} {name} {variant} {row['seconds']:.1f}s gold={row['gold_answer']} "
                  f"cites_gold={row['cites_gold']} load={row['load']:.1f}", file=sys.stderr, flush=True)


def share(rows: list[dict], key: str) -> str:
    values = [r[key] for r in rows if r[key] is not None]
    return f"{100 * sum(values) / len(values):.0f}%" if values else "—"


def median_of(rows: list[dict], key: str) -> float:
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else float("nan")


def table(done: dict, pairs: list[tuple[str, str]], qids: list[str]) -> str:
    """The candidates side by side, on the questions every one of them has answered."""
    common = [q for q in qids if all((m, v, q) in done for m, v in pairs)]
    lines = ["| answers from | prompt | gold answer | model cited | ≥1 citation | cites gold | gold retrieved "
             "| median s/answer | load (1 min) | median CPU s/answer | n |", "|---" * 11 + "|"]
    for name, variant in pairs:
        rows = [done[name, variant, q] for q in common]
        median = median_of(rows, "seconds")
        load = median_of(rows, "load")
        cpu = median_of(rows, "cpu_s")
        lines.append(f"| {name} | {variant if name != 'none' else '—'} | {share(rows, 'gold_answer')} "
                     f"| {share(rows, 'model_cited')} | {share(rows, 'has_citation')} | {share(rows, 'cites_gold')} "
                     f"| {share(rows, 'gold_retrieved')} | {median:.1f} | {load:.1f} | {cpu:.1f} | {len(rows)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--models", nargs="+", default=CANDIDATES, choices=CANDIDATES)
    parser.add_argument("--variants", nargs="+", default=["default"], choices=list(VARIANTS))
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--table", action="store_true", help="only print the tables from the answers so far")
    parser.add_argument("--work", default="~/.cache/ragqa/bench/squad-dev", help="index and answer log live here")
    args = parser.parse_args(argv)
    if args.variants[0] != "default":
        args.variants.insert(0, "default")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so atexit stops the servers started here

    work = Path(os.path.expanduser(args.work))
    corpus, questions = sample_questions(Path(args.data), args.questions, args.seed)
    log = work / f"answers-seed{args.seed}-n{args.questions}.jsonl"
    if not args.table:
        settings, searcher, note_to_doc = build_index(corpus, work)
        run(questions, args.models, args.variants, Candidates(settings, work), searcher, note_to_doc, log)
    done, qids = read_log(log), [q[0] for q in questions]
    print(table(done, combos(args.models, args.variants[:1]), qids))
    for variant in args.variants[1:]:
        print(f"\nPrompt variant {variant!r} against the shipped prompt:\n")
        local = [m for m in args.models if m != "none"]
        print(table(done, [(m, v) for m in local for v in (args.variants[0], variant)], qids))
    return 0


if __name__ == "__main__":
    sys.exit(main())
