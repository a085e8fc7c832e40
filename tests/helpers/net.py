"""Ports, and waiting for a server to answer."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def health(url: str) -> str | None:
    """What a Streamlit server at `url` says on /_stcore/health ("ok"), or None if it does not answer."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
            return reply.read().decode()
    except OSError:
        return None


def wait_for_health(url: str, server: subprocess.Popen, log: Path, timeout: float) -> None:
    """Until the Streamlit `server` answers at `url`; fails with the end of its `log` if it exits first."""
    deadline = time.monotonic() + timeout
    while health(url) != "ok":
        exited = server.poll() is not None
        assert not exited, f"the server exited ({server.returncode}): {log.read_text(errors='replace')[-2000:]}"
        assert time.monotonic() < deadline, f"no answer on {url}/_stcore/health in {timeout} s"
        time.sleep(0.5)


def outside_address() -> str | None:
    """This machine's address on its default route, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("10.255.255.255", 1))
            address = sock.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def stop_group(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM the process's group (a server and the local LLM server it started), as a service manager stops
    it; SIGKILL if it lingers past `timeout` seconds."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
