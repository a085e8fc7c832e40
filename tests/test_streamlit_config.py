"""`streamlit run app.py` is as safe as `ragqa app`: .streamlit/config.toml keeps the app on this machine.

The file is read as TOML, then a real Streamlit server is started the plain way (no --server.address on
its command line) and must answer on 127.0.0.1 and refuse this machine's network address.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tomllib

import pytest

from helpers.data import REPO
from helpers.net import free_port, health, outside_address, wait_for_health

CONFIG = REPO / ".streamlit" / "config.toml"
STARTUP_SECONDS = 60  # a shared 2-core machine; the page itself (torch, models) only loads for a browser


@pytest.fixture
def plain_streamlit(tmp_path):
    """`streamlit run app.py` from the repo's root on a free port, over an empty index folder and no LLM;
    yields the port once /_stcore/health answers, and stops the server afterwards."""
    (tmp_path / "index").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGQA_")}
    env.update(RAGQA_INDEX_DIR=str(tmp_path / "index"), RAGQA_LLM__PROVIDER="none", HF_HUB_OFFLINE="1")
    port = free_port()
    log_path = tmp_path / "streamlit.log"
    with open(log_path, "wb") as log:
        app = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                                "--server.port", str(port)], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_health(f"http://127.0.0.1:{port}", app, log_path, STARTUP_SECONDS)
        yield port
    finally:
        app.terminate()
        try:
            app.wait(timeout=20)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()


def test_the_streamlit_config_listens_on_this_machine_only_and_sends_no_statistics():
    config = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    assert config["browser"]["gatherUsageStats"] is False


@pytest.mark.slow  # starts a real Streamlit server
def test_streamlit_run_app_py_answers_on_loopback_and_not_on_the_network(plain_streamlit):
    assert health(f"http://127.0.0.1:{plain_streamlit}") == "ok"
    outside = outside_address()
    if outside is None:
        pytest.skip("this machine has no non-loopback address to try")
    with pytest.raises(OSError):  # noqa: PT011 - refused or timed out: either way nothing answers there
        socket.create_connection((outside, plain_streamlit), timeout=2).close()
