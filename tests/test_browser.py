"""The browser chat end to end: `python -m ragqa app` in a subprocess, driven by a real headless Chromium.

Debian's Chromium (/usr/bin/chromium; `make browser` installs it) through PyPI Playwright;
the answer comes from the real local llama.cpp server (SmolLM2-135M), so it really streams.
Screenshots land in test-artifacts/ (gitignored).
"""
from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
QUESTION = "What does sourdough bread rise with?"
STARTUP_SECONDS = 180  # a shared 2-core machine: torch, MiniLM and llama.cpp all load on first use


def _why_not() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (make browser, or apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install -e '.[test]')"
    from ragqa import local_llm
    from ragqa.errors import LLMError

    try:
        local_llm.installed_parts(local_llm.LOCAL_MODELS["smollm2-135m"])
    except LLMError as err:
        return str(err)
    return None


pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.llm,
              pytest.mark.skipif(bool(_why_not()), reason=f"needs a browser and the local model: {_why_not()}")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _health(url: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
            return reply.read().decode()
    except OSError:
        return None


def _listeners(port: int) -> list[str]:
    """Local addresses listening on `port`, from `ss`."""
    out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return [line.split()[3] for line in out.splitlines() if line.strip()]


def _outside_address() -> str | None:
    """This machine's address on its default route, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("10.255.255.255", 1))
            address = sock.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


@pytest.fixture
def app_url(tmp_path):
    """`python -m ragqa app` on a free port, over a small notes folder, MiniLM and SmolLM2."""
    notes = tmp_path / "notes"
    (notes / "garden").mkdir(parents=True)
    (notes / "garden" / "tomatoes.md").write_text(
        "# Growing tomatoes\n\nTomatoes need six hours of direct sun and deep watering twice a week.\n")
    (notes / "bread.txt").write_text("Sourdough bread rises with a wild yeast starter.\n")
    settings = {
        "notes_dir": str(notes), "index_dir": str(tmp_path / "index"),
        "embedding": {"model": "all-MiniLM-L6-v2", "cache_dir": str(tmp_path / "cache")},
        "llm": {"provider": "local", "local_model": "smollm2-135m", "context_window": 2048,
                "max_answer_tokens": 64, "temperature": 0, "rewrite_followups": False},
    }
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(settings))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGQA_")}
    env.update(RAGQA_CONFIG=str(config), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "browser-app.log", "wb")
    app = subprocess.Popen([sys.executable, "-m", "ragqa", "app", "--port", str(port)], cwd=REPO, env=env,
                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while _health(url) != "ok":
            assert app.poll() is None, (ARTIFACTS / "browser-app.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the app did not answer /_stcore/health in 60 s"
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(app.pid, signal.SIGTERM)  # streamlit stops the llama.cpp server it started on its way out
        try:
            app.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(app.pid, signal.SIGKILL)
            app.wait()
        log.close()
        from ragqa.config import LLMSettings
        from ragqa.local_llm import stop_local_server

        stop_local_server(LLMSettings(**settings["llm"]), tmp_path / "cache")  # in case it was left behind


_WATCH_SECOND_MESSAGE = """() => {
  window.__answerTexts = [];
  new MutationObserver(() => {
    const message = document.querySelectorAll('[data-testid="stChatMessage"]')[1];
    const markdown = message && message.querySelector('[data-testid="stMarkdownContainer"]');
    const text = markdown ? markdown.innerText.trim() : '';
    const seen = window.__answerTexts;
    if (text && seen[seen.length - 1] !== text) seen.push(text);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def test_ingest_ask_and_open_a_source_in_a_real_browser(app_url):
    port = int(app_url.rsplit(":", 1)[1])
    assert _listeners(port) and all(a.startswith("127.0.0.1:") for a in _listeners(port)), _listeners(port)
    outside = _outside_address()
    if outside:
        with pytest.raises(OSError):
            socket.create_connection((outside, port), timeout=2).close()

    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM),
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(STARTUP_SECONDS * 1000)
            expect.set_options(timeout=STARTUP_SECONDS * 1000)
            page.goto(app_url)
            expect(page.get_by_text("There is no index to answer from yet")).to_be_visible()
            page.screenshot(path=ARTIFACTS / "browser-1-no-index.png")

            page.get_by_role("button", name="Ingest now").click()
            ask_box = page.get_by_placeholder("Ask a question about your notes")
            expect(ask_box).to_be_visible()  # the page redraws itself when the ingest is done
            sidebar = page.get_by_test_id("stSidebar")
            expect(sidebar.get_by_text(re.compile(r"Ingest done in .* 2 added"))).to_be_visible()
            expect(sidebar.get_by_text("smollm2-135m (local): reachable")).to_be_visible()

            page.evaluate(_WATCH_SECOND_MESSAGE)
            ask_box.fill(QUESTION)
            ask_box.press("Enter")
            answer = page.get_by_test_id("stChatMessage").nth(1)
            expect(answer.get_by_text(re.compile(r"smollm2-135m \(local\) · [\d.]+ s"))).to_be_visible()
            page.screenshot(path=ARTIFACTS / "browser-2-answer.png", full_page=True)

            seen = page.evaluate("window.__answerTexts")
            assert len(seen) >= 3, f"the answer appeared in {len(seen)} step(s), not streamed: {seen}"
            final = answer.get_by_test_id("stMarkdownContainer").first.inner_text()
            assert re.search(r"\[\d\]", final), f"no citation in the answer: {final!r}"

            source = answer.get_by_test_id("stExpander").filter(has_text="[1] bread.txt")
            source.get_by_text("[1] bread.txt").click()
            expect(source.locator("strong", has_text="Sourdough")).to_be_visible()  # the question's words, bold
            expect(source.get_by_text(re.compile(r"^score \d"))).to_be_visible()
            page.wait_for_timeout(600)  # let the expander finish opening before the picture
            page.screenshot(path=ARTIFACTS / "browser-3-source-open.png", full_page=True)
        finally:
            browser.close()
