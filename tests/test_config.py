import pytest

from ragqa.config import expand_env, load_settings
from ragqa.errors import ConfigError


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


@pytest.mark.parametrize("yaml_text, expected", [
    ("serch: {top_k: 3}\n", "unknown key 'serch' in config; allowed here: notes_dir"),
    ("search: {topk: 3}\n", "unknown key 'search.topk' in config; allowed here: top_k, mode"),
    ("search: {mode: fuzzy}\n", "bad value for 'search.mode' ('fuzzy'): must be one of 'dense', 'bm25' or 'hybrid'"),
    ("chunking: {chunk_tokens: 2}\n", "bad value for 'chunking.chunk_tokens' (2)"),
    ("llm: {provider: gpt}\n", "bad value for 'llm.provider' ('gpt'): must be one of 'local', 'openai' or 'none'"),
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
