"""app.py in this process, through Streamlit's AppTest."""
from __future__ import annotations

from helpers.data import REPO

APP = str(REPO / "app.py")
APP_RUN_TIMEOUT = 90  # seconds per AppTest script run: the first one loads torch and MiniLM on a shared machine


def open_app():
    """app.py's first page, run by Streamlit's AppTest in this process (with the app_env fixture's environment)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=APP_RUN_TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at
