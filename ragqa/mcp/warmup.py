"""The embedding model, loaded in the background while the server already answers its client.

Loading it (torch, then the weights) takes 5-15 s: longer than some clients wait for a server to start. So the
server answers at once and a thread loads the model meanwhile; a search that comes first waits for it (the
model is loaded once, under its lock). `state()` says where it is, for index_status.
"""
from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)


class Warmup:
    """Loads every embedder `served` uses (and opens each index) in a daemon thread, once `start()` is called."""

    def __init__(self, served):
        self.served = served
        self.started: float | None = None
        self.seconds: float | None = None
        self.problem: str | None = None

    def start(self) -> None:
        self.started = time.monotonic()
        threading.Thread(target=self._run, args=(self.started,), name="ragqa-warmup", daemon=True).start()

    def _run(self, started: float) -> None:
        from ragqa.errors import RagqaError

        try:
            for embedder in self.served.embedders():
                embedder.load()
        except Exception as err:  # noqa: BLE001 - said by index_status; a search then says it again, in its own words
            self.problem = f"{type(err).__name__}: {err}" if not isinstance(err, RagqaError) else str(err)
            log.warning("ragqa mcp: the embedding model did not load: %s", self.problem)
            return
        self.seconds = time.monotonic() - started
        log.info("ragqa mcp: embedding model loaded in %.1f s", self.seconds)
        for name in self.served.collections:  # the first search then finds its index open
            try:
                with self.served.index_of(name).reading():
                    pass
            except RagqaError:
                pass  # no index yet, or one being written: a search says so

    def state(self) -> str:
        """'loading in the background (3 s so far); a search waits for it', 'loaded (in 8.2 s)', 'failed: …'"""
        if self.problem:
            return f"failed to load: {self.problem}"
        if self.seconds is not None:
            return f"loaded (in {self.seconds:.1f} s)"
        if self.started is None:
            return "not loaded yet: the first search loads it"
        return (f"loading in the background ({time.monotonic() - self.started:.0f} s so far); "
                "a search waits for it")
