"""Answers as saved turns (ragqa.index.history), and saved turns back as the conversation the answer loop
reads (ragqa.answer.conversation), so a resumed chat goes on exactly as if it had never stopped: its
follow-ups are rewritten from the same questions, and one over the same passages continues the same prompt.
"""
from __future__ import annotations

from ragqa.answer.conversation import ChatMessage, Continuation
from ragqa.index.history import Turn


def turn_from_answer(answer, question: str | None = None) -> Turn:
    """The turn to keep for an Answer (ragqa.answer.loop): what was asked, searched, answered and cited."""
    shown = answer.as_json()
    continuation = answer.as_message().continuation  # a generated answer's: what the next question continues
    followup = continuation.as_json() if continuation is not None else None
    return Turn(question=question or answer.question, answer=answer.text, search_query=answer.search_query,
                citations=shown["citations"], sources=shown["sources"], model=answer.model,
                seconds=shown["seconds"], first_token_seconds=shown["first_token_seconds"],
                prompt_tokens=answer.prompt_tokens, error=answer.error, followup=followup)


def assistant_message(turn: Turn) -> ChatMessage:
    """The saved answer as `Answer.as_message` made it."""
    continuation = Continuation.from_json(turn.followup) if turn.followup else None
    return ChatMessage("assistant", turn.answer, continuation)


def conversation_messages(turns: list[Turn]) -> list[ChatMessage]:
    """The history the answer loop is given: each question, then its answer.

    >>> [m.as_chat() for m in conversation_messages([Turn("Who owns a value?", "Its owner [1].")])]
    [{'role': 'user', 'content': 'Who owns a value?'}, {'role': 'assistant', 'content': 'Its owner [1].'}]
    """
    messages: list[ChatMessage] = []
    for turn in turns:
        messages += [ChatMessage.user(turn.question), assistant_message(turn)]
    return messages


def answer_json(turn: Turn) -> dict:
    """A saved turn in the shape of `Answer.as_json` (what the faces draw an answer from)."""
    return {"answer": turn.answer, "citations": turn.citations, "sources": turn.sources, "model": turn.model,
            "prompt_tokens": turn.prompt_tokens or 0, "seconds": turn.seconds or 0.0,
            "first_token_seconds": turn.first_token_seconds, "generated": bool(turn.followup),
            "search_query": turn.search_query, "error": turn.error, "invalid_citations": [], "quoted": False}
