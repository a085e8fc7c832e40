"""What a user waits for in the browser: sources, then first words, then the whole answer.

    python bench/app_latency.py [--questions 8] [--model qwen2.5-coder-1.5b] [--follow-ups]

Runs `ragqa app` over ragqa's own docs/ (the sample folder of `make run`; ingested first with the
defaults into a temporary index) and drives it with a real headless Chromium (Debian's chromium,
through Playwright). For each question of bench/docs_questions.py, in a new chat, the clock starts
when Enter is pressed and stops when the page shows: the retrieved sources; the first words of the
answer; the finished answer (its timing line). With --follow-ups each question's follow-up is asked
in the same chat afterwards (the first question's watcher is disconnected first: left running, it
stamped every follow-up at 0.0 s with the first answer's finished text). Prints medians, with the
machine and its load.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]

from bench.docs_questions import DOCS_QUESTIONS  # noqa: E402
from bench.machine import machine_line  # noqa: E402

# Set in the page: the time from Enter to the first sign of each stage in the newest answer.
WATCH = """([question, position]) => {
  // The last question's watcher would stamp this one with its own finished answer: it goes first.
  if (window.__watch) window.__watch.disconnect();
  window.__t = {start: performance.now()};
  const stamp = (what) => { if (!(what in window.__t)) window.__t[what] = performance.now() - window.__t.start; };
  // The answer is the message after the one that asks this question: the chat's message number
  // `position` (0: the first answer of a new chat is message 1). Streamlit keeps the last run's
  // elements on the page (marked data-stale) until it redraws them, so only fresh ones count.
  const answer = () => {
    const messages = [...document.querySelectorAll('[data-testid="stChatMessage"]')];
    const asked = messages[2 * position];
    return asked && asked.innerText.includes(question) ? messages[2 * position + 1] : null;
  };
  window.__watch = new MutationObserver(() => {
    const message = answer();
    if (!message) return;
    const text = [...message.querySelectorAll('[data-testid="stElementContainer"]:not([data-stale="true"])')]
      .map((e) => e.innerText).join("\\n");
    if (/\\[1\\] \\S/.test(text)) stamp('sources');
    if (/Writing…|first words after/.test(text)) stamp('words');
    if (/s in all/.test(text)) stamp('done');
  });
  window.__watch.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(work: Path, model: str) -> tuple[subprocess.Popen, str]:
    config = work / "config.yaml"
    config.write_text(yaml.safe_dump({"notes_dir": str(REPO / "docs"), "index_dir": str(work / "index"),
                                      "llm": {"local_model": model}}))
    env = {**os.environ, "RAGQA_CONFIG": str(config), "HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, "-m", "ragqa", "ingest"], env=env, check=True, capture_output=True)
    port = free_port()
    app = subprocess.Popen([sys.executable, "-m", "ragqa", "app", "--port", str(port)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return app, f"http://127.0.0.1:{port}"


def ask(page, question: str, position: int = 0) -> dict:
    """Times one question; `position`: how many were asked before it in this chat."""
    box = page.get_by_placeholder("Ask a question about your notes")
    box.fill(question)
    page.evaluate(WATCH, [question, position])
    box.press("Enter")
    page.wait_for_function("() => 'done' in window.__t", timeout=600_000)
    times = page.evaluate("window.__t")
    page.wait_for_timeout(2000)  # the page redraws once more with the finished answer
    return {k: times.get(k, float("nan")) / 1000 for k in ("sources", "words", "done")} | {"load": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=len(DOCS_QUESTIONS))
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--follow-ups", action="store_true")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="ragqa-app-latency-"))
    app, url = start_app(work, args.model)
    rows: dict[str, list[dict]] = {"first question": [], "follow-up": []}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                         args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.set_default_timeout(300_000)
            deadline = time.monotonic() + 120
            while True:
                try:
                    page.goto(url)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(1)
            page.get_by_test_id("stSidebar").get_by_text("reachable").wait_for()
            time.sleep(10)  # the app reads the prompts' fixed start in the background; let it finish
            for question, _, _, follow in DOCS_QUESTIONS[: args.questions]:
                page.get_by_role("button", name="New chat").click()
                page.wait_for_timeout(500)
                first = ask(page, question)
                rows["first question"].append(first)
                line = f"{question!r}: sources {first['sources']:.1f} s, words {first['words']:.1f} s"
                if args.follow_ups:
                    second = ask(page, follow, position=1)
                    rows["follow-up"].append(second)
                    line += f"; follow-up: sources {second['sources']:.1f} s, words {second['words']:.1f} s"
                print(line, file=sys.stderr, flush=True)
            browser.close()
    finally:
        os.killpg(app.pid, signal.SIGTERM)
        app.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)

    def med(values, key):
        got = [v[key] for v in values if v[key] == v[key]]
        return f"{statistics.median(got):.1f}" if got else "—"

    print(f"\n{machine_line()}; ragqa app over docs/, {args.model}\n")
    print("| question | sources shown s | first words s | answer done s | load | n |")
    print("|---|---|---|---|---|---|")
    for kind, values in rows.items():
        if values:
            print(f"| {kind} | {med(values, 'sources')} | {med(values, 'words')} | {med(values, 'done')} "
                  f"| {med(values, 'load')} | {len(values)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
