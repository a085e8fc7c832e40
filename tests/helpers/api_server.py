"""A real `ragqa serve` process for the API tests (test_api, test_history_api): started on a free port with
its own config.yaml, spoken to over plain HTTP or by the CLI with the same config, stopped by SIGTERM."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from helpers.local_model import SMOLLM2, running_server_pid
from helpers.net import free_port, stop_group

TOKEN_ENV = "RAGQA_TEST_API_TOKEN"
LLM = SMOLLM2


class Server:
    def __init__(self, tmp: Path, settings: dict, token: str | None = None, options: tuple[str, ...] = ()):
        self.tmp, self.settings, self.token = tmp, settings, token
        self.config = tmp / "config.yaml"
        self.config.write_text(yaml.safe_dump(settings))
        self.env = {**os.environ, "RAGQA_CONFIG": str(self.config), "HF_HUB_OFFLINE": "1"}
        self.env.pop(TOKEN_ENV, None)
        if token:
            self.env[TOKEN_ENV] = token
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "serve.log"
        with open(self.log, "wb") as out:
            command = [sys.executable, "-m", "ragqa", *options, "serve", "--port", str(self.port)]
            self.process = subprocess.Popen(command, cwd=tmp, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + 120
        while True:
            assert self.process.poll() is None, self.log.read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "ragqa serve did not answer in 120 s"
            try:
                if self.request("GET", "/v1/models", timeout=2)[0] == 200:
                    break
            except OSError:
                time.sleep(0.3)

    def request(self, method: str, path: str, body=None, token: str | None = "default", timeout: float = 120,
                raw: bytes | None = None, headers: dict | None = None) -> tuple[int, object]:
        """(status, parsed JSON body) of one plain HTTP request; `headers` add to (or, as None values, remove)
        the JSON Content-Type and the token's Authorization."""
        token = self.token if token == "default" else token
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        given, headers = headers or {}, {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        headers = {k: v for k, v in {**headers, **given}.items() if v is not None}
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                return reply.status, json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def cli(self, *argv: str):
        """`ragqa ARGV` as a user runs it, with this server's config; its JSON output."""
        out = subprocess.run([sys.executable, "-m", "ragqa", *argv], env=self.env, cwd=self.tmp, capture_output=True,
                             text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-800:]
        return json.loads(out.stdout)

    def cli_text(self, *argv: str) -> str:
        """What `ragqa ARGV` prints, with this server's config and environment."""
        out = subprocess.run([sys.executable, "-m", "ragqa", *argv], env=self.env, cwd=self.tmp, capture_output=True,
                             text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-800:]
        return out.stdout + out.stderr

    def local_llm_pid(self) -> int | None:
        """The local LLM server this server started, if it runs (its state file in embedding.cache_dir)."""
        return running_server_pid(self.settings["embedding"]["cache_dir"], LLM)

    def stop(self) -> int | None:
        """SIGTERM, as a service manager stops it; the pid of a local LLM server it left running, if any."""
        stop_group(self.process)
        left = self.local_llm_pid() if self.settings["llm"]["provider"] == "local" else None
        if left:  # stopped here all the same, so no test leaves it behind
            from ragqa.config import LLMSettings
            from ragqa.models.local import stop_local_server

            stop_local_server(LLMSettings(**self.settings["llm"]), self.settings["embedding"]["cache_dir"])
        return left


def serve_settings(tmp: Path, llm: dict, model: str = "all-MiniLM-L6-v2", **extra) -> dict:
    """config.yaml for a server over tmp/notes, its index in tmp/index, MiniLM (or `model`), and this `llm`."""
    return {"notes_dir": str(tmp / "notes"), "index_dir": str(tmp / "index"),
            # MiniLM has no prompts of its own: E5's are set, so query and passage vectors differ as with E5
            "embedding": {"model": model, "cache_dir": str(tmp / "cache"), "query_prefix": "query: ",
                          "passage_prefix": "passage: "}, "llm": llm, **extra}
