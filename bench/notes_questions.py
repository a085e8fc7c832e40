"""Questions about the notes themselves (tags, months, backlinks, counts) over the real vault: a row per kind.

    python bench/notes_questions.py [--questions ../shared/data/notes-qa/dev.jsonl] [--index DIR] [--model]
    python bench/notes_questions.py --topics        # the topic threshold (answer.topic_threshold), measured
    python bench/notes_questions.py --plain         # the planner leaves ordinary questions alone

Scoring, as ../shared/data/notes-qa/README.md defines it: a list question is right when every gold note is named
(its title in the answer, or cited) and at least 80% of the cited notes are gold; a count question is right when
the gold number is in the answer (here: as a number of its own, not inside a date). Each question is answered in
process through ragqa.answer.loop.answer_events, as `ragqa ask` does, with a chat model that counts its calls
(none is expected); --model uses the configured local model instead (`llm.provider: local`).
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data"
VAULT = DATA / "notes-lesleylai-digital-garden"


def open_vault(index: Path | None):
    """Settings and a Searcher over the vault's index (ingested first if `index` holds none)."""
    from ragqa.config import Settings
    from ragqa.ingest.pipeline import ingest_folder
    from ragqa.models.lazy_embedder import LazyEmbedder
    from ragqa.retrieve.search import Searcher

    index = index or Path(tempfile.mkdtemp(prefix="ragqa-vault-"))
    settings = Settings.model_validate({"notes_dir": str(VAULT), "index_dir": str(index)})
    embedder = LazyEmbedder(settings.embedding)
    report = ingest_folder(settings, embedder)
    print(f"index {index}: {report.summary()['added']} added, {len(report.unchanged)} unchanged "
          f"({report.seconds:.0f} s)", file=sys.stderr)
    return settings, Searcher(settings, embedder)


class CountingModel:
    """No language model, counting any call (a list, count or links answer must need none)."""

    generates, name, last_usage, calls = False, "retrieval only", None, 0

    def stream(self, messages, max_tokens=None):
        CountingModel.calls += 1
        raise RuntimeError("the notes path called the model")

    complete = stream


def is_right(question: dict, answer: dict) -> bool:
    """The notes-qa scoring (its README)."""
    gold = question["gold"]
    if isinstance(gold, int):  # the number as a number, not part of "2024-03-13"
        return re.search(rf"(?<![\d\-]){gold}(?![\d\-])", answer["answer"]) is not None
    cited = [c["path"] for c in answer["citations"]]
    titles = {c["path"]: c.get("title") or Path(c["path"]).stem for c in answer["sources"]}
    named = all(p in cited or Path(p).stem.lower() in answer["answer"].lower()
                or (titles.get(p) or "~").lower() in answer["answer"].lower() for p in gold)
    precise = not cited or sum(p in gold for p in cited) / len(cited) >= 0.8
    return named and precise


def contract_gold(question: dict) -> list[str] | int | None:
    """A tag question's gold by issue 23's rules, read from the vault's files here: front matter tags AND inline
    `#tags` (outside code), a nested tag counting under its parents in every kind of question. The dev file's
    golds read front matter tags only, and its tag_year golds count only the exact tag (3 of 6 differ).
    None for the other kinds (their golds need no such rule)."""
    import ast

    from ragqa.ingest.frontmatter import split_front_matter
    from ragqa.ingest.note_refs import inline_tags

    if question["kind"] not in ("tag_list", "tag_count", "tag_year"):
        return None
    tag, year = ast.literal_eval(question["key"]) if question["kind"] == "tag_year" else (question["key"], "")
    tag, found = tag.lower(), []
    for path in sorted(VAULT.rglob("*.md")):
        meta, body, _ = split_front_matter(path.read_text(encoding="utf-8"))
        tags = [t.lower() for t in [*(meta.get("tags") or []), *inline_tags(body)]]
        if str(meta.get("created", "")).startswith(year) and any(t == tag or t.startswith(tag + "/") for t in tags):
            found.append(path.relative_to(VAULT).as_posix())
    return len(found) if question["kind"] == "tag_count" else found


def run(questions: list[dict], settings, searcher, chat_model) -> list[dict]:
    from ragqa.answer.loop import answer_question

    rows = []
    for q in questions:
        started = time.perf_counter()
        answer = answer_question(q["question"], searcher=searcher, chat_model=chat_model, settings=settings)
        seconds = time.perf_counter() - started
        data = answer.as_json()
        rows.append({"kind": q["kind"], "right": is_right(q, data), "seconds": seconds, "plan": data["plan"],
                     "question": q["question"], "cited": len(data["citations"])})
        gold = contract_gold(q)
        rows[-1]["right_by_contract"] = rows[-1]["right"] if gold is None else is_right({**q, "gold": gold}, data)
    return rows


def table(rows: list[dict]) -> str:
    from bench.machine import machine_line

    lines = [f"machine: {machine_line()}", "",
             "| kind | right | median s | max s | model calls |", "|---|---|---|---|---|"]
    kinds = list(dict.fromkeys(r["kind"] for r in rows))
    for kind in [*kinds, "all"]:
        mine = [r for r in rows if kind in ("all", r["kind"])]
        right = sum(r["right"] for r in mine)
        secs = [r["seconds"] for r in mine]
        calls = CountingModel.calls if kind == "all" else ""
        lines.append(f"| {kind} | {right}/{len(mine)} ({100 * right / len(mine):.0f}%) | "
                     f"{statistics.median(secs):.2f} | {max(secs):.2f} | {calls} |")
    return "\n".join(lines)


def topic_cases(settings, min_notes: int = 3, max_notes: int = 40) -> list[tuple[str, str, list[str], set[str]]]:
    """(topic, year, the year's notes, gold): a tag's last part as a topic ("convolution"), asked of one year's
    notes; gold: that year's notes with the tag (nested). A proxy: an untagged note about the topic counts
    against precision, so the F1 it gives is a floor, and the best threshold is what matters."""
    import re as _re

    from ragqa.index.catalog import read_catalog

    cases = []
    with read_catalog(settings.index_path) as catalog:
        vocab = catalog.vocabulary()
        for key, (written, notes) in sorted(vocab.tags.items()):
            leaf = written.rsplit("/", 1)[-1]
            topic = _re.sub(r"(?<=[a-z])(?=[A-Z])|[_\-]+", " ", leaf).lower()
            if not min_notes <= notes <= max_notes or len(topic) < 4 or topic in ("stub", "moc", "opinion"):
                continue
            for year in ("2023", "2024"):
                days = (f"{year}-01-01", f"{year}-12-31")
                pool = [r.path for r in catalog.notes(created=days)]
                gold = {r.path for r in catalog.notes(tags=[key], created=days)}
                if len(gold) >= 2:
                    cases.append((topic, year, pool, gold))
    return cases


def topic_thresholds(settings, searcher) -> None:
    """The similarity above which a note counts as about a list's topic (answer.topic_threshold): mean F1 of the
    kept notes against the tag's notes, over every threshold, in one run."""
    from ragqa.answer.notes_answer import topic_evidence

    cases = topic_cases(settings)
    evidence = [(gold, topic_evidence(topic, pool, searcher)) for topic, _, pool, gold in cases]
    print(f"{len(cases)} topics (a tag's last part, within one year's notes)\n")
    print("| threshold | precision | recall | F1 | words only F1 |\n|---|---|---|---|---|")
    for threshold in [x / 100 for x in range(76, 92)]:
        scores, words_only = [], []
        for gold, (_, similarity, every_word) in evidence:
            for kept, into in (({p for p, v in similarity.items() if v >= threshold} | every_word, scores),
                               (every_word, words_only)):
                right = len(kept & gold)
                precision, recall = right / max(len(kept), 1), right / len(gold)
                into.append((precision, recall, 2 * precision * recall / max(precision + recall, 1e-9)))
        mean = [statistics.mean(x[i] for x in scores) for i in range(3)]
        print(f"| {threshold:.2f} | {mean[0]:.2f} | {mean[1]:.2f} | {mean[2]:.3f} | "
              f"{statistics.mean(x[2] for x in words_only):.3f} |")


def plain_questions() -> None:
    """How many ordinary questions (SQuAD, SciFact, ragqa's docs) the planner would change: none is the goal."""
    import datetime as dt

    from bench.docs_questions import DOCS_QUESTIONS
    from ragqa.index.catalog import read_catalog
    from ragqa.plan import plan_question

    args = [a for a in sys.argv if a.startswith("--index=")]
    vocab = None
    if args:
        with read_catalog(Path(args[0].split("=", 1)[1])) as catalog:
            vocab = catalog.vocabulary()
    from ragqa.index.catalog import Vocabulary

    vocab = vocab or Vocabulary()
    sets = {"squad-dev": [json.loads(line)["text"] for line in open(DATA / "squad-dev" / "queries.jsonl")],
            "scifact": [json.loads(line)["text"] for line in open(DATA / "scifact" / "queries.jsonl")],
            "docs": [q for q, *_ in DOCS_QUESTIONS]}
    print("| set | questions | planned as other than an ordinary lookup |\n|---|---|---|")
    for name, questions in sets.items():
        changed = [(q, p) for q in questions if not (p := plan_question(q, vocab, dt.date(2026, 12, 5))).is_plain]
        print(f"| {name} | {len(questions)} | {len(changed)} |")
        for q, p in changed[:10]:
            print(f"|  | {q} | {p.as_json()} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, default=DATA / "notes-qa" / "dev.jsonl")
    parser.add_argument("--index", type=Path, help="the vault's index (made there if empty; default: a temp folder)")
    parser.add_argument("--model", action="store_true", help="answer with the configured local model")
    parser.add_argument("--plain", action="store_true", help="check the planner leaves ordinary questions alone")
    parser.add_argument("--show", action="store_true", help="print each question, its plan and whether it was right")
    parser.add_argument("--topics", action="store_true", help="measure answer.topic_threshold")
    args = parser.parse_args()
    if args.plain:
        plain_questions()
        return
    settings, searcher = open_vault(args.index)
    if args.topics:
        from bench.machine import machine_line

        print(f"machine: {machine_line()}")
        topic_thresholds(settings, searcher)
        return
    questions = [json.loads(line) for line in open(args.questions)]
    chat_model = CountingModel()
    if args.model:
        from ragqa.models.chat import make_chat_model

        chat_model = make_chat_model(settings)
    rows = run(questions, settings, searcher, chat_model)
    if args.show:
        for r in rows:
            print(f"{'RIGHT' if r['right'] else 'WRONG'} {r['seconds']:.2f}s {r['question']}  {r['plan']}")
    print(f"{len(questions)} questions from {args.questions}")
    print(table(rows))
    print("\nAgainst golds re-derived by issue 23's rules (nested tags everywhere, inline #tags count):")
    for kind in dict.fromkeys(r["kind"] for r in rows):
        mine = [r for r in rows if r["kind"] == kind]
        print(f"  {kind}: {sum(r['right_by_contract'] for r in mine)}/{len(mine)}")


if __name__ == "__main__":
    main()
