"""The browser chat end to end: `python -m ragqa app` in a subprocess, driven by a real headless Chromium.

Debian's Chromium (/usr/bin/chromium; `make browser` installs it) through PyPI Playwright;
the answer comes from the real local llama.cpp server (SmolLM2-135M), so it really streams.
Screenshots land in test-artifacts/ (gitignored). With RAGQA_UPDATE_SCREENSHOTS=1 the README's pictures in
docs/.images/ (screenshot-chat.png, screenshot-map.png) are replaced by this run's.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from helpers.data import REPO
from helpers.local_model import needs_local_model
from helpers.net import outside_address

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
APP_LOG = ARTIFACTS / "browser-app.log"  # `python -m ragqa app`'s output
QUESTION = "What does sourdough bread rise with?"
UPDATE_DOCS = os.environ.get("RAGQA_UPDATE_SCREENSHOTS") == "1"  # read at import: tests see no RAGQA_* variables


def publish_screenshot(artifact: Path, name: str) -> None:
    """Copy a screenshot into docs/.images/ for the README, only when asked (a test run must not dirty the
    repo). Hidden there, so the sample ingest of docs/ does not OCR pictures of its own pages."""
    if UPDATE_DOCS:
        shutil.copyfile(artifact, REPO / "docs" / ".images" / name)


SUBJECTS = {  # four subjects of eight short notes: enough for a map with a few topics
    "garden": ["Growing tomatoes: six hours of sun, rich soil and deep watering in the vegetable garden.",
               "Composting: a compost heap turns fallen leaves and grass clippings into rich garden soil.",
               "Pruning roses: cut each rose stem above an outward-facing bud in late winter.",
               "Watering the lawn: water the grass deeply once a week so its roots grow down.",
               "Planting garlic: garlic cloves go into the garden soil in autumn, pointed end up.",
               "Raised beds: a raised vegetable bed drains well and warms up early in spring.",
               "Mulching: a layer of straw mulch keeps the soil of garden beds moist and weed-free.",
               "Seed starting: sow tomato and pepper seeds indoors eight weeks before the last frost."],
    "rust": ["Ownership: each value in Rust has a single owner and is dropped when the owner goes out of scope.",
             "Borrowing: references in Rust borrow a value without taking ownership of it.",
             "Lifetimes: lifetimes tell the Rust borrow checker how long references stay valid.",
             "Traits: a Rust trait defines shared behaviour that generic functions take as bounds.",
             "Cargo: Cargo, the Rust build tool, compiles crates and fetches their dependencies.",
             "Error handling: Rust functions return Result, and the question mark operator passes errors up.",
             "Enums and match: a Rust enum has variants, and match must handle every one of them.",
             "Async Rust: async functions in Rust return futures that an executor such as Tokio polls."],
    "baking": ["Sourdough starter: feed the starter flour and water daily until it bubbles and leavens bread.",
               "Baguettes: baguette dough is flour, water, salt and yeast, baked long in a hot oven.",
               "Croissants: croissant dough is laminated with butter and folded many times before baking.",
               "Oven temperature: bread bakes in a very hot oven with steam for a crisp crust.",
               "Kneading: kneading bread dough develops the gluten that traps the gas of the yeast.",
               "Proofing: let the shaped loaf rise in a warm place until the dough springs back slowly.",
               "Rye bread: rye flour holds little gluten, so rye loaves are dense and baked in tins.",
               "Pizza dough: a slow cold rise gives pizza dough flavour before it bakes on a hot stone."],
    "running": ["Easy runs: most training runs should be slow enough to hold a conversation.",
                "Intervals: short fast repeats with jogging rests raise a runner's speed and VO2 max.",
                "Long run: the weekly long run builds the endurance a marathon runner needs.",
                "Running shoes: replace running shoes after about 800 kilometres of training.",
                "Tapering: run less in the two weeks before a race so the legs arrive fresh.",
                "Hill repeats: running up hills builds leg strength with less pounding than speed work.",
                "Race pace: practise marathon race pace in training runs to learn how it feels.",
                "Recovery: sleep and rest days let a runner's muscles recover after hard training."],
}
STARTUP_SECONDS = 180  # a shared 2-core machine: torch, MiniLM and llama.cpp all load on first use


def _why_not() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (make browser, or apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install -e '.[test]')"
    from ragqa.errors import LLMError
    from ragqa.models import local as local_llm

    try:
        local_llm.installed_parts(local_llm.LOCAL_MODELS["smollm2-135m"])
    except LLMError as err:
        return str(err)
    return None


pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.llm,
              pytest.mark.skipif(bool(_why_not()), reason=f"needs a browser and the local model: {_why_not()}")]


def _listeners(port: int) -> list[str]:
    """Local addresses listening on `port`, from `ss`."""
    out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return [line.split()[3] for line in out.splitlines() if line.strip()]


def app_settings(tmp_path, notes: Path, llm: dict, embedding: dict | None = None) -> dict:
    """The app's config.yaml: these notes, an index in tmp, MiniLM (or `embedding`) with the test's own cache."""
    return {"notes_dir": str(notes), "index_dir": str(tmp_path / "index"),
            "embedding": embedding or {"model": "all-MiniLM-L6-v2", "cache_dir": str(tmp_path / "cache")},
            "llm": llm}


@pytest.fixture
def app_url(tmp_path, start_app):
    """`python -m ragqa app` on a free port, over a small notes folder, MiniLM and SmolLM2."""
    notes = tmp_path / "notes"
    (notes / "garden").mkdir(parents=True)
    (notes / "garden" / "tomatoes.md").write_text(
        "# Growing tomatoes\n\nTomatoes need six hours of direct sun and deep watering twice a week.\n")
    (notes / "bread.txt").write_text("Sourdough bread rises with a wild yeast starter.\n")
    llm = {"provider": "local", "local_model": "smollm2-135m", "context_window": 2048,
           "max_answer_tokens": 64, "temperature": 0, "rewrite_followups": False}
    return start_app(app_settings(tmp_path, notes, llm), log=APP_LOG)


@pytest.fixture
def map_app_url(tmp_path, start_app):
    """The app over 32 short notes on four subjects, without an LLM (topics are named by their words)."""
    notes = tmp_path / "notes"
    for subject, lines in SUBJECTS.items():
        (notes / subject).mkdir(parents=True)
        for line in lines:
            title, text = line.split(": ", 1)
            name = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
            (notes / subject / f"{name}.md").write_text(f"# {title}\n\n{text}\n")
    return start_app(app_settings(tmp_path, notes, {"provider": "none"}), log=APP_LOG)


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
    outside = outside_address()
    if outside:
        with pytest.raises(OSError):  # noqa: PT011 - refused or timed out: either way nothing answers there
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
            status = re.compile(r"smollm2-135m \(local\) · first words after [\d.]+ s · [\d.]+ s in all")
            expect(answer.get_by_text(status)).to_be_visible()
            page.screenshot(path=ARTIFACTS / "browser-2-answer.png", full_page=True)

            seen = page.evaluate("window.__answerTexts")
            assert len(seen) >= 3, f"the answer appeared in {len(seen)} step(s), not streamed: {seen}"
            final = answer.get_by_test_id("stMarkdownContainer").first.inner_text()
            assert re.search(r"\[\d\]", final), f"no citation in the answer: {final!r}"

            source = answer.get_by_test_id("stExpander").filter(has_text="[1] bread.txt")
            source.get_by_text("[1] bread.txt").click()
            expect(source.locator("strong", has_text="Sourdough").first).to_be_visible()  # the question's words, bold
            expect(source.get_by_text("Sourdough bread rises with a wild yeast starter.").first).to_be_visible()
            expect(source.get_by_text(re.compile(r"^score \d"))).to_be_visible()
            expect(source.get_by_text("Related notes", exact=True)).to_be_visible()
            related = re.compile(r"Growing tomatoes · garden/tomatoes\.md · -?[\d.]+")
            expect(source.get_by_text(related)).to_be_visible()  # the other note, with its score
            page.wait_for_timeout(600)  # let the expander finish opening before the picture
            page.screenshot(path=ARTIFACTS / "browser-3-source-open.png", full_page=True)
            publish_screenshot(ARTIFACTS / "browser-3-source-open.png", "screenshot-chat.png")
        finally:
            browser.close()



README_QUESTION = "How does ragqa keep the index safe if ingest is killed?"  # the README's own example

_WATCH_WAIT = """() => {
  // What the answer's message shows, in order: sources, status line, answer words (the first time each appears).
  window.__seen = [];
  const start = performance.now();
  new MutationObserver(() => {
    const message = document.querySelectorAll('[data-testid="stChatMessage"]')[1];
    if (!message) return;
    const text = message.innerText;
    const mark = (what) => {
      if (!window.__seen.some(s => s.what === what)) window.__seen.push({what, ms: performance.now() - start, text});
    };
    if (/\\[1\\] \\S+\\.md/.test(text)) mark('sources');
    if (/(Found|Reading) \\d+ passages?\\S* .*\\d+ s/.test(text)) mark('status');
    if (/Writing…|first words after/.test(text)) mark('words');
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture
def docs_app_url(tmp_path, start_app):
    """`make run` as a newcomer gets it: ragqa's own docs/, the default E5 and the default local model.
    The cache is the test's own (the model files linked into it), so no server of the user's is touched."""
    cache = tmp_path / "cache"
    (cache / "models").mkdir(parents=True)
    shared = Path.home() / ".cache" / "ragqa"
    for item in [*shared.glob("models/*.gguf"), *shared.glob("multilingual-e5-small-*")]:
        (cache / item.relative_to(shared)).symlink_to(item)
    settings = app_settings(tmp_path, REPO / "docs", {"provider": "local"}, embedding={"cache_dir": str(cache)})
    return start_app(settings, log=APP_LOG)


@needs_local_model("qwen2.5-coder-1.5b")
def test_the_readme_question_gets_a_right_cited_answer_from_the_default_model(docs_app_url):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM),
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(STARTUP_SECONDS * 1000)
            expect.set_options(timeout=STARTUP_SECONDS * 1000)
            page.goto(docs_app_url)
            page.get_by_role("button", name="Ingest now").click()
            ask_box = page.get_by_placeholder("Ask a question about your notes")
            expect(ask_box).to_be_visible()
            sidebar = page.get_by_test_id("stSidebar")
            expect(sidebar.get_by_text(re.compile(r"Ingest done in .* added"))).to_be_visible()  # all of docs/
            expect(sidebar.get_by_text("qwen2.5-coder-1.5b (local): reachable")).to_be_visible()

            page.evaluate(_WATCH_WAIT)
            ask_box.fill(README_QUESTION)
            ask_box.press("Enter")
            answer = page.get_by_test_id("stChatMessage").nth(1)
            expect(answer.get_by_text(re.compile(r"qwen2\.5-coder-1\.5b \(local\) · first words after [\d.]+ s"))
                   ).to_be_visible()
            page.screenshot(path=ARTIFACTS / "browser-readme-question.png", full_page=True)
            seen = page.evaluate("window.__seen")
            order = [s["what"] for s in seen]
            assert order[:2] in (["sources", "status"], ["status", "sources"]), seen  # before any words

            text = answer.get_by_test_id("stMarkdownContainer").first.inner_text()
            # what the FAQ says: one transaction per batch, the FAISS file renamed into place and rebuilt from
            # SQLite, a re-run finishes the job (not: "rebuilds the index from scratch", the guide's answer about
            # a changed model)
            right = r"transaction|renamed into place|vectors in SQLite|nothing is lost|re-running ingest"
            assert re.search(right, text, re.IGNORECASE), text
            assert not re.search(r"do not say|does not say", text, re.IGNORECASE), text
            assert re.search(r"\[\d\]", text), f"no citation: {text!r}"
            cited = answer.get_by_test_id("stExpander").first
            assert re.search(r"FAQ\.md|RELIABILITY\.md|README|GUIDE\.md", cited.inner_text()), cited.inner_text()
        finally:
            browser.close()


def test_the_notes_map_renders_and_a_clicked_point_shows_its_related_notes(map_app_url):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM),
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(STARTUP_SECONDS * 1000)
            expect.set_options(timeout=STARTUP_SECONDS * 1000)
            page.goto(map_app_url)
            page.get_by_role("tab", name="Your notes").click()
            expect(page.get_by_text("to see how your notes connect")).to_be_visible()
            page.get_by_role("button", name="Ingest now").click()  # the same call to ingest as the chat's

            # vega-embed draws a small chart as SVG, one described symbol per note (a big one on a canvas)
            points = page.get_by_test_id("stVegaLiteChart").locator('svg path[role="graphics-symbol"]')
            expect(points).to_have_count(32)  # the page redraws itself when the ingest is done
            sidebar = page.get_by_test_id("stSidebar")
            expect(sidebar.get_by_text(re.compile(r"Ingest done in .* 32 added"))).to_be_visible()
            legend = page.get_by_test_id("stVegaLiteChart").locator("svg .role-legend-label text")
            expect(legend).not_to_have_count(0)
            names = legend.all_text_contents()
            assert len(names) >= 2 and all(name.strip() for name in names), names  # the topics' names
            page.screenshot(path=ARTIFACTS / "browser-4-notes-map.png")

            ownership = points.and_(page.locator('[aria-label*="title: Ownership;"]'))
            ownership.hover()
            expect(page.locator("#vg-tooltip-element")).to_contain_text("Ownership")  # hover: the note's title
            ownership.click()
            card = page.get_by_test_id("stColumn").nth(1)
            expect(card.get_by_text("Related notes", exact=True)).to_be_visible()
            expect(card.get_by_role("heading", name="Ownership")).to_be_visible()
            expect(card.get_by_text("rust/ownership.md", exact=True)).to_be_visible()
            related = card.locator("li")
            expect(related).to_have_count(10)  # its ten most related notes, best first
            assert " · rust/" in related.first.inner_text(), related.all_inner_texts()
            ownership.hover()
            page.wait_for_timeout(600)  # the tooltip back up, for the picture
            page.screenshot(path=ARTIFACTS / "browser-5-notes-map-clicked.png")
            publish_screenshot(ARTIFACTS / "browser-5-notes-map-clicked.png", "screenshot-map.png")
        finally:
            browser.close()
