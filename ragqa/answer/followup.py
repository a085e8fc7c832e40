"""Follow-up questions ("what about its price?") become standalone search queries.

The LLM rewrites the question from the conversation; if it cannot (a model that does not
generate, an error, a silly reply), a heuristic joins the previous question to this one.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from ragqa.answer.citations import CITATION, content_words
from ragqa.answer.conversation import ChatMessage
from ragqa.errors import LLMError
from ragqa.models.chat import RETRIEVAL_ONLY, ChatModel

REWRITE_PROMPT = (
    "Rewrite the user's last question as one standalone search query that can be understood "
    "without the conversation: replace pronouns with the things they refer to. "
    "Reply with the query only, no quotes, no explanation."
)
_REFERRING = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|this|that|these|those|he|him|his|she|her|hers|there|one|ones|"
    r"the same|such|also|too|else)\b", re.IGNORECASE,
)


def needs_context(question: str) -> bool:
    """True if the question leans on earlier turns: a pronoun, or too short to stand alone.

    >>> needs_context("what about its price?"), needs_context("How do tomatoes grow in shade?")
    (True, False)
    """
    return bool(_REFERRING.search(question)) or len(re.findall(r"\w+", question)) <= 3


def heuristic_query(question: str, history: Sequence[ChatMessage]) -> str:
    """The last user question joined to this one, when this one needs context."""
    previous = [m.content for m in history if m.role == "user"]
    if not previous or not needs_context(question):
        return question
    return f"{previous[-1]} {question}"


def plausible_rewrite(question: str, rewritten: str) -> bool:
    """A rewrite keeps the question's own topic words and is not an answer with citations.

    Small local models often answer instead of rewriting (measured with SmolLM2-135M:
    "what about its pests?" became "The answer is: 10 days. [2]").

    >>> q = "what about its pests?"
    >>> plausible_rewrite(q, "tomato pests"), plausible_rewrite(q, "The answer is: 10 days. [2]")
    (True, False)
    """
    if not 3 <= len(rewritten) <= 300 or CITATION.search(rewritten):
        return False
    stems = {w.rstrip("s") for w in content_words(rewritten)}
    own = {w.rstrip("s") for w in content_words(_REFERRING.sub(" ", question))}
    return not own or bool(own & stems)


def standalone_query(question: str, history: Sequence[ChatMessage], chat_model: ChatModel = RETRIEVAL_ONLY) -> str:
    if not history:
        return question
    if chat_model.generates:
        transcript = "\n".join(f"{m.role}: {m.content[:500]}" for m in history[-6:])
        messages = [
            {"role": "system", "content": REWRITE_PROMPT},
            {"role": "user", "content": f"Conversation:\n{transcript}\n\nLast question: {question}"},
        ]
        try:
            rewritten = chat_model.complete(messages, max_tokens=64).strip().strip('"').splitlines()[0].strip()
        except (LLMError, IndexError):
            rewritten = ""
        if plausible_rewrite(question, rewritten):
            return rewritten
    return heuristic_query(question, history)
