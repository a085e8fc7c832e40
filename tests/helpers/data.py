"""Where the repository and the shared real data are, and the rule for tests that need the data."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Read once, at import: every RAGQA_* variable is cleared before each test (conftest's no_ragqa_variables).
SHARED_DATA = Path(os.environ.get("RAGQA_SHARED_DATA") or REPO.parent / "shared" / "data")


def need_shared(name: str) -> Path:
    """../shared/data/NAME (or $RAGQA_SHARED_DATA/NAME). If it is absent the test is skipped, except under
    CI=true, where it fails: a CI run must not pass by skipping every test on real data. (Or mark the test
    @pytest.mark.shared_data("NAME"): the same rule, before the test.)"""
    path = SHARED_DATA / name
    if not path.exists():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{path} is absent and CI=true needs it: put ../shared/data beside the repo, or set "
                        "RAGQA_SHARED_DATA", pytrace=False)
        pytest.skip(f"{path} is absent (../shared/data is beside the repo only in CI and dev; or set "
                    "RAGQA_SHARED_DATA)")
    return path
