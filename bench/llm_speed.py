"""Time to the first words of a real answer, as `ragqa ask` and the app produce it, first question and follow-up.

    python bench/llm_speed.py [--models qwen2.5-coder-1.5b] [--passage-tokens auto] [--runs 1]

ragqa's own docs/ (the sample folder of `make run`) is ingested with the default settings into a
temporary index, the local model's server is started as the app starts it, and the fixed start of every
prompt is read once (ragqa.answer.loop.warm_up, as the app and `ragqa chat` do at start). Then, for each
question below: the question as the first of a conversation, and one follow-up in the same
conversation. Each answer goes through ragqa.answer.loop.answer_events exactly as in the faces (search,
focus, prompt, the model, the checks). Printed per model: medians of the time to the first token
(from the question to the model's first words, search included), of the prompt tokens the server
really read (the rest it had cached), and of the generation rate.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]

from bench.machine import machine_line  # noqa: E402

# (first question, follow-up): questions a newcomer asks of the sample folder, ragqa's own docs
CONVERSATIONS = [
    ("How does ragqa keep the index safe if ingest is killed?", "Why is that safe?"),
    ("Does ragqa need the internet?", "And the language model?"),
    ("Can two ingests run at once?", "What does the second one do?"),
    ("Why is my PDF skipped?", "What about encrypted ones?"),
    ("Who can reach the chat?", "How do I open it to other machines?"),
]


def ingest_docs(work: Path):
    from ragqa.config import Settings
    from ragqa.ingest.pipeline import ingest_folder
    from ragqa.models.embedder import load_embedder
    from ragqa.retrieve.search import Searcher

    settings = Settings.model_validate({"notes_dir": str(REPO / "docs"), "index_dir": str(work / "index")})
    embedder = load_embedder(settings.embedding)
    ingest_folder(settings, embedder)
    return settings, Searcher(settings, embedder)


def one_answer(question, history, settings, searcher, chat_model) -> tuple[object, dict]:
    from ragqa.answer.events import Delta, Done
    from ragqa.answer.loop import answer_events

    started, first = time.perf_counter(), None
    final = None
    for event in answer_events(question, searcher=searcher, chat_model=chat_model, settings=settings,
                               history=history):
        if isinstance(event, Delta) and first is None:
            first = time.perf_counter() - started
        elif isinstance(event, Done):
            final = event.answer
    usage = dict(chat_model.last_usage or {})
    generated = usage.get("completion_tokens") or 0
    after_first = final.seconds - (final.first_token_seconds or final.seconds)
    return final, {"ttft": final.first_token_seconds, "read": usage.get("prompt_tokens_read"),
                   "cached": usage.get("cached_tokens"), "continued": False,
                   "tok_s": (generated - 1) / after_first if generated > 1 and after_first > 0 else None,
                   "load": os.getloadavg()[0]}


def bench(model: str, passage_tokens, runs: int, work: Path) -> dict:
    from bench.answer_quality import link_models
    from ragqa.answer.conversation import ChatMessage
    from ragqa.answer.loop import warm_up
    from ragqa.models.chat import make_chat_model
    from ragqa.models.local import stop_local_server

    settings, searcher = ingest_docs(work)
    settings.llm.local_model = model
    settings.llm.passage_tokens = passage_tokens
    cache = link_models(settings.resolve(settings.embedding.cache_dir), work / "llm")
    started = time.perf_counter()
    chat_model = make_chat_model(settings, cache_dir=cache)
    start_s = time.perf_counter() - started
    started = time.perf_counter()
    warm_up(chat_model)
    warm_s = time.perf_counter() - started
    rows = {"first": [], "follow-up": []}
    try:
        for _ in range(runs):
            for question, follow in CONVERSATIONS:
                answer, first = one_answer(question, [], settings, searcher, chat_model)
                rows["first"].append(first)
                history = [ChatMessage.user(question), answer.as_message()]
                second, row = one_answer(follow, history, settings, searcher, chat_model)
                row["continued"] = second.continued
                rows["follow-up"].append(row)
                print(f"{model}: {question!r} first words after {first['ttft']:.1f} s (read {first['read']}); "
                      f"follow-up {row['ttft']:.1f} s (read {row['read']}, continued {row['continued']}); "
                      f"answer: {answer.text[:80]!r}", file=sys.stderr, flush=True)
    finally:
        stop_local_server(settings.llm, cache)
    return {"model": model, "start_s": start_s, "warm_s": warm_s, **rows}


def median(rows: list[dict], key: str) -> str:
    values = [r[key] for r in rows if r.get(key) is not None]
    return f"{statistics.median(values):.1f}" if values else "—"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-1.5b"])
    parser.add_argument("--passage-tokens", default="auto", help="llm.passage_tokens: auto, a number, or none")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so atexit stops the server started here
    passage_tokens = None if args.passage_tokens == "none" else (
        args.passage_tokens if args.passage_tokens == "auto" else int(args.passage_tokens))

    results = []
    for model in args.models:
        work = Path(tempfile.mkdtemp(prefix="ragqa-llm-speed-"))
        try:
            results.append(bench(model, passage_tokens, args.runs, work))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n{machine_line()}; llm.passage_tokens: {args.passage_tokens}\n")
    print("| model | server start s | warm-up s | question | first token s | prompt tokens read | "
          "tokens/s after it | continued | load | n |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        for kind in ("first", "follow-up"):
            rows = r[kind]
            continued = f"{sum(x['continued'] for x in rows)}/{len(rows)}" if kind == "follow-up" else "—"
            print(f"| {r['model']} | {r['start_s']:.1f} | {r['warm_s']:.1f} | {kind} | {median(rows, 'ttft')} "
                  f"| {median(rows, 'read')} | {median(rows, 'tok_s')} | {continued} | {median(rows, 'load')} "
                  f"| {len(rows)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
