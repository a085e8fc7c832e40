"""Time to first token and generation speed of the local models, on a ~576-token RAG prompt.

    python bench/llm_speed.py [--models smollm2-135m qwen2.5-coder-1.5b] [--runs 2] [--max-tokens 128]

Each model gets its own llama.cpp server (started through ragqa.local_llm, as the app does),
one warm-up request, then --runs timed requests whose prompts differ in their first words so
the server's prompt cache cannot skip the prompt. Models that are not installed are skipped.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ragqa.config import LLMSettings
from ragqa.errors import LLMError
from ragqa.llm import make_chat_model
from ragqa.local_llm import LOCAL_MODELS, installed_parts, stop_local_server

NOTE = (
    "[{n}] notes/project-{n}.md — Meeting notes\n"
    "The team met on Tuesday to review the migration of the billing service to the new cluster. "
    "Latency rose by twelve percent after the switch, mostly in the invoice export job, which now "
    "reads from a replica in another zone. Ana will move the job next to the primary database and "
    "report back on Friday. The budget for the quarter stays as planned; the remaining risk is the "
    "certificate rotation, due on the first of next month.\n"
)
SYSTEM = ("Answer the question using only the numbered notes below. Cite the notes you use as [n]. "
          "If the notes do not contain the answer, say so.")


def messages(run: int, notes: int = 5) -> list[dict]:
    context = "\n".join(NOTE.format(n=i) for i in range(1, notes + 1))
    question = "Summarise, note by note, what was decided and who does what next."
    return [{"role": "system", "content": f"Session {run}. {SYSTEM}\n\n{context}"},  # run first: no prefix cache
            {"role": "user", "content": question}]


def prompt_tokens(base_url: str, msgs: list[dict]) -> int | None:
    """Token count of the prompt text as the server's tokenizer sees it (chat template excluded)."""
    text = "\n".join(m["content"] for m in msgs)
    request = urllib.request.Request(
        base_url.removesuffix("/v1") + "/extras/tokenize/count",
        data=json.dumps({"input": text}).encode(), headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return json.load(reply)["count"]
    except (OSError, ValueError, KeyError):
        return None


def time_one(chat_model, msgs: list[dict]) -> tuple[float, float, int]:
    """(seconds to first token, tokens per second after it, tokens generated)."""
    started = time.perf_counter()
    first = None
    pieces = 0
    for _ in chat_model.stream(msgs):
        pieces += 1  # llama-cpp-python streams one token per chunk
        if first is None:
            first = time.perf_counter()
    ended = time.perf_counter()
    if first is None:
        return ended - started, 0.0, 0
    rate = (pieces - 1) / (ended - first) if pieces > 1 and ended > first else 0.0
    return first - started, rate, pieces


def bench(name: str, runs: int, max_tokens: int) -> dict:
    settings = LLMSettings(provider="local", local_model=name, context_window=4096, temperature=0.0,
                           max_answer_tokens=max_tokens, timeout_seconds=300, max_retries=0)
    started = time.perf_counter()
    chat_model = make_chat_model(settings)
    ready = time.perf_counter() - started
    try:
        chat_model.complete([{"role": "user", "content": "Say hello."}], max_tokens=8)  # warm-up
        results = [time_one(chat_model, messages(run)) for run in range(1, runs + 1)]
        tokens = prompt_tokens(chat_model.base_url, messages(1))
    finally:
        stop_local_server(settings)
    return {
        "model": name,
        "prompt_tokens": tokens,
        "start_s": ready,
        "ttft_s": statistics.median(r[0] for r in results),
        "tok_s": statistics.median(r[1] for r in results),
        "gen_tokens": statistics.median(r[2] for r in results),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(LOCAL_MODELS))
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args(argv)

    rows = []
    for name in args.models:
        try:
            installed_parts(LOCAL_MODELS[name])
            rows.append(bench(name, args.runs, args.max_tokens))
        except LLMError as err:
            print(f"skipped {name}: {err}", file=sys.stderr)
    print(f"{'model':<22}{'prompt_tok':>11}{'start_s':>9}{'ttft_s':>8}{'tok_s':>8}{'gen_tok':>9}")
    for r in rows:
        print(f"{r['model']:<22}{r['prompt_tokens'] or '?':>11}{r['start_s']:>9.1f}{r['ttft_s']:>8.2f}"
              f"{r['tok_s']:>8.1f}{r['gen_tokens']:>9.0f}")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
