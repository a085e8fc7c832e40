"""Answer quality and speed of each answer source and prompt variant, retrieval included, on SQuAD dev.

    python bench/answer_quality.py [--models none smollm2-135m qwen2.5-coder-0.5b qwen2.5-coder-1.5b ~/m.gguf]
                                   [--variants shipped before ...] [--questions 100] [--seed 7] [--data DIR]

squad-dev's corpus is written out as notes and ingested through the real pipeline (default E5 embedding,
default search mode) into a cache folder, so re-runs skip the ingest. Each question is answered with
`ragqa.answer.loop.answer_events` exactly as `ragqa ask` does it, against the real llama.cpp server. Each
(model, variant) pair has its own server, so one variant's prompt never evicts another's from the
server's prompt cache. Every answer is appended to a JSONL log in the cache folder, so an interrupted run
resumes where it stopped, and questions are answered by every pair in turn, so all of them see the same
load. Prints a Markdown table:

- gold answer: the final answer contains a gold answer string (SQuAD normalisation: lower case, no
  punctuation, no articles, single spaces); answer line: the same without a quotation the model copied
  before its answer (the "quote first" variant); model's words: the same for the model's own text;
- cites gold: the final answer's citations include the gold passage (qrels);
- "not say" with gold: the model said the notes do not say although the gold passage was given
  (model), and what is left of that after ragqa's final check (final: no quotation was added);
- gold given: the gold passage is among the passages given to the model (the ceiling for cites gold);
- first token: seconds from the question to the model's first words (search and focus included);
- prompt tokens: what ragqa counted in the prompt (tiktoken, with its safety factor);
- load: the median 1-minute load average while answering (times are only comparable at equal load);
- CPU s: CPU seconds of this process and the model's server per answer, which load changes little.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parents[1]
# bench/ingest.py would shadow the `ingest` namespace package, so bench/ leaves the path
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]

DATA = REPO.parent / "shared" / "data" / "squad-dev"
CANDIDATES = ["none", "smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]

from bench.answer_scoring import answer_line, contains_gold, score  # noqa: E402
from bench.answer_variants import VARIANTS, focus_options  # noqa: E402


def sample_questions(data: Path, count: int, seed: int):
    from ragqa.cli.eval_command import load_beir, read_jsonl

    corpus, queries, qrels = load_beir(data)
    golds = {str(r["_id"]): r["answers"] for r in read_jsonl(data / "answers.jsonl") if r.get("answers")}
    ids = sorted(q for q in queries if q in golds)
    chosen = random.Random(seed).sample(ids, count)
    return corpus, [(q, queries[q], golds[q], set(qrels[q])) for q in chosen]


def docs_questions():
    """bench/docs_questions.py as (qid, question, right-answer phrases, notes that hold the answer)."""
    from bench.docs_questions import DOCS_QUESTIONS

    return [(f"docs{i}", q, answers, set(notes)) for i, (q, answers, notes, _) in enumerate(DOCS_QUESTIONS, 1)]


def build_docs_index(work: Path):
    """ragqa's own docs/ (the sample folder), ingested with the defaults; paths are the notes' names."""
    from ragqa.config import Settings
    from ragqa.ingest.pipeline import ingest_folder
    from ragqa.models.embedder import load_embedder
    from ragqa.retrieve.search import Searcher

    settings = Settings.model_validate({"notes_dir": str(REPO / "docs"), "index_dir": str(work / "docs-index")})
    embedder = load_embedder(settings.embedding)
    ingest_folder(settings, embedder)
    paths = {p.name: p.name for p in (REPO / "docs").iterdir()}
    return settings, Searcher(settings, embedder), paths


def build_index(corpus: dict, work: Path):
    from ragqa.cli.eval_command import write_corpus_as_notes
    from ragqa.config import Settings
    from ragqa.ingest.pipeline import ingest_folder
    from ragqa.models.embedder import load_embedder
    from ragqa.retrieve.search import Searcher

    settings = Settings.model_validate({"notes_dir": str(work / "notes"), "index_dir": str(work / "index")})
    note_to_doc = write_corpus_as_notes(corpus, work / "notes")
    embedder = load_embedder(settings.embedding)
    report = ingest_folder(settings, embedder)
    print(f"index: {len(corpus)} documents, {report.chunks} chunks embedded now ({report.seconds:.0f} s)",
          file=sys.stderr)
    return settings, Searcher(settings, embedder), note_to_doc


class WordsOnly:
    """The searcher seen by the focus step without its embedder: sentences scored by shared words only."""

    def __init__(self, searcher):
        self.inner = searcher

    def search(self, *args, **kwargs):
        return self.inner.search(*args, **kwargs)


def answer_one(question, settings, searcher, chat_model, variant: str):
    """The final Answer, from the events exactly as a face sees them."""
    from ragqa.answer.events import Done
    from ragqa.answer.loop import answer_events
    from ragqa.answer.prompt import SHORT_EXAMPLE, PromptStyle

    _, style_changes, words_only = VARIANTS[variant]
    if style_changes.get("example") == "SHORT_EXAMPLE":
        style_changes = {**style_changes, "example": SHORT_EXAMPLE}
    final = None
    for event in answer_events(question, searcher=WordsOnly(searcher) if words_only else searcher,
                               chat_model=chat_model, settings=settings, style=PromptStyle(**style_changes),
                               focus=focus_options(variant)):
        if isinstance(event, Done):
            final = event.answer
    return final


class Candidates:
    """One started chat model per (model, variant), kept for the whole run (answers are interleaved)."""

    def __init__(self, settings, work: Path):
        self.settings, self.work, self.models = settings, work, {}
        self.shared = settings.resolve(settings.embedding.cache_dir)

    def settings_for(self, name: str, variant: str):
        settings = self.settings.model_copy(deep=True)
        settings.llm.provider = "none" if name == "none" else "local"
        if name != "none":
            settings.llm.local_model = name
        for key, value in VARIANTS[variant][0].items():
            setattr(settings.llm, key, value)
        return settings

    def cache(self, name: str, variant: str) -> Path:
        slug = re.sub(r"[^a-z0-9]+", "-", f"{name}-{variant}".lower())
        return link_models(self.shared, self.work / "llm" / slug)

    def chat_model(self, name: str, variant: str, fresh: bool = False):
        from ragqa.models.chat import NoChatModel, make_chat_model

        if name == "none":
            return NoChatModel()
        key = (name, variant)
        if fresh or key not in self.models:
            settings = self.settings_for(name, variant)
            self.models[key] = make_chat_model(settings, cache_dir=self.cache(name, variant))
            self.models[key].complete([{"role": "user", "content": "Say hello."}], max_tokens=4)  # warm-up
        return self.models[key]

    def cpu_seconds(self, name: str, variant: str) -> float:
        """CPU time used so far by this process and by the pair's server: unlike wall time, an answer's
        share of it hardly changes when other work loads the machine."""
        total = time.process_time()
        from ragqa.models.local import server_key

        key = server_key(self.settings_for(name, variant).llm) if name != "none" else name
        state = self.cache(name, variant) / f"llm-server-{key}-ctx{self.settings.llm.context_window}.json"
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


def answer_as(name, variant, question, candidates: Candidates, searcher):
    settings = candidates.settings_for(name, variant)
    chat_model, cpu = candidates.chat_model(name, variant), candidates.cpu_seconds(name, variant)
    answer = answer_one(question, settings, searcher, chat_model, variant)
    if answer.error and name != "none":  # the server went away (a shared machine): once more
        chat_model = candidates.chat_model(name, variant, fresh=True)
        cpu = candidates.cpu_seconds(name, variant)
        answer = answer_one(question, settings, searcher, chat_model, variant)
    return answer, candidates.cpu_seconds(name, variant) - cpu


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


def run(questions, pairs, candidates, searcher, note_to_doc, log: Path) -> None:
    """Each question in turn by every pair, so a run cut short still compares them all on the same
    questions, and under the same load (the machine may be shared)."""
    done = read_log(log)
    for i, (qid, text, golds, gold_docs) in enumerate(questions, 1):
        for name, variant in pairs:
            if (name, variant, qid) in done:
                continue
            answer, cpu = answer_as(name, variant, text, candidates, searcher)
            row = {"model": name, "variant": variant, "qid": qid, "load": os.getloadavg()[0], "cpu_s": cpu,
                   **score(answer, golds, gold_docs, note_to_doc)}
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            done[name, variant, qid] = row
            ttft = f"{row['first_token']:.1f}s" if row["first_token"] is not None else "-"
            print(f"q{i} {name} {variant} first token {ttft} total {row['seconds']:.1f}s gold={row['gold_answer']} "
                  f"cites_gold={row['cites_gold']} load={row['load']:.1f}", file=sys.stderr, flush=True)


def share(rows: list[dict], key: str) -> str:
    values = [r.get(key) for r in rows if r.get(key) is not None]
    return f"{100 * sum(values) / len(values):.0f}%" if values else "—"


def median_of(rows: list[dict], key: str, digits: int = 1) -> str:
    values = [r[key] for r in rows if r.get(key) is not None]
    return f"{statistics.median(values):.{digits}f}" if values else "—"


def table(done: dict, pairs: list[tuple[str, str]], qids: list[str]) -> str:
    """The pairs side by side, on the questions every one of them has answered."""
    common = [q for q in qids if all((m, v, q) in done for m, v in pairs)]
    lines = ["| answers from | variant | gold answer | answer line | model's words | cites gold "
             "| \"not say\" with gold: model | final | gold given | first token s | prompt tokens | median s/answer "
             "| load | CPU s/answer | n |",
             "|---" * 15 + "|"]
    for name, variant in pairs:
        rows = [done[name, variant, q] for q in common]
        lines.append(
            f"| {name} | {variant if name != 'none' else '—'} | {share(rows, 'gold_answer')} "
            f"| {share(rows, 'answer_line_gold')} "
            f"| {share(rows, 'model_gold')} | {share(rows, 'cites_gold')} | {share(rows, 'refused_with_gold')} "
            f"| {share(rows, 'final_refusal_with_gold')} | {share(rows, 'gold_retrieved')} "
            f"| {median_of(rows, 'first_token')} | {median_of(rows, 'prompt_tokens', 0)} "
            f"| {median_of(rows, 'seconds')} "
            f"| {median_of(rows, 'load')} | {median_of(rows, 'cpu_s')} | {len(rows)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="squad", choices=["squad", "docs"],
                        help="squad: SQuAD questions from --data; docs: questions on ragqa's own docs/")
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--models", nargs="+", default=CANDIDATES, metavar="MODEL",
                        help="none, a bundled name, a .gguf path or hf:OWNER/REPO/FILE.gguf (llm.local_model)")
    parser.add_argument("--variants", nargs="+", default=["shipped"], choices=list(VARIANTS))
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--table", action="store_true", help="only print the table from the answers so far")
    parser.add_argument("--work", default="~/.cache/ragqa/bench/squad-dev", help="index and answer log live here")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so atexit stops the servers started here

    from bench.machine import machine_line

    work = Path(os.path.expanduser(args.work))
    pairs = combos(args.models, args.variants)
    if args.set == "docs":
        questions, log = docs_questions(), work / "answers-docs.jsonl"
        what = f"{len(questions)} questions on ragqa's docs/"
    else:
        corpus, questions = sample_questions(Path(args.data), args.questions, args.seed)
        log = work / f"answers-seed{args.seed}-n{args.questions}.jsonl"
        what = f"{args.questions} questions of {Path(args.data).name} (seed {args.seed})"
    if not args.table:
        settings, searcher, note_to_doc = build_docs_index(work) if args.set == "docs" else build_index(corpus, work)
        run(questions, pairs, Candidates(settings, work), searcher, note_to_doc, log)
    done, golds = read_log(log), {q[0]: q[2] for q in questions}
    for (_, _, qid), row in done.items():  # scored again with today's gold phrases (docs: they were widened)
        if qid in golds:
            row["gold_answer"] = contains_gold(row["text"], golds[qid])
            row["answer_line_gold"] = contains_gold(answer_line(row["text"]), golds[qid])
            row["model_gold"] = contains_gold(row["raw"], golds[qid]) if row.get("model_gold") is not None else None
    print(f"{machine_line()}; {what}\n")
    print(table(done, pairs, [q[0] for q in questions]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
