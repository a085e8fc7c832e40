"""A chat model made when it is first asked to write: a question answered from the index's catalog (how many
notes, which notes, what links where) never starts the local model, nor waits for it."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from ragqa.models.chat import ChatModel


class LazyChatModel:
    """The ChatModel protocol over `make()`, called once, on the first stream, complete or check. Whether it
    `generates` is known without making it (`llm.provider` is not none)."""

    def __init__(self, make: Callable[[], ChatModel], generates: bool):
        self._make, self._generates = make, generates
        self._made: ChatModel | None = None
        self._making = threading.Lock()  # two requests at once start one server

    @property
    def model(self) -> ChatModel:
        with self._making:
            if self._made is None:
                self._made = self._make()
            return self._made

    @property
    def generates(self) -> bool:
        return self._generates if self._made is None else self._made.generates

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def last_usage(self) -> dict | None:
        return None if self._made is None else self._made.last_usage

    @property
    def problem(self) -> str | None:
        return None if self._made is None else getattr(self._made, "problem", None)

    def stream(self, messages: list[dict], max_tokens: int | None = None) -> Iterator[str]:
        return self.model.stream(messages, max_tokens)

    def complete(self, messages: list[dict], max_tokens: int | None = None) -> str:
        return self.model.complete(messages, max_tokens)

    def check(self) -> str | None:
        return self.model.check()
