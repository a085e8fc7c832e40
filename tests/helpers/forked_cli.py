"""Run the real `ragqa` CLI in child processes that start in a fraction of a second (where a separate process
is the point of the test; otherwise helpers.cli runs it in the test's own process, sharing its loaded models).

A fresh `python -m ragqa ingest` spends ~8 s (on 2 shared cores) importing torch, transformers and
sentence-transformers before it does anything. The crash test starts two dozen of them (and the LLM-failure
test nine), so they fork each one from a multiprocessing fork server that has imported those modules once.
The child then runs exactly what the console script runs, `ragqa.cli.main(argv)`, in its own process with its
own environment, working folder and log: it loads the model, takes the write lock, embeds and commits on its
own, and `kill -9` kills only it.
The server never runs a model (no OpenMP or tokenizer threads exist when it forks).
"""
from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from ragqa.cli import COMMAND_MODULES

TESTS = Path(__file__).resolve().parents[1]  # tests/: helpers.forked_cli is imported from there
# What a `ragqa` command imports before it does anything. The server lives until pytest exits.
PRELOAD = ["helpers.forked_cli", "ragqa.cli", *COMMAND_MODULES, "ragqa.ingest.pipeline", "sentence_transformers"]


def run_cli(argv: list[str], cwd: str, env: dict[str, str], stdout: str, stderr: str, stdin: str | None) -> None:
    """The child: `ragqa ARGV` writing to the files `stdout` and `stderr` (may be the same), reading the file
    or FIFO `stdin` (default: none); its exit code is the process's."""
    # Ctrl-C (SIGINT) stops it as in a terminal: the server passes on the SIGINT handling it started with,
    # which is "ignore" when pytest runs from a background shell.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    def open_for_writing(path: str) -> int:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)

    os.dup2(open_for_writing(stdout), 1)
    os.dup2(1 if stderr == stdout else open_for_writing(stderr), 2)
    if stdin is not None:  # (multiprocessing gave the child /dev/null)
        os.dup2(os.open(stdin, os.O_RDONLY), 0)
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # the process's own stdin
    from ragqa.cli import main

    from helpers.hash_embedder import register

    register()  # `embedding.model: hash-embedder`, as in the tests' own process
    try:
        code = main(argv)
    finally:  # the console script runs these at exit (e.g. stopping a local LLM server it started); a
        atexit._run_exitfuncs()  # multiprocessing child would not
    sys.exit(code)


class ForkedCli:
    """A started `ragqa ARGV` child with the parts of subprocess.Popen the tests use."""

    def __init__(self, process: multiprocessing.Process, args: list[str], log: Path):
        self.process, self.args, self.log = process, args, log

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        return self.process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self.process.join(timeout)
        if self.process.exitcode is None:
            raise TimeoutError(f"ragqa {' '.join(self.args)} still runs after {timeout} s")
        return self.process.exitcode

    def kill(self) -> None:
        if self.process.exitcode is None:
            self.process.kill()


def start(argv: list[str], cwd: Path, env: dict[str, str], log: Path, stderr: Path | None = None,
          stdin: Path | None = None) -> ForkedCli:
    """Fork `ragqa ARGV` from the fork server (started on first use); its output goes to `log` (and its
    stderr to `stderr`, if given); it reads `stdin` (a file or a FIFO), if given."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    process = context.Process(target=run_cli, args=(argv, str(cwd), env, str(log), str(stderr or log),
                                                   None if stdin is None else str(stdin)),
                              daemon=True)
    # The server imports this module by name, and Python 3.11's fork server ignores the parent's sys.path:
    # PYTHONPATH names this folder while the server starts (on the first start), and is restored after.
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), saved) if p)
    try:
        process.start()
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = saved
    return ForkedCli(process, argv, log)


def run(argv: list[str], env: dict[str, str] | None = None, timeout: float = 600,
        cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Like subprocess.run(["ragqa", *argv], env=env, cwd=cwd, input=stdin, capture_output=True, text=True),
    forked (env: this process's, by default)."""
    with tempfile.TemporaryDirectory(prefix="ragqa-cli-") as tmp:
        out, err, typed = Path(tmp) / "stdout", Path(tmp) / "stderr", None
        if stdin is not None:
            typed = Path(tmp) / "stdin"
            typed.write_text(stdin, encoding="utf-8")
        child = start(argv, cwd or Path.cwd(), dict(os.environ) if env is None else env, out, err, typed)
        try:
            code = child.wait(timeout)
        finally:
            child.kill()
        return subprocess.CompletedProcess(["ragqa", *argv], code, out.read_text(), err.read_text())
