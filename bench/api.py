"""How fast `ragqa serve` answers: /v1/search under 1, 4 and 16 concurrent clients, and the time to the first
streamed word of a chat answer.

    python bench/api.py [--model smollm2-135m] [--requests 48] [--chats 4]

Ingests ragqa's own docs/ (the sample folder) with the default settings (multilingual E5-small) into a
temporary index, starts a real `ragqa serve` on a free port and drives it over plain HTTP. Search: each client
sends the questions of bench/docs_questions.py one after another (hybrid search, top 5), after four warm-up
searches (the first loads the embedding model); requests/s is all requests over the wall time. Chat: one streamed
`POST /v1/chat/completions` at a time; the first one also starts the local LLM server (reported apart).
Prints a Markdown table with the machine and its load.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import yaml

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as bench/query.py: the server's idle threads sleep, not spin
REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]

from bench.docs_questions import DOCS_QUESTIONS  # noqa: E402
from bench.machine import load_average, machine_line  # noqa: E402

QUESTIONS = [entry[0] for entry in DOCS_QUESTIONS]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url: str, body: dict, timeout: float = 600):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(request, timeout=timeout)


def start_server(work: Path, model: str) -> tuple[subprocess.Popen, str]:
    config = work / "config.yaml"
    config.write_text(yaml.safe_dump({"notes_dir": str(REPO / "docs"), "index_dir": str(work / "index"),
                                      "llm": {"provider": "local", "local_model": model}}))
    env = {**os.environ, "RAGQA_CONFIG": str(config), "HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, "-m", "ragqa", "ingest"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "ragqa", "serve", "--port", str(port)], env=env, cwd=work,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/v1/models", timeout=2).read()
            return server, url
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("ragqa serve did not start") from None
            time.sleep(0.3)


def search_round(url: str, clients: int, requests: int) -> dict:
    """`requests` searches spread over `clients` threads: requests/s, p50 and p95 in ms."""
    latencies: list[float] = []
    failures = []

    def client(n: int) -> None:
        for i in range(n, requests, clients):
            started = time.perf_counter()
            try:
                with post(f"{url}/v1/search", {"query": QUESTIONS[i % len(QUESTIONS)], "k": 5}) as reply:
                    reply.read()
            except OSError as err:
                failures.append(err)
                continue
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=20)
    return {"clients": clients, "rps": len(latencies) / wall, "p50": statistics.median(latencies),
            "p95": cuts[18], "failed": len(failures), "load": load_average()}


def first_token_seconds(url: str, question: str) -> tuple[float, float]:
    """(seconds to the first streamed word, seconds to the whole answer) of one streamed chat answer."""
    started = time.perf_counter()
    first = None
    with post(f"{url}/v1/chat/completions", {"model": "ragqa", "stream": True,
                                              "messages": [{"role": "user", "content": question}]}) as reply:
        for line in reply:
            line = line.decode().strip()
            if first is None and line.startswith("data: {"):
                delta = json.loads(line[6:])["choices"][0]["delta"]
                if delta.get("content"):
                    first = time.perf_counter() - started
    return first or float("nan"), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2-135m", help="llm.local_model (default smollm2-135m)")
    parser.add_argument("--requests", type=int, default=48, help="searches per concurrency level")
    parser.add_argument("--chats", type=int, default=4, help="streamed chat answers (the first also starts the LLM)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ragqa-bench-api-") as tmp:
        server, url = start_server(Path(tmp), args.model)
        try:
            for question in QUESTIONS[:4]:  # loads the embedding model, then warms its first queries
                with post(f"{url}/v1/search", {"query": question}) as reply:
                    reply.read()
            rounds = [search_round(url, clients, args.requests) for clients in (1, 4, 16)]
            chats = [first_token_seconds(url, QUESTIONS[i % len(QUESTIONS)]) for i in range(args.chats)]
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
    print(f"machine: {machine_line()}")
    print(f"index: ragqa's docs/ with multilingual-e5-small; chat: {args.model} (local)\n")
    print("| /v1/search, hybrid, top 5 | requests/s | p50 ms | p95 ms | failed | load |")
    print("|---|---|---|---|---|---|")
    for r in rounds:
        print(f"| {r['clients']} client{'s' if r['clients'] > 1 else ''} | {r['rps']:.1f} | {r['p50']:.0f} | "
              f"{r['p95']:.0f} | {r['failed']} | {r['load']:.1f} |")
    warm = chats[1:] or chats
    print(f"\n| streamed chat ({args.model}) | first token s | whole answer s |")
    print("|---|---|---|")
    print(f"| first question (starts the LLM server) | {chats[0][0]:.2f} | {chats[0][1]:.2f} |")
    print(f"| next {len(warm)}, median | {statistics.median(c[0] for c in warm):.2f} | "
          f"{statistics.median(c[1] for c in warm):.2f} |")


if __name__ == "__main__":
    main()
