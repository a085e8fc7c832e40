"""Imports go one way, checked by import-linter's contracts in pyproject.toml (`lint-imports`, which `make test`
runs before the tests): ingest/ uses ragqa/, the core of ragqa/ never uses ingest/ or a face, each room imports
only the rooms below it, and every module of ragqa/ has its place in the layers.

Run here too, so a wrong import fails `pytest` (and `make test-fast`) with import-linter's own report.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers.data import REPO

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """`lint-imports` over the ragqa/ and ingest/ under `root`, with the contracts of its pyproject.toml."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--no-logo", "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_every_import_contract_is_kept():
    run = lint_imports(REPO)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def copy_of_the_code(tmp_path: Path) -> Path:
    for folder in ("ragqa", "ingest"):
        shutil.copytree(REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_a_room_importing_a_room_above_it_breaks_the_layers(tmp_path):
    root = copy_of_the_code(tmp_path)
    reader = root / "ragqa" / "index" / "reader.py"
    # inside a function, as the read path's helpers often are: it counts all the same
    reader.write_text(reader.read_text(encoding="utf-8") + "\n\ndef late():\n    from ragqa.retrieve import lexical\n",
                      encoding="utf-8")
    run = lint_imports(root)
    assert run.returncode != 0
    assert "ragqa.index is not allowed to import ragqa.retrieve" in run.stdout
    assert "ragqa.index.reader -> ragqa.retrieve.lexical" in run.stdout


def test_the_core_importing_ingest_breaks_a_contract(tmp_path):
    root = copy_of_the_code(tmp_path)
    (root / "ragqa" / "text.py").write_text((REPO / "ragqa" / "text.py").read_text(encoding="utf-8")
                                            + "\nimport ragqa.ingest.split  # noqa\n", encoding="utf-8")
    run = lint_imports(root)
    assert run.returncode != 0
    assert "ragqa.text is not allowed to import ragqa.ingest" in run.stdout


def test_a_new_module_must_be_given_a_layer(tmp_path):
    root = copy_of_the_code(tmp_path)
    (root / "ragqa" / "helpers.py").write_text('"""Placed nowhere."""\n', encoding="utf-8")
    run = lint_imports(root)
    assert run.returncode != 0
    assert "ragqa.helpers" in run.stdout
