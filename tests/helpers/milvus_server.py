"""A real Milvus Lite server process (`python -m milvus_lite server`): what several ragqa processes share, through
the same client path as a Milvus standalone or cluster (`store.milvus_uri: http://127.0.0.1:PORT`)."""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from helpers.net import free_port


@contextmanager
def milvus_lite_server(data_dir: Path):
    """The server's URI while it runs; stopped (SIGTERM, then kill) afterwards."""
    port = free_port()
    log = data_dir.parent / f"{data_dir.name}.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data_dir),
                                   "--host", "127.0.0.1", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "the Milvus Lite server did not listen within 60 s"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(15)
