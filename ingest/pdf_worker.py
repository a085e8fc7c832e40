"""Read PDFs in a child process, so one pathological PDF cannot hang or crash an ingest.

pypdf is pure Python: a crafted or badly broken file can keep it busy for hours,
and a thread cannot be stopped. A child process can. Each PDF gets
`pdf.timeout_seconds`; a child that overruns is killed (and a new one started
for the next PDF), and the file is skipped with that reason.

One child serves every PDF of an ingest, because starting Python and pypdf
costs more (~0.3 s) than reading most PDFs; a folder without PDFs starts none.
Requests and replies are pickled over the child's stdin and a private copy of
its stdout; whatever the child prints goes to /dev/null, never into the reply.
"""
from __future__ import annotations

import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ingest.documents import Document, SkipFile

_HEADER = 8  # bytes of the length prefix of each reply
_ROOT = Path(__file__).resolve().parents[1]  # the folder holding the `ingest` package


def timeout_reason(seconds: float) -> str:
    """The skip reason for a PDF that ran out of time.

    >>> timeout_reason(60.0)
    'PDF extraction took longer than 60 s (pdf.timeout_seconds)'
    """
    return f"PDF extraction took longer than {seconds:g} s (pdf.timeout_seconds)"


class PdfWorker:
    """`load(path, rel, passwords)` is `ingest.pdf.load_pdf` with a time limit. Thread-safe."""

    def __init__(self, timeout_seconds: float):
        self.timeout = float(timeout_seconds)
        self._child: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self.started = 0  # children started so far (one, unless some were killed)

    def __enter__(self) -> PdfWorker:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def load(self, path: Path, rel: str, passwords: dict[str, str] | None = None) -> Document:
        with self._lock:
            child = self._child if self._child and self._child.poll() is None else self._start()
            try:
                pickle.dump((str(path), rel, dict(passwords or {})), child.stdin)
                child.stdin.flush()
            except (BrokenPipeError, OSError):
                self._kill()
                raise SkipFile(_died(child)) from None
            reply = self._read(child)
        kind, value = reply
        if kind == "ok":
            return value
        if kind == "skip":
            raise SkipFile(value)
        raise SkipFile(f"broken PDF: {value}")

    def _start(self) -> subprocess.Popen:
        self._kill()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")]))}
        self._child = subprocess.Popen(
            [sys.executable, "-m", "ingest.pdf_worker", str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
        )
        self.started += 1
        return self._child

    def _read(self, child: subprocess.Popen):
        """One reply, or SkipFile when the time is up (the child is then killed) or the child died."""
        fd = child.stdout.fileno()
        deadline = time.monotonic() + self.timeout
        data = bytearray()
        size = None
        while size is None or len(data) < _HEADER + size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._kill()
                raise SkipFile(timeout_reason(self.timeout))
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            block = os.read(fd, 1 << 20)
            if not block:
                self._kill()
                raise SkipFile(_died(child))
            data += block
            if size is None and len(data) >= _HEADER:
                size = int.from_bytes(data[:_HEADER], "big")
        return pickle.loads(bytes(data[_HEADER:_HEADER + size]))

    def _kill(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        if child.poll() is None:
            child.kill()
        child.wait()
        for pipe in (child.stdin, child.stdout):
            try:
                pipe.close()
            except OSError:
                pass

    def close(self) -> None:
        """Stop the child at once; a PDF still being read in another thread is not waited for."""
        if self._lock.acquire(timeout=0.1):
            try:
                self._kill()
            finally:
                self._lock.release()
        elif self._child is not None and self._child.poll() is None:
            self._child.kill()  # the reading thread sees the pipe close and cleans up


def _died(child: subprocess.Popen) -> str:
    code = child.wait()
    how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
    return f"the PDF reader crashed on this file ({how})"


# ---- the child -----------------------------------------------------------------------------

def _exit_with_parent(parent: int) -> None:
    """Once the ingest that started us is gone (even by kill -9), stop: nobody wants the answer."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main() -> None:
    from ingest.pdf import load_pdf, one_line

    replies = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # a stray print (Python or C) must never corrupt a reply
    threading.Thread(target=_exit_with_parent, args=(int(sys.argv[1]),), daemon=True).start()
    requests = sys.stdin.buffer
    while True:
        try:
            path, rel, passwords = pickle.load(requests)
        except EOFError:
            return
        try:
            reply = ("ok", load_pdf(Path(path), rel, passwords))
        except SkipFile as skip:
            reply = ("skip", str(skip))
        except BaseException as err:  # MemoryError, RecursionError...: this file only
            reply = ("error", one_line(err))
        data = pickle.dumps(reply)
        replies.write(len(data).to_bytes(_HEADER, "big") + data)
        replies.flush()


if __name__ == "__main__":
    main()
