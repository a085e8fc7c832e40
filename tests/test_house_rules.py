"""House rules a reader cannot see at a glance, checked on the code itself.

- No module's globals are changed at run time by another module: a setting travels as an argument (an options
  object), so two callers in one process (the benches' variants, two browser sessions) never see each other's.
- A model cache shared by threads is filled under a lock: two threads asking at once get one model, loaded once.
- Commands return data and the faces print it: nothing in ragqa/ captures what was printed to read it back.
"""
from __future__ import annotations

import ast
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CODE = ["ragqa", "ingest", "bench", "app.py"]


def python_files():
    for place in CODE:
        path = REPO / place
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


OURS = ("ragqa", "ingest", "bench", "app")


def imported_names(tree: ast.AST) -> set[str]:
    """The names a file binds by importing this project's modules (a module, or anything `from` one). A
    library's own configuration objects (LlamaIndex's `Settings.llm = None`) are its business."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name.split(".")[0] in OURS)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in OURS:
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def another_modules_globals_set(source: str) -> list[str]:
    """`module.NAME = …` (or `setattr(module, …)`) where `module` was imported: another module's global set."""
    tree = ast.parse(source)
    imported = imported_names(tree)
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr" \
                and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in imported:
            found.append(f"line {node.lineno}: setattr({node.args[0].id}, …)")
        for target in targets:
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                    and target.value.id in imported:
                found.append(f"line {node.lineno}: {target.value.id}.{target.attr} = …")
    return found


def test_no_module_sets_another_modules_globals():
    offences = [f"{path.relative_to(REPO)} {where}" for path in python_files()
                for where in another_modules_globals_set(path.read_text(encoding="utf-8"))]
    assert offences == [], "pass an options object instead (e.g. ragqa.answer.focus.FocusOptions)"


def test_the_rule_sees_a_bench_changing_a_constant():
    assert another_modules_globals_set("from ragqa.answer import focus\nfocus.RANK_WEIGHT = 0.3\n") == \
        ["line 2: focus.RANK_WEIGHT = …"]
    assert another_modules_globals_set("import ragqa.answer.focus as f\nsetattr(f, 'RANK_WEIGHT', 1)\n") == \
        ["line 2: setattr(f, …)"]
    # an object's own attributes are not a module's globals, nor is a library's own settings object
    assert another_modules_globals_set("def f(embedder):\n    embedder.model.max_seq_length = 256\n") == []
    assert another_modules_globals_set("from llama_index.core import Settings\nSettings.llm = None\n") == []


class SlowModel:
    """A model whose loading takes a while, counting how often it is loaded."""

    loads = 0

    def __init__(self, *args):
        type(self).loads += 1
        time.sleep(0.2)


def loaded_at_once(load, threads: int = 4) -> list:
    got: list = []
    workers = [threading.Thread(target=lambda: got.append(load())) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return got


def test_threads_asking_for_one_embedding_model_at_once_load_it_once(monkeypatch):
    from ragqa.config import EmbeddingSettings
    from ragqa.models import embedder

    monkeypatch.setattr(embedder, "_LOADED", {})
    monkeypatch.setattr(embedder, "SentenceTransformerEmbedder", type("Slow", (SlowModel,), {"loads": 0}))
    got = loaded_at_once(lambda: embedder.load_embedder(EmbeddingSettings(model="all-MiniLM-L6-v2")))
    assert embedder.SentenceTransformerEmbedder.loads == 1
    assert len({id(model) for model in got}) == 1


@pytest.mark.parametrize("engine", ["rapidocr"])
def test_threads_asking_for_one_ocr_engine_at_once_load_it_once(monkeypatch, engine):
    from ragqa.ingest.formats import ocr

    monkeypatch.setattr(ocr, "_LOADED", {})
    monkeypatch.setattr(ocr, "RapidOcrEngine", type("Slow", (SlowModel,), {"loads": 0}))
    got = loaded_at_once(lambda: ocr.ocr_engine(engine))
    assert ocr.RapidOcrEngine.loads == 1
    assert len({id(model) for model in got}) == 1


def test_no_output_is_captured_to_be_read_back():
    captured = [f"{path.relative_to(REPO)}:{n}" for path in sorted((REPO / "ragqa").rglob("*.py"))
                for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if "redirect_stdout" in line or "redirect_stderr" in line]
    assert captured == [], "return the data (ragqa.cli.collection_args.Output) and let the face print it"


def test_sentences_are_split_in_one_place():
    """ragqa.text says what a sentence is; chunking, citations, refusals, the focus step and the extractive
    answer all ask it (a second rule would cut the same text differently in two places)."""
    rule = ("[.!?", "(?<=[.!?")
    elsewhere = [f"{path.relative_to(REPO)}:{n}" for place in ("ragqa", "ingest")
                 for path in sorted((REPO / place).rglob("*.py")) if path != REPO / "ragqa" / "text.py"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if any(r in line for r in rule)]
    assert elsewhere == [], "use ragqa.text (sentences, sentence_spans, sentence_ends)"


def test_a_conversation_crosses_modules_typed():
    """The conversation the answer loop reads is ragqa.answer.conversation's ChatMessage and Continuation; the
    keys of the continuation's saved JSON are spelled out there alone, not agreed on between modules."""
    keys = ('"sent"', '"retrieved_ids"', "'sent'", "'retrieved_ids'")
    own = REPO / "ragqa" / "answer" / "conversation.py"
    spelled = [f"{path.relative_to(REPO)}:{n}" for place in ("ragqa", "ingest", "bench")
               for path in sorted((REPO / place).rglob("*.py")) if path != own
               for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
               if any(k in line for k in keys)]
    assert spelled == [], "use ragqa.answer.conversation (ChatMessage, Continuation)"
