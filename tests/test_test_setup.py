"""The test set-up's own rules (tests/conftest.py), checked on a tiny test file run by pytest in a child process."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
NEEDS_DATA = '''
import os

import pytest
from helpers.data import need_shared


def test_calls_need_shared():
    assert "RAGQA_SHARED_DATA" not in os.environ  # cleared for the test, yet read by helpers.data at import
    need_shared("pdfs")


@pytest.mark.shared_data("pdfs")
def test_marked_shared_data():
    pass
'''


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 failed, 1 error"), (None, "2 skipped")])
def test_absent_shared_data_is_skipped_but_fails_under_ci(tmp_path, ci, outcome):
    (tmp_path / "test_needs_data.py").write_text(NEEDS_DATA)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    shared_data: needs ../shared/data\n")
    empty = tmp_path / "no-data"
    empty.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    path = os.pathsep.join(p for p in (str(TESTS), os.environ.get("PYTHONPATH")) if p)
    env.update(RAGQA_SHARED_DATA=str(empty), PYTHONPATH=path, **({"CI": ci} if ci else {}))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider", "-p", "conftest",
                          "test_needs_data.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.stdout.strip().splitlines()[-1].startswith(outcome), run.stdout + run.stderr
    absent = f"{empty / 'pdfs'} is absent"
    if ci:
        assert run.returncode == 1
        assert f"{absent} and CI=true needs it" in run.stdout and "Traceback" not in run.stdout, run.stdout
    else:
        assert run.returncode == 0 and absent in run.stdout, run.stdout
