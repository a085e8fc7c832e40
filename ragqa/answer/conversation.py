"""The conversation the answer loop is given: each earlier question and answer, as typed messages.

    history = [ChatMessage.user("How do I grow tomatoes?"), answer.as_message()]
    answer_events("and its pests?", ..., history=history)

An answer the model wrote carries its `Continuation`: what lets the next question over the same passages
continue that prompt, which the LLM server still has cached (ragqa.answer.prompt.continue_from). A saved
conversation keeps it as JSON in history.sqlite (`as_json`, `from_json`: ragqa.answer.saved).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from ragqa.records import Chunk, Hit

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Continuation:
    """An answer's prompt, as the next question over the same passages continues it."""

    sent: tuple[dict, ...]  # the chat messages the model answered ({"role", "content"}: what a chat model reads)
    raw: str  # the model's own words, before ragqa's checks
    texts: tuple[str, ...]  # what it read of each passage
    retrieved_ids: tuple[tuple[str, int], ...]  # every passage the search found (Hit.key), best first
    passages: tuple[Hit, ...]  # those it was given, numbered 1..n in this order

    def as_json(self) -> dict:
        """The form a saved turn keeps (history.sqlite's `followup`); `from_json` reads it back."""
        return {"sent": list(self.sent), "raw": self.raw, "texts": list(self.texts),
                "retrieved_ids": [list(key) for key in self.retrieved_ids],
                "passages": [[h.chunk_id, h.score, asdict(h.chunk)] for h in self.passages]}

    @classmethod
    def from_json(cls, data: dict) -> Continuation:
        return cls(sent=tuple(data["sent"]), raw=data["raw"], texts=tuple(data["texts"]),
                   retrieved_ids=tuple((str(c), int(i)) for c, i in data["retrieved_ids"]),
                   passages=tuple(Hit(i, s, Chunk(**c)) for i, s, c in data["passages"]))


@dataclass(frozen=True)
class ChatMessage:
    """One message of the conversation so far: a question (`user`) or an answer as shown (`assistant`), with
    the answer's Continuation when a model wrote it."""

    role: Role
    content: str
    continuation: Continuation | None = None

    @classmethod
    def user(cls, question: str) -> ChatMessage:
        return cls("user", question)

    def as_chat(self) -> dict:
        """As a chat model reads an earlier turn: {"role", "content"} (the continuation stays here).

        >>> ChatMessage.user("Who owns a value?").as_chat()
        {'role': 'user', 'content': 'Who owns a value?'}
        """
        return {"role": self.role, "content": self.content}

