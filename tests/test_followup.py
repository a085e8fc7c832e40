from ragqa.answer.conversation import ChatMessage
from ragqa.answer.followup import heuristic_query, needs_context, standalone_query

HISTORY = [ChatMessage.user("How do I grow tomatoes?"), ChatMessage("assistant", "Sun [1].")]


def test_pronoun_questions_need_context():
    assert needs_context("what about its pests?")
    assert not needs_context("How do I bake sourdough bread at home?")


def test_heuristic_joins_the_previous_question():
    assert heuristic_query("what about its pests?", HISTORY) == "How do I grow tomatoes? what about its pests?"
    standalone = "How do I bake sourdough bread at home?"
    assert heuristic_query(standalone, HISTORY) == standalone


def test_without_history_the_question_is_the_query():
    assert standalone_query("what about its pests?", []) == "what about its pests?"


class BrokenModel:
    generates = True

    def complete(self, messages, max_tokens=64):
        from ragqa.errors import LLMError
        raise LLMError("down")


def test_llm_failure_falls_back_to_the_heuristic():
    assert standalone_query("what about its pests?", HISTORY, BrokenModel()).startswith("How do I grow tomatoes?")
