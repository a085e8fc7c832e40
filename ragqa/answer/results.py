"""What the read path hands the faces: the passages given to the model (`Given`) and the final `Answer`."""
from __future__ import annotations

from dataclasses import dataclass, field

from ragqa.answer.conversation import ChatMessage, Continuation
from ragqa.plan.question_plan import Plan
from ragqa.records import Hit


@dataclass
class Given:
    """What the model is given: passages numbered 1..n, what it reads of each, and each one's best sentence."""

    passages: list[Hit]
    texts: list[str]
    best: list[str]


@dataclass
class Answer:
    question: str
    text: str
    passages: list[Hit]  # numbered 1..n as in the prompt
    cited: list[int] = field(default_factory=list)  # passage numbers the answer cites
    invalid_citations: list[int] = field(default_factory=list)
    model: str = "retrieval only"
    generated: bool = False
    prompt_tokens: int = 0
    seconds: float = 0.0
    first_token_seconds: float | None = None  # from the question to the model's first words
    search_query: str = ""
    error: str | None = None  # set when the LLM failed; text then holds the retrieval-only answer
    best: list[str] = field(default_factory=list)  # per passage, the sentence matching the question best
    quoted: bool = False  # the model refused although a passage answers: a quotation was added
    raw: str = ""  # the model's own words, before the checks
    sent: list[dict] = field(default_factory=list)  # the messages the model answered
    texts: list[str] = field(default_factory=list)  # what the model read of each passage
    continued: bool = False  # a follow-up over the same passages, continuing the last turn's prompt
    retrieved_ids: list[tuple[str, int]] = field(default_factory=list)  # every passage found (Hit.key), best first
    plan: Plan = field(default_factory=Plan)  # what the planner understood (ragqa.plan); Plan() for a lookup

    def citation_rows(self) -> list[dict]:
        return [_row(n, self.passages[n - 1]) for n in self.cited]

    def uncited(self) -> list[tuple[int, Hit]]:
        return [(n, h) for n, h in enumerate(self.passages, 1) if n not in self.cited]

    def as_json(self) -> dict:
        """The `ragqa ask --json` contract."""
        return {
            "answer": self.text, "citations": self.citation_rows(),
            "sources": [{**_row(n, h), "score": round(h.score, 6), "cited": n in self.cited,
                         "best_sentence": self.best[n - 1] if n <= len(self.best) else ""}
                        for n, h in enumerate(self.passages, 1)],
            "model": self.model, "prompt_tokens": self.prompt_tokens, "seconds": round(self.seconds, 3),
            "first_token_seconds": None if self.first_token_seconds is None else round(self.first_token_seconds, 3),
            "generated": self.generated, "search_query": self.search_query, "error": self.error,
            "invalid_citations": self.invalid_citations, "quoted": self.quoted, "plan": self.plan.as_json(),
        }

    def as_message(self) -> ChatMessage:
        """The answer as the conversation keeps it for follow-ups: what was shown, and (when a model wrote it)
        what lets the next question over the same passages continue this prompt where the LLM server has it
        cached."""
        continuation = None
        if self.generated and self.sent:
            continuation = Continuation(sent=tuple(self.sent), raw=self.raw, texts=tuple(self.texts),
                                        retrieved_ids=tuple(self.retrieved_ids), passages=tuple(self.passages))
        return ChatMessage("assistant", self.text, continuation)


def _row(n: int, hit: Hit) -> dict:
    c = hit.chunk
    return {"n": n, "path": c.path, "heading": c.heading, "page": c.page, "text": c.text,
            "collection": c.collection or None}
