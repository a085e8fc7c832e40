import json
import os
from pathlib import Path

import pytest

from ragqa.config import expand_env, load_settings
from ragqa.errors import ConfigError
from ragqa.ingest.pipeline import ingest_folder
from ragqa.models.embedder import load_embedder

from helpers import cli
from helpers.data import REPO
from helpers.settings import HASH, make_settings


def test_defaults_load_from_the_repo_config_file():
    settings = load_settings("config.yaml", environ={})
    assert settings.embedding.model == "intfloat/multilingual-e5-small"
    assert settings.notes_path.name == "docs"
    assert settings.ui.host == "127.0.0.1"


def test_env_reference_with_default_is_expanded(monkeypatch):
    assert expand_env({"a": ["${RAGQA_TEST_UNSET_VAR:fallback}"]}) == {"a": ["fallback"]}
    monkeypatch.setenv("RAGQA_TEST_SET_VAR", "here")
    assert expand_env("x/${RAGQA_TEST_SET_VAR:no}") == "x/here"


def test_ragqa_env_vars_override_nested_keys():
    settings = load_settings("config.yaml", environ={"RAGQA_SEARCH__TOP_K": "9", "RAGQA_INDEX_DIR": "/tmp/i"})
    assert settings.search.top_k == 9
    assert str(settings.index_path) == "/tmp/i"


def test_ragqa_config_env_selects_another_file(tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text("notes_dir: mynotes\nsearch: {top_k: 3}\n")
    settings = load_settings(environ={"RAGQA_CONFIG": str(other)})
    assert settings.search.top_k == 3
    assert settings.notes_path == tmp_path / "mynotes"  # relative to the config file


@pytest.mark.parametrize(("yaml_text", "expected"), [
    ("serch: {top_k: 3}\n", "unknown key 'serch' in config; allowed here: notes_dir"),
    ("search: {topk: 3}\n", "unknown key 'search.topk' in config; allowed here: top_k, mode"),
    ("search: {mode: fuzzy}\n", "bad value for 'search.mode' ('fuzzy'): must be one of 'dense', 'bm25' or 'hybrid'"),
    ("chunking: {chunk_tokens: 2}\n", "bad value for 'chunking.chunk_tokens' (2)"),
    ("llm: {provider: gpt}\n",
     "bad value for 'llm.provider' ('gpt'): must be one of 'local', 'openai', 'ollama' or 'none'"),
    ("search: [1, 2\n", "is not valid YAML at line"),
])
def test_bad_config_gives_one_line_naming_the_key(tmp_path, yaml_text, expected):
    path = tmp_path / "c.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    message = str(err.value)
    assert expected in message
    assert "\n" not in message


def test_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.yaml", environ={})


def test_ragqa_variables_that_are_not_settings_are_left_alone():
    # RAGQA_PASSWORD holds the app's password (README), RAGQA_NOTES feeds config.yaml's ${RAGQA_NOTES:docs}
    environ = {"RAGQA_PASSWORD": "secret", "RAGQA_NOTES": "/tmp/my-notes", "RAGQA_SHARED_DATA": "/data",
               "RAGQA_UI__PASSWORD_ENV": "RAGQA_PASSWORD"}
    settings = load_settings("config.yaml", environ=environ)
    assert settings.notes_path == Path("/tmp/my-notes")
    assert settings.ui.password_env == "RAGQA_PASSWORD"


@pytest.mark.parametrize(("name", "value", "key", "expected"), [
    ("RAGQA_NOTES_DIR", "/tmp/n", "notes_dir", "/tmp/n"),
    ("RAGQA_MAX_FILE_MB", "3", "max_file_mb", 3.0),
    ("RAGQA_INCLUDE", '["**/*.md"]', "include", ["**/*.md"]),
    ("RAGQA_TOPICS__K", "null", "topics.k", None),
    ("RAGQA_TOPICS__K", "7", "topics.k", 7),
    ("RAGQA_EMBEDDING__BF16", "false", "embedding.bf16", False),
    ("RAGQA_PDF__PASSWORDS", '{"a.pdf": "pw"}', "pdf.passwords", {"a.pdf": "pw"}),
    ("RAGQA_LLM__REWRITE_FOLLOWUPS", "true", "llm.rewrite_followups", "llm"),
    ("ragqa_search__mode", "bm25", "search.mode", "bm25"),
])
def test_setting_variables_are_read_like_yaml_values(name, value, key, expected):
    settings = load_settings("config.yaml", environ={name: value})
    section, _, field = key.rpartition(".")
    assert getattr(getattr(settings, section) if section else settings, field) == expected


@pytest.mark.parametrize(("environ", "expected"), [
    ({"RAGQA_SEARCH__TOPK": "3"}, "unknown key 'search.topk' in config (from RAGQA_SEARCH__TOPK); allowed here: top_k"),
    ({"RAGQA_UI__PORT": "http"}, "bad value for 'ui.port' ('http') (from RAGQA_UI__PORT)"),
    ({"RAGQA_EXCLUDE": "drafts/**"}, "RAGQA_EXCLUDE"),
    ({"RAGQA_LLM__CONTEXT_WINDOW": "384", "RAGQA_LLM__MAX_ANSWER_TOKENS": "384"},
     "llm.context_window (384) leaves no room for the prompt after llm.max_answer_tokens (384)"),
])
def test_a_bad_setting_variable_gives_one_line_naming_it(environ, expected):
    with pytest.raises(ConfigError) as err:
        load_settings("config.yaml", environ=environ)
    assert expected in str(err.value) and "\n" not in str(err.value)


def clean_env(tmp_path, **settings) -> dict[str, str]:
    """This process's environment (no RAGQA_* variables in a test), plus the seeded-hash embedder (the model is
    not the point of these tests), an index in tmp and no LLM."""
    return {**os.environ, "RAGQA_CONFIG": str(REPO / "config.yaml"), "RAGQA_INDEX_DIR": str(tmp_path / "ix"),
            "RAGQA_EMBEDDING__MODEL": HASH, "RAGQA_EMBEDDING__CACHE_DIR": str(tmp_path / "cache"),
            "RAGQA_LLM__PROVIDER": "none", **settings}


def test_the_readmes_environment_recipes_work_through_the_real_cli(tmp_path, notes):
    # `RAGQA_PASSWORD=... ragqa app` with ui.password_env: RAGQA_PASSWORD; `RAGQA_NOTES=~/notes` for config.yaml
    env = clean_env(tmp_path, RAGQA_PASSWORD="secret", RAGQA_UI__PASSWORD_ENV="RAGQA_PASSWORD", RAGQA_NOTES=str(notes))
    ingest = cli.run(["ingest", "--json"], env=env)
    assert ingest.returncode == 0, ingest.stderr
    assert json.loads(ingest.stdout)["added"] == 3
    status = cli.run(["status", "--json"], env=env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["files"] == 3


def test_a_context_window_with_no_room_for_the_prompt_is_one_line_from_ragqa_ask(tmp_path, notes):
    settings = make_settings(tmp_path, notes, model=HASH, index_dir=str(tmp_path / "ix"))
    ingest_folder(settings, load_embedder(settings.embedding))
    env = clean_env(tmp_path, RAGQA_LLM__CONTEXT_WINDOW="384", RAGQA_LLM__MAX_ANSWER_TOKENS="384",
                    RAGQA_LLM__PROVIDER="openai", RAGQA_LLM__BASE_URL="http://127.0.0.1:9/v1", RAGQA_LLM__MODEL="x")
    out = cli.run(["ask", "how much sun do tomatoes need?"], env=env)
    assert out.returncode == 1, out.stdout
    assert out.stderr.startswith("ragqa: ") and out.stderr.strip().count("\n") == 0, out.stderr
    assert "llm.context_window (384) leaves no room for the prompt after llm.max_answer_tokens (384)" in out.stderr
