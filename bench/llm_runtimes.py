"""A/B of llama.cpp runtimes on the same GGUF: prompt reading, generation, and the prompt cache.

    python bench/llm_runtimes.py [--model qwen2.5-coder-1.5b] [--runs 5] [--runtimes xllamacpp llama-cpp-python]

Each runtime's server runs as its own child process on 127.0.0.1 with 2 threads, both at once.
Requests go to them in turn (A, B, A, B, ...), so both see the same load on a shared machine; the
table gives medians and the ratio. Per run:

- cold: a ~560-token RAG prompt whose first words differ per run, so no cache can help;
- follow-up: the same conversation one turn later (its answer, then a new question), so a server
  that keeps the prompt cached reads only the new tokens.

Prompt and generation rates are the servers' own timings where they report them (xllamacpp does),
otherwise derived from the client's clock.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]

import openai  # noqa: E402

from bench.machine import machine_line  # noqa: E402
from ragqa.models.local import LOCAL_MODELS, model_file  # noqa: E402

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def command(runtime: str, gguf: Path, port: int) -> list[str]:
    if runtime == "xllamacpp":
        return [sys.executable, "-m", "ragqa.models.llama_server", "--model", str(gguf), "--alias", "m",
                "--port", str(port), "--ctx", "4096", "--threads", "2"]
    return [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", "m",
            "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2",
            "--n_threads_batch", "2", "--logits_all", "false"]


def start(runtime: str, gguf: Path) -> tuple[subprocess.Popen, openai.OpenAI]:
    port = free_port()
    env = {"OMP_WAIT_POLICY": "PASSIVE", **os.environ}
    child = subprocess.Popen(command(runtime, gguf, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=env, cwd=REPO)
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x", max_retries=0, timeout=600)
    deadline = time.monotonic() + 120
    while True:
        try:
            client.models.list()
            return child, client
        except openai.OpenAIError:
            if child.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{runtime} did not start") from None
            time.sleep(0.3)


def first_turn(run: int) -> list[dict]:
    notes = "\n".join(NOTE.format(n=i) for i in range(1, 6))
    return [{"role": "system", "content": f"Session {run}. {SYSTEM}"},
            {"role": "user", "content": f"<notes>\n{notes}</notes>\n\nQuestion: What did the team decide?"}]


def timed(client: openai.OpenAI, messages: list[dict], max_tokens: int) -> dict:
    started = time.perf_counter()
    first, pieces, text = None, 0, []
    stream = client.chat.completions.create(model="m", messages=messages, max_tokens=max_tokens, temperature=0,
                                            stream=True)
    for chunk in stream:
        delta = chunk.choices[0].delta.content if chunk.choices else None
        if delta:
            pieces += 1
            text.append(delta)
            first = first or time.perf_counter()
    ended = time.perf_counter()
    first = first or ended
    return {"ttft": first - started, "tok_s": (pieces - 1) / (ended - first) if pieces > 1 else 0.0,
            "text": "".join(text), "load": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b", choices=list(LOCAL_MODELS))
    parser.add_argument("--runtimes", nargs="+", default=["xllamacpp", "llama-cpp-python"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=48)
    args = parser.parse_args(argv)

    gguf = model_file(LOCAL_MODELS[args.model])
    print(f"machine: {machine_line()}; model {args.model}", file=sys.stderr)
    servers = {name: start(name, gguf) for name in args.runtimes}
    results: dict[str, dict[str, list]] = {name: {"cold": [], "follow": []} for name in args.runtimes}
    try:
        for _, client in servers.values():  # warm-up: load pages, first allocation
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi"}], max_tokens=2)
        for run in range(1, args.runs + 1):
            for name, (_, client) in servers.items():
                messages = first_turn(run)
                cold = timed(client, messages, args.max_tokens)
                follow = timed(client, [*messages, {"role": "assistant", "content": cold["text"]},
                                        {"role": "user", "content": "And who reports back, when?"}],
                               args.max_tokens)
                results[name]["cold"].append(cold)
                results[name]["follow"].append(follow)
                print(f"run {run} {name}: cold ttft {cold['ttft']:.2f} s, {cold['tok_s']:.1f} tok/s; "
                      f"follow-up ttft {follow['ttft']:.2f} s (load {cold['load']:.1f})", file=sys.stderr, flush=True)
    finally:
        for child, _ in servers.values():
            child.terminate()
            child.wait(timeout=30)

    def med(rows, key):
        return statistics.median(r[key] for r in rows)

    print(f"\n{machine_line()}\n")
    print("| runtime | first question: time to first token s | tokens/s after it | follow-up: time to first token s "
          "| median load |")
    print("|---|---|---|---|---|")
    for name in args.runtimes:
        r = results[name]
        print(f"| {name} | {med(r['cold'], 'ttft'):.2f} | {med(r['cold'], 'tok_s'):.1f} "
              f"| {med(r['follow'], 'ttft'):.2f} | {med(r['cold'], 'load'):.1f} |")
    if len(args.runtimes) == 2:
        a, b = (results[n] for n in args.runtimes)
        print(f"\nratio {args.runtimes[1]} / {args.runtimes[0]}: first token "
              f"{med(b['cold'], 'ttft') / med(a['cold'], 'ttft'):.2f}x, follow-up "
              f"{med(b['follow'], 'ttft') / med(a['follow'], 'ttft'):.2f}x, generation "
              f"{med(a['cold'], 'tok_s') / max(med(b['cold'], 'tok_s'), 1e-9):.2f}x slower")
    return 0


if __name__ == "__main__":
    sys.exit(main())
