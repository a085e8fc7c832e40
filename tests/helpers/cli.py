"""`ragqa ARGV` in this process: the console script's own `ragqa.cli.main(argv)`, with its stdout, stderr and
logging captured, under the environment and working folder given, for the duration of the call.

The tests' usual way to run the CLI: it shares the session's loaded models (a fresh `ragqa` process spends
5-15 s importing torch and loading one). Use helpers.forked_cli (a real child process, started in under a
second) only where a separate process is the point: kill -9, Ctrl-C, two processes at once, a long-running
command (watch), or what a fresh interpreter imports.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
from pathlib import Path


def run(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
        stdin: str = "") -> subprocess.CompletedProcess:
    """Like subprocess.run(["ragqa", *argv], env=env, cwd=cwd, input=stdin, capture_output=True, text=True).
    env: the whole environment during the call (default: this process's)."""
    from ragqa.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    root = logging.getLogger()
    saved_level = root.level
    # What main's logging.basicConfig would set up in a fresh process (here pytest's handlers make it a no-op).
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(message)s"))
    verbose = "-v" in argv or "--verbose" in argv
    try:
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        root.addHandler(handler)
        root.setLevel(logging.INFO if verbose else logging.WARNING)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                _stdin(io.StringIO(stdin)):
            try:
                code = main(list(argv))
            except SystemExit as exit:  # argparse: a usage error (2) or --help (0)
                code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
                if not isinstance(exit.code, int | None):
                    print(exit.code, file=sys.stderr)
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(["ragqa", *argv], code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _stdin(stream):
    saved, sys.stdin = sys.stdin, stream
    try:
        yield
    finally:
        sys.stdin = saved
