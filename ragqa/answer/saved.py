"""Answers as saved turns (ragqa.index.history), and saved turns back as the conversation the answer loop
reads, so a resumed chat goes on exactly as if it had never stopped: its follow-ups are rewritten from the
same questions, and one over the same passages continues the same prompt.
"""
from __future__ import annotations

from dataclasses import asdict

from ragqa.index.history import Turn
from ragqa.records import Chunk


def turn_from_answer(answer, question: str | None = None) -> Turn:
    """The turn to keep for an Answer (ragqa.answer.loop): what was asked, searched, answered and cited."""
    shown = answer.as_json()
    entry = answer.history_entry()
    followup = None
    if "sent" in entry:  # a generated answer: what the next question needs to continue its prompt
        followup = {"sent": entry["sent"], "raw": entry["raw"], "texts": entry["texts"],
                    "retrieved_ids": [list(key) for key in entry["retrieved_ids"]],
                    "passages": [[i, s, asdict(c)] for i, s, c in entry["passages"]]}
    return Turn(question=question or answer.question, answer=answer.text, search_query=answer.search_query,
                citations=shown["citations"], sources=shown["sources"], model=answer.model,
                seconds=shown["seconds"], first_token_seconds=shown["first_token_seconds"],
                prompt_tokens=answer.prompt_tokens, error=answer.error, followup=followup)


def assistant_message(turn: Turn) -> dict:
    """The assistant's entry as `Answer.history_entry` made it."""
    entry = {"role": "assistant", "content": turn.answer}
    state = turn.followup
    if state:
        entry.update(sent=state["sent"], raw=state["raw"], texts=state["texts"],
                     retrieved_ids=[tuple(key) for key in state["retrieved_ids"]],
                     passages=[(i, s, Chunk(**c)) for i, s, c in state["passages"]])
    return entry


def conversation_messages(turns: list[Turn]) -> list[dict]:
    """The history the answer loop is given: each question, then its answer.

    >>> conversation_messages([Turn("Who owns a value?", "Its owner [1].")])
    [{'role': 'user', 'content': 'Who owns a value?'}, {'role': 'assistant', 'content': 'Its owner [1].'}]
    """
    messages: list[dict] = []
    for turn in turns:
        messages += [{"role": "user", "content": turn.question}, assistant_message(turn)]
    return messages


def answer_json(turn: Turn) -> dict:
    """A saved turn in the shape of `Answer.as_json` (what the faces draw an answer from)."""
    return {"answer": turn.answer, "citations": turn.citations, "sources": turn.sources, "model": turn.model,
            "prompt_tokens": turn.prompt_tokens or 0, "seconds": turn.seconds or 0.0,
            "first_token_seconds": turn.first_token_seconds, "generated": bool(turn.followup),
            "search_query": turn.search_query, "error": turn.error, "invalid_citations": [], "quoted": False}
