"""Read documents (PDFs, office files, e-books, web pages, email, images) in a child process, so one
pathological file cannot hang or crash an ingest.

pypdf is pure Python: a crafted or badly broken file can keep it busy for hours,
and a thread cannot be stopped. A child process can; and a crash in a C library
(lxml, onnxruntime, an image decoder) kills the child, not the ingest. Each file
gets `pdf.timeout_seconds`, plus `ocr.timeout_seconds` when it may need OCR; a
child that overruns is killed (and a new one started for the next file), and the
file is skipped with that reason.

One child serves every document of an ingest, because starting Python and the
readers costs more (~0.3 s) than reading most files; a folder of notes starts none.
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

from ragqa.ingest.documents import Document, SkipFile
from ragqa.ingest.formats import ReadOptions

_HEADER = 8  # bytes of the length prefix of each reply
_ROOT = Path(__file__).resolve().parents[1]  # the folder holding the `ingest` package


def timeout_reason(seconds: float, kind: str = "pdf", ocr: bool = False) -> str:
    """The skip reason for a file that ran out of time.

    >>> timeout_reason(60.0)
    'PDF extraction took longer than 60 s (pdf.timeout_seconds)'
    >>> timeout_reason(180.0, "image", ocr=True)  # the child asked for OCR's allowance
    'reading took longer than 180 s (pdf.timeout_seconds + ocr.timeout_seconds)'
    """
    what = "PDF extraction" if kind == "pdf" else "reading"
    limit = "pdf.timeout_seconds + ocr.timeout_seconds" if ocr else "pdf.timeout_seconds"
    return f"{what} took longer than {seconds:g} s ({limit})"


class DocumentWorker:
    """`load(path, rel, kind)` is `ragqa.ingest.formats.read_document` with a time limit. Thread-safe."""

    def __init__(self, timeout_seconds: float, options: ReadOptions | None = None):
        self.timeout = float(timeout_seconds)
        self.options = options or ReadOptions()
        self._child: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self.started = 0  # children started so far (one, unless some were killed)

    def __enter__(self) -> DocumentWorker:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def load(self, path: Path, rel: str, kind: str = "pdf") -> Document:
        with self._lock:
            child = self._child if self._child and self._child.poll() is None else self._start()
            assert child.stdin is not None  # noqa: S101 - typing: started with stdin=PIPE
            try:
                pickle.dump((str(path), rel, kind, self.options), child.stdin)
                child.stdin.flush()
            except (BrokenPipeError, OSError):
                self._kill()
                raise SkipFile(_died(child)) from None
            outcome, value = self._reply(child, kind)
        if outcome == "ok":
            return value
        if outcome == "skip":
            raise SkipFile(value)
        raise SkipFile(f"broken {'PDF' if kind == 'pdf' else kind + ' file'}: {value}")

    def _start(self) -> subprocess.Popen:
        self._kill()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")]))}
        self._child = subprocess.Popen(  # noqa: S603 - this module, in our own interpreter
            [sys.executable, "-m", "ragqa.ingest.worker", str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
        )
        self.started += 1
        return self._child

    def _reply(self, child: subprocess.Popen, kind: str):
        """The child's answer, or SkipFile when the time is up (the child is then killed) or the child died.

        A child that starts OCR says so first ("more", seconds): OCR has its own allowance
        (ocr.timeout_seconds), so a scanned PDF is not cut off at the text-extraction limit."""
        start, allowed, extended = time.monotonic(), self.timeout, False
        while True:
            message = self._read(child, start + allowed, timeout_reason(allowed, kind, extended))
            if message[0] != "more":
                return message
            allowed += message[1]
            extended = True

    def _read(self, child: subprocess.Popen, deadline: float, late: str):
        """One message from the child."""
        assert child.stdout is not None  # noqa: S101 - typing: started with stdout=PIPE
        fd = child.stdout.fileno()
        data = bytearray()
        size = None
        while size is None or len(data) < _HEADER + size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._kill()
                raise SkipFile(late)
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            block = os.read(fd, _HEADER + size - len(data) if size is not None else _HEADER - len(data))
            if not block:
                self._kill()
                raise SkipFile(_died(child))
            data += block
            if size is None and len(data) >= _HEADER:
                size = int.from_bytes(data[:_HEADER], "big")
        return pickle.loads(bytes(data[_HEADER:]))  # noqa: S301 - our own child's reply, over its own pipe

    def _kill(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        if child.poll() is None:
            child.kill()
        child.wait()
        for pipe in (child.stdin, child.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass

    def close(self) -> None:
        """Stop the child at once; a file still being read in another thread is not waited for."""
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
    return f"the document reader crashed on this file ({how})"


# ---- the child -----------------------------------------------------------------------------

def _exit_with_parent(parent: int) -> None:
    """Once the ingest that started us is gone (even by kill -9), stop: nobody wants the answer."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main() -> None:
    from ragqa.ingest.formats import on_ocr_start, read_document
    from ragqa.ingest.reasons import one_line

    replies = os.fdopen(os.dup(1), "wb")

    def send(message) -> None:
        data = pickle.dumps(message)
        replies.write(len(data).to_bytes(_HEADER, "big") + data)
        replies.flush()

    on_ocr_start(lambda seconds: send(("more", seconds)))
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # a stray print (Python or C) must never corrupt a reply
    threading.Thread(target=_exit_with_parent, args=(int(sys.argv[1]),), daemon=True).start()
    requests = sys.stdin.buffer
    while True:
        try:
            path, rel, kind, options = pickle.load(requests)  # noqa: S301 - from the parent that started us
        except EOFError:
            return
        reply: tuple[str, Document | str]
        try:
            reply = ("ok", read_document(Path(path), rel, kind, options))
        except SkipFile as skip:
            reply = ("skip", str(skip))
        except BaseException as err:  # noqa: BLE001 - MemoryError, RecursionError...: this file only
            reply = ("error", one_line(err))
        send(reply)


if __name__ == "__main__":
    main()
