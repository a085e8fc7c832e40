"""Bring your own model: any GGUF file, a Hugging Face GGUF, Ollama's models; threads and GPU layers sized to the
machine; `ragqa models list` and what `ragqa status` says of the model.

Real parts: the bundled SmolLM2 file copied to a folder of its own and loaded by path (its name and context
read from its GGUF header), a Hugging Face cache laid out as huggingface_hub lays it out (HF_HUB_OFFLINE=1:
the hub is never reached), a small Ollama on 127.0.0.1 (tests/helpers/fake_ollama.py) reached through the real
`openai` client, and llama.cpp's server. The tests marked llm start one server per model for the module:
SmolLM2 by path, and the two Qwen models by their bundled names, each asked the same question through the
same answer path (skipped, saying why, where a model is not installed).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import threading
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from ragqa.config import LLMSettings, Settings
from ragqa.errors import LLMError
from ragqa.models import hardware
from ragqa.models import local as local_llm
from ragqa.models.chat import make_chat_model
from ragqa.models.gguf import read_gguf
from ragqa.models.model_sources import served_model
from ragqa.models.openai_chat import OpenAIChatModel

from helpers import forked_cli
from helpers.data import REPO
from helpers.fake_ollama import MODELS, REPLY, FakeOllama
from helpers.garden_notes import write_garden_notes
from helpers.local_model import local_model_missing, needs_local_model
from helpers.net import free_port
from helpers.settings import make_settings

SMOL_NAME = "Smollm2 135M 8k Lc100K Mix1 Ep2"  # general.name in the bundled SmolLM2 file's header
QUESTION = "How much sun do tomatoes need?"
HF_REPO, HF_FILE = "ragqa-tests/SmolLM2-135M-Instruct-GGUF", "smollm2-135m-instruct-q4_1.gguf"
needs_smol = needs_local_model()


@pytest.fixture(scope="module")
def smol_file(tmp_path_factory) -> Path:
    """A copy of the bundled SmolLM2 GGUF in a folder of its own, under a name of its own."""
    if local_model_missing():
        pytest.skip(f"needs the local model smollm2-135m: {local_model_missing()}")
    folder = tmp_path_factory.mktemp("my-models") / "llms"
    folder.mkdir()
    target = folder / "notes-helper.gguf"
    shutil.copyfile(local_llm.installed_parts(local_llm.LOCAL_MODELS["smollm2-135m"])[0], target)
    return target


@pytest.fixture(scope="module")
def garden(tmp_path_factory, minilm):
    """The garden notes, their MiniLM index, and a config.yaml beside them naming a GGUF by a relative path,
    llms/notes-helper.gguf (the folder `smol_file` is in, once a test links it: `with_smol`)."""
    from ragqa.ingest.pipeline import ingest_folder

    tmp = tmp_path_factory.mktemp("own-models")
    settings = make_settings(tmp, write_garden_notes(tmp / "notes"))
    ingest_folder(settings, minilm)
    config = tmp / "config.yaml"
    config.write_text("notes_dir: notes\nindex_dir: index\nembedding: {model: all-MiniLM-L6-v2, cache_dir: cache}\n"
                      "llm: {local_model: llms/notes-helper.gguf, context_window: 2048, max_answer_tokens: 96, "
                      "keep_alive: 0, max_retries: 0}\n")
    return {"tmp": tmp, "settings": settings, "config": config}


@pytest.fixture
def with_smol(garden, smol_file):
    """The garden, with its config.yaml's llms/ folder holding the SmolLM2 copy."""
    if not (garden["tmp"] / "llms").exists():
        (garden["tmp"] / "llms").symlink_to(smol_file.parent)
    return garden


def cli(garden, *argv, **env):
    out = forked_cli.run(["--config", str(garden["config"]), *argv], env={**os.environ, **env},
                         cwd=garden["tmp"] / "notes", timeout=300)  # not config.yaml's folder
    assert out.returncode in (0, 1), out.stderr[-800:]
    return out


# ---- a GGUF file given by its path -----------------------------------------------------------

def test_a_gguf_file_says_its_own_name_context_and_chat_template(smol_file):
    info = read_gguf(smol_file)
    assert (info.name, info.architecture, info.context_length) == (SMOL_NAME, "llama", 8192)
    assert "<|im_start|>" in info.chat_template and info.takes_system_role
    assert info.size == smol_file.stat().st_size


def test_ragqa_status_names_the_model_from_its_gguf_with_threads_gpu_layers_and_context(with_smol, smol_file):
    garden = with_smol
    out = cli(garden, "status")
    assert out.returncode == 0, out.stderr
    llm_line = out.stdout.splitlines()[-1]
    assert llm_line == (f"llm {SMOL_NAME} (local, file), threads {hardware.physical_cores()}, "
                        "GPU layers 0 (auto: this llama.cpp build has no GPU), context 2048 of 8192")
    row = json.loads(cli(garden, "status", "--json").stdout)["llm"]
    assert row["path"] == str(smol_file)  # llms/notes-helper.gguf from config.yaml's folder, not from the cwd
    assert (row["source"], row["model_context"], row["problem"]) == ("file", 8192, None)


def test_a_context_window_larger_than_the_gguf_was_trained_for_is_refused_in_one_line(tmp_path, smol_file):
    settings = Settings(llm=LLMSettings(local_model=str(smol_file), context_window=16384),
                        embedding={"cache_dir": str(tmp_path)})
    with pytest.raises(LLMError) as refused:
        make_chat_model(settings)
    assert str(refused.value) == (f"llm.context_window 16384 is more than '{SMOL_NAME}' supports (8192, by its "
                                  "GGUF metadata): lower llm.context_window")
    assert not list(tmp_path.glob("llm-server-*.json"))  # refused before any server was started


def test_a_path_that_is_not_a_gguf_model_or_an_unknown_name_is_one_line(tmp_path):
    (tmp_path / "notes.gguf").write_text("# not a model\n")
    for local_model, expected in [
        (str(tmp_path / "notes.gguf"), f"llm.local_model: {tmp_path / 'notes.gguf'} is not a GGUF model file "
                                       "(it does not start with GGUF): give the path of a .gguf file"),
        (str(tmp_path / "gone.gguf"), f"llm.local_model: no file at {tmp_path / 'gone.gguf'}: give the path"),
        ("llama-3-8b", "unknown llm.local_model 'llama-3-8b': choose one of smollm2-135m, qwen2.5-coder-0.5b, "
                       "qwen2.5-coder-1.5b, a path to a .gguf file, or hf:OWNER/REPO/FILE.gguf"),
    ]:
        with pytest.raises(LLMError) as refused:
            make_chat_model(LLMSettings(local_model=local_model), tmp_path)
        assert str(refused.value).startswith(expected) and "\n" not in str(refused.value)


def write_gguf(path: Path, keys: dict[str, str | int]) -> Path:
    """A GGUF header with these keys (strings and uint32s) and no tensors: what read_gguf reads."""
    def string(text: str) -> bytes:
        data = text.encode()
        return struct.pack("<Q", len(data)) + data

    body = b"".join(string(k) + (struct.pack("<I", 8) + string(v) if isinstance(v, str) else
                                 struct.pack("<II", 4, v)) for k, v in keys.items())
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, len(keys)) + body)
    return path


def test_a_chat_template_without_a_system_role_gets_the_rules_in_the_first_user_message(tmp_path, ollama):
    # Mistral's first templates raise "Conversation roles must alternate user/assistant/user/assistant/..."
    template = ("{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}[INST] "
                "{{ message['content'] }} [/INST]{% else %}{{ message['content'] }}{% endif %}{% endfor %}")
    gguf = write_gguf(tmp_path / "mistral.gguf", {"general.architecture": "llama", "general.name": "Old Mistral",
                                                  "llama.context_length": 32768, "tokenizer.chat_template": template})
    model = served_model(LLMSettings(local_model=str(gguf)), tmp_path)
    assert (model.name, model.max_context, model.takes_system_role) == ("Old Mistral", 32768, False)
    chat = OpenAIChatModel(LLMSettings(), base_url=ollama["url"], model="llama3.2", system_role=model.takes_system_role)
    chat.complete([{"role": "system", "content": "Answer from the passages."},
                   {"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."},
                   {"role": "user", "content": "Q2?"}])
    sent = ollama["requests"][-1][1]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[0]["content"] == "Answer from the passages.\n\nQ?"


# ---- hf:OWNER/REPO/FILE.gguf, from a Hugging Face cache filled beforehand --------------------

@pytest.fixture
def hf_cache(tmp_path, monkeypatch, smol_file):
    """A Hugging Face cache holding HF_REPO/HF_FILE, laid out as huggingface_hub writes it (the blob named by
    its sha256, the snapshot file a link to it), found through HF_HUB_CACHE; the hub stays offline."""
    digest = hashlib.sha256(smol_file.read_bytes()).hexdigest()
    repo = tmp_path / "hub" / f"models--{HF_REPO.replace('/', '--')}"
    commit = "0123456789abcdef0123456789abcdef01234567"
    (repo / "blobs").mkdir(parents=True)
    os.link(smol_file, repo / "blobs" / digest)
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "snapshots" / commit / HF_FILE).symlink_to(f"../../blobs/{digest}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    return {"hub": tmp_path / "hub", "sha256": digest, "file": repo / "snapshots" / commit / HF_FILE}


def test_an_hf_model_already_in_the_cache_is_used_offline_and_its_pin_checked_once(hf_cache, tmp_path, monkeypatch):
    llm = LLMSettings(local_model=f"hf:{HF_REPO}/{HF_FILE}", local_model_sha256=hf_cache["sha256"])
    model = served_model(llm, tmp_path / "cache")
    assert (model.path, model.name, model.max_context, model.source) == (hf_cache["file"], SMOL_NAME, 8192, "hf")
    hashed = []
    monkeypatch.setattr("ragqa.models.model_sources._sha256", lambda path: hashed.append(path) or "")
    served_model(llm, tmp_path / "cache")
    assert hashed == []  # found right once: not read again while its size and time stay the same
    with pytest.raises(LLMError) as refused:
        served_model(llm.model_copy(update={"local_model_sha256": "ab" * 32}), tmp_path / "cache")
    assert str(refused.value).startswith(f"hf:{HF_REPO}/{HF_FILE} is not the file llm.local_model_sha256 pins")


def test_an_hf_model_missing_from_the_cache_offline_says_how_to_get_it(hf_cache, tmp_path):
    with pytest.raises(LLMError) as refused:
        served_model(LLMSettings(local_model=f"hf:{HF_REPO}/qwen2.5-7b-instruct-q4_k_m.gguf"), tmp_path)
    assert str(refused.value) == (
        f"hf:{HF_REPO}/qwen2.5-7b-instruct-q4_k_m.gguf is not in the Hugging Face cache ({hf_cache['hub']}) and "
        f"HF_HUB_OFFLINE=1 keeps ragqa from fetching it: run `hf download {HF_REPO} qwen2.5-7b-instruct-q4_k_m.gguf` "
        "where the hub is reachable (HF_HUB_OFFLINE unset), or copy the file and give its path as llm.local_model")
    with pytest.raises(LLMError, match=r"^llm.local_model 'hf:Qwen/x.gguf' is not a Hugging Face GGUF: write it as"):
        served_model(LLMSettings(local_model="hf:Qwen/x.gguf"), tmp_path)
    first = hf_cache["file"].with_name("big-q4_k_m-00001-of-00002.gguf")  # a split GGUF whose 2nd part is missing
    first.symlink_to(hf_cache["file"].readlink())
    with pytest.raises(LLMError, match=f"run `hf download {HF_REPO} big-q4_k_m-00001-of-00002.gguf "
                                       "big-q4_k_m-00002-of-00002.gguf` where the hub is reachable"):
        served_model(LLMSettings(local_model=f"hf:{HF_REPO}/big-q4_k_m-00001-of-00002.gguf"), tmp_path)


def test_models_list_shows_each_source_with_size_and_readiness(with_smol, hf_cache, smol_file):
    garden = with_smol
    out = cli(garden, "models", "list", "--json", RAGQA_LLM__MODELS_DIR=str(smol_file.parent))
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    bundled = {name: r for name, r in rows.items() if r["source"] == "bundled"}
    assert set(bundled) == set(local_llm.LOCAL_MODELS)
    assert bundled["smollm2-135m"]["ready"] and bundled["smollm2-135m"]["size"] == 98_362_432
    for name in local_llm.LOCAL_MODELS:  # ready exactly when installed, else how to install it
        assert bundled[name]["ready"] == (local_model_missing(name) is None)
        assert bundled[name]["ready"] or bundled[name]["detail"] == f"run `ragqa models install {name}`"
    mine = rows[str(smol_file)]
    assert (mine["source"], mine["ready"], mine["size"], mine["in_use"]) == ("file", True, smol_file.stat().st_size,
                                                                             True)
    assert mine["detail"] == f"{SMOL_NAME} (llama, context 8192)"
    cached = rows[f"hf:{HF_REPO}/{HF_FILE}"]
    assert (cached["source"], cached["ready"], cached["in_use"]) == ("hf", True, False)
    text = cli(garden, "models", "list", RAGQA_LLM__MODELS_DIR=str(smol_file.parent)).stdout
    assert f"*  {smol_file}" in text and "no Ollama answers at http://127.0.0.1:11434" in text


# ---- threads and GPU layers ------------------------------------------------------------------

def test_threads_auto_counts_physical_cores_not_hyperthreads(tmp_path):
    for cpu, core in enumerate([0, 0, 1, 1, 2, 2, 3, 3]):  # 4 cores, 2 hyper-threads each
        topology = tmp_path / "cpu" / f"cpu{cpu}" / "topology"
        topology.mkdir(parents=True)
        (topology / "physical_package_id").write_text("0\n")
        (topology / "core_id").write_text(f"{core}\n")
    none = tmp_path / "no-quota"
    assert hardware.physical_cores(list(range(8)), tmp_path / "cpu", none) == 4
    assert hardware.physical_cores([0, 1, 2], tmp_path / "cpu", none) == 2  # the CPUs this process may use
    (tmp_path / "cpu.max").write_text("150000 100000\n")  # a container allowed 1.5 CPUs
    assert hardware.physical_cores(list(range(8)), tmp_path / "cpu", tmp_path / "cpu.max") == 2


def test_threads_auto_is_this_machines_physical_core_count():
    listed = shutil.which("lscpu") and subprocess.run(["lscpu", "-p=CORE,SOCKET,CPU"], capture_output=True,
                                                      text=True).stdout
    if not listed or hardware._cpu_quota() is not None:
        pytest.skip("needs lscpu and no container CPU quota to compare with")
    allowed = os.sched_getaffinity(0)
    cores = {tuple(line.split(",")[:2]) for line in listed.splitlines()
             if line[:1].isdigit() and int(line.split(",")[2]) in allowed}
    assert hardware.threads_for("auto") == len(cores) and hardware.threads_for(3) == 3
    assert LLMSettings().threads == "auto" and LLMSettings(threads="6").threads == 6


def test_gpu_layers_auto_offloads_only_where_llama_cpp_has_a_gpu():
    assert hardware.gpu_devices() == ()  # the CPU build of xllamacpp that constraints.txt pins
    assert hardware.gpu_layers_for("auto") == 0 and hardware.gpu_layers_for(20) == 20
    assert hardware.gpu_layers_for("auto", ("NVIDIA GeForce RTX 4090",)) == hardware.ALL_THAT_FIT


# ---- provider: ollama ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ollama():
    requests: list = []
    handler = type("Ollama", (FakeOllama,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}/v1", "requests": requests}
    server.shutdown()
    server.server_close()


def test_provider_ollama_answers_through_its_openai_compatible_endpoint(ollama):
    model = make_chat_model(LLMSettings(provider="ollama", base_url=ollama["url"], model="llama3.2"))
    assert model.name == "llama3.2 (Ollama)" and model.check() is None
    assert "".join(model.stream([{"role": "user", "content": "Hi"}])) == REPLY
    path, body = ollama["requests"][-1]
    assert path == "/v1/chat/completions" and body["model"] == "llama3.2" and body["stream"] is True
    assert model.last_usage["completion_tokens"] == 9
    assert make_chat_model(LLMSettings(provider="ollama", model="m")).base_url == "http://127.0.0.1:11434/v1"


def test_an_ollama_that_is_not_running_is_one_line():
    down = f"http://127.0.0.1:{free_port()}/v1"
    model = make_chat_model(LLMSettings(provider="ollama", base_url=down, model="llama3.2", max_retries=0))
    with pytest.raises(LLMError) as refused:
        list(model.stream([{"role": "user", "content": "Hi"}]))
    assert str(refused.value) == (f"the LLM at {down} is down (connection refused): start Ollama (`ollama serve`, "
                                  "or its app), or set llm.base_url to where it listens")
    with pytest.raises(LLMError) as unset:
        make_chat_model(LLMSettings(provider="ollama", base_url=down))
    assert str(unset.value) == (f"llm.model is not set, and Ollama is not running at {down[:-3]}: start Ollama "
                                "(`ollama serve`, or its app), or set llm.base_url to where it listens")


def test_llm_model_unset_names_the_models_ollama_has(ollama):
    with pytest.raises(LLMError) as unset:
        make_chat_model(LLMSettings(provider="ollama", base_url=ollama["url"]))
    assert str(unset.value) == ("llm.model is not set: name one of Ollama's models (llama3.2:latest, "
                                "qwen2.5:7b-instruct) in config.yaml")


def test_ragqa_ask_answers_from_ollama_and_models_list_shows_its_models(garden, ollama):
    env = {"RAGQA_LLM__PROVIDER": "ollama", "RAGQA_LLM__BASE_URL": ollama["url"], "RAGQA_LLM__MODEL": "llama3.2"}
    reply = json.loads(cli(garden, "ask", QUESTION, "--json", **env).stdout)
    assert reply["model"] == "llama3.2 (Ollama)" and reply["answer"] == REPLY and reply["error"] is None
    assert [c["path"] for c in reply["citations"]] == ["garden/tomatoes.md"]
    sent = [body for path, body in ollama["requests"] if path == "/v1/chat/completions"][-1]
    assert sent["messages"][0]["role"] == "system" and QUESTION in sent["messages"][-1]["content"]
    rows = [r for r in json.loads(cli(garden, "models", "list", "--json", **env).stdout) if r["source"] == "ollama"]
    assert [(r["name"], r["size"], r["ready"], r["in_use"]) for r in rows] == [
        (m["name"], m["size"], True, m["name"] == "llama3.2:latest") for m in MODELS]
    assert rows[0]["detail"] == "llama 3.2B Q4_K_M"
    down = {**env, "RAGQA_LLM__BASE_URL": f"http://127.0.0.1:{free_port()}/v1"}
    assert "Ollama is not running at" in cli(garden, "models", "list", **down).stdout


# ---- the same answer path on each bundled model (real llama.cpp servers) ----------------------

MODELS_ASKED = ["smollm2-135m (by path)", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]


@pytest.fixture(scope="module")
def answering(garden, smol_file):
    """model label -> (a started chat model, the settings it answers with): SmolLM2 loaded by its path, the Qwens by
    their bundled names, each with the local provider's defaults (focused passages). Stopped at the end."""
    made = {}

    def chat_model(label: str):
        if label not in made:
            reference = str(smol_file) if label.endswith("(by path)") else label
            llm = LLMSettings(provider="local", local_model=reference, context_window=2048, max_answer_tokens=96,
                              keep_alive=0, max_retries=0, timeout_seconds=240)
            made[label] = (make_chat_model(llm, garden["tmp"] / "cache"),
                           garden["settings"].model_copy(update={"llm": llm}))
        return made[label]

    yield chat_model
    for _, settings in made.values():
        local_llm.stop_local_server(settings.llm, garden["tmp"] / "cache")


@pytest.mark.llm
@pytest.mark.slow
@needs_smol
def test_a_gguf_loaded_by_path_is_served_under_its_own_name_with_auto_threads(answering, garden, smol_file):
    model = answering(MODELS_ASKED[0])[0]
    assert model.name == f"{SMOL_NAME} (local)"
    state = next((garden["tmp"] / "cache").glob("llm-server-smollm2-135m-8k-*-ctx2048.json"))
    server = json.loads(state.read_text())
    with urllib.request.urlopen(f"http://127.0.0.1:{server['port']}/v1/models", timeout=10) as reply:
        assert [m["id"] for m in json.load(reply)["data"]] == [model.model]
    command = Path(f"/proc/{server['pid']}/cmdline").read_bytes().decode().split("\0")
    assert command[command.index("--model") + 1] == str(smol_file)
    assert command[command.index("--threads") + 1] == str(hardware.physical_cores())  # llm.threads: auto
    log = Path(server["log"]).read_text()
    assert "GPU layers 0 (auto: this llama.cpp build has no GPU)" in log


@pytest.mark.llm
@pytest.mark.slow
@pytest.mark.parametrize("label", MODELS_ASKED)
def test_the_answer_path_and_its_checks_hold_on_each_bundled_model(label, answering, garden, minilm):
    from ragqa.answer.events import Delta
    from ragqa.answer.loop import answer_events
    from ragqa.retrieve.search import Searcher

    why = local_model_missing(label.split(" ")[0])
    if why:
        pytest.skip(f"needs the local model {label}: {why}")
    chat_model, settings = answering(label)
    events = list(answer_events(QUESTION, searcher=Searcher(settings, minilm), chat_model=chat_model,
                                settings=settings))
    answer = events[-1].answer
    streamed = "".join(e.text for e in events if isinstance(e, Delta))
    assert answer.generated and answer.error is None and answer.text.strip(), answer.error
    assert streamed.split() == answer.raw.split()  # what streamed is the answer (cut where it ran away)
    assert all(1 <= n <= len(answer.passages) for n in answer.cited), answer.raw
    assert "Question:" not in answer.text and "<passages>" not in answer.text
    if not label.startswith("smollm2"):  # SmolLM2-135M's wording and citations are never asserted
        assert "six hours" in answer.text.lower() or "6 hours" in answer.text, answer.text
        assert "garden/tomatoes.md" in [answer.passages[n - 1].chunk.path for n in answer.cited], answer.text


def test_the_readme_lists_every_bundled_model_in_its_machine_table():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Which model on which machine", 1)[1].split("\n## ", 1)[0]
    assert all(f"`{name}`" in table for name in local_llm.LOCAL_MODELS)
