"""The answer loop's own logic, with a scripted model (the real model runs in test_answers_llm.py and
test_readme_question.py): the order of events, the final check on refusals, follow-ups that continue."""
from __future__ import annotations

import re

from ragqa.answer.conversation import ChatMessage
from ragqa.answer.events import Delta, Done, Planned, Query, Retrieved, Sources
from ragqa.answer.loop import NOTHING_MATCHES, answer_events, answer_question
from ragqa.answer.refusals import QUOTE_LABEL, is_refusal
from ragqa.models.chat import NoChatModel
from ragqa.records import Chunk, Hit

from helpers.settings import make_settings

FAQ = Chunk("docs/FAQ.md", "FAQ", "FAQ > What happens if ingest is killed or the machine crashes?",
            "Nothing is lost. Every batch of files is written in one SQLite transaction that holds the passages, "
            "their vectors, the file hashes and a generation number together. Re-running ingest finishes the job.")
GUIDE = Chunk("docs/GUIDE.md", "Guide", "Guide > Watch", "ragqa watch re-ingests a note when you save it.")


class Searcher:
    def __init__(self, chunks):
        self.hits = [Hit(i, 1.0 - i / 10, c) for i, c in enumerate(chunks, 1)]
        self.queries = []

    def search(self, query, k=None, filters=None):
        self.queries.append(query)
        return self.hits[: k or 5]


class ScriptedModel:
    name = "scripted"
    generates = True

    def __init__(self, *replies):
        self.replies, self.sent = list(replies), []

    def stream(self, messages, max_tokens=None):
        self.sent.append(messages)
        yield from re.split(r"(?<= )", self.replies.pop(0))  # word by word, spaces kept


def settings(tmp_path):
    return make_settings(tmp_path, llm={"provider": "local", "passage_tokens": 120})


def test_sources_come_before_the_first_words_and_timings_are_kept(tmp_path):
    events = list(answer_events("What happens if ingest is killed?", searcher=Searcher([FAQ, GUIDE]),
                                chat_model=ScriptedModel("Nothing is lost [1]."), settings=settings(tmp_path)))
    kinds = [type(e) for e in events]
    assert kinds[:5] == [Planned, Query, Retrieved, Sources, Delta] and kinds[-1] == Done
    found, given = events[2].given, events[3].given
    # what the search found is shown before the focus step embeds sentences: every hit, whole, in rank order
    assert [h.chunk.path for h in found.passages][:1] == ["docs/FAQ.md"]
    assert found.texts == [h.chunk.text for h in found.passages] and all(found.best[:1])
    assert given.passages[0].chunk.path == "docs/FAQ.md"
    assert given.best[0].startswith("Re-running ingest") or "SQLite transaction" in given.best[0]
    answer = events[-1].answer
    assert answer.text == "Nothing is lost [1]." and answer.cited == [1]
    reply = answer.as_json()
    assert 0 <= reply["first_token_seconds"] <= reply["seconds"]
    assert reply["sources"][0]["best_sentence"] == given.best[0]


def test_with_no_matching_passage_the_model_is_not_asked_to_guess(tmp_path):
    model = ScriptedModel("Ingest uses a write-ahead log [1].")
    answer = answer_question("What happens if ingest is killed?", searcher=Searcher([]), chat_model=model,
                             settings=settings(tmp_path))
    assert model.sent == []
    assert answer.text == NOTHING_MATCHES and not answer.generated
    assert answer.as_json()["sources"] == [] and answer.as_json()["citations"] == []


def test_a_model_that_does_not_generate_answers_with_the_best_passages(tmp_path):
    answer = answer_question("What happens if ingest is killed?", searcher=Searcher([FAQ, GUIDE]),
                             chat_model=NoChatModel(), settings=make_settings(tmp_path))
    reply = answer.as_json()
    assert not answer.generated and reply["model"] == "retrieval only" and reply["error"] is None
    assert answer.text.startswith("*Retrieval only") and "[1]" in answer.text and answer.cited == [1, 2]


def test_a_refusal_with_an_answering_passage_is_not_the_last_word(tmp_path):
    answer = answer_question("What does the SQLite transaction hold for each batch of files?",
                             searcher=Searcher([GUIDE, FAQ]), chat_model=ScriptedModel("The notes do not say. [1]"),
                             settings=settings(tmp_path))
    assert answer.quoted and answer.generated
    assert answer.text.startswith(f"*{QUOTE_LABEL}*")
    assert "> Every batch of files is written in one SQLite transaction" in answer.text
    assert [h.chunk.path for h in answer.passages] == ["docs/FAQ.md"]  # the guide has nothing on it: not given
    assert answer.text.endswith("[1]") and answer.cited == [1]
    assert answer.raw == "The notes do not say. [1]"  # the model's own words are kept


def test_a_refusal_stands_when_no_passage_answers(tmp_path):
    answer = answer_question("Who painted the Mona Lisa?", searcher=Searcher([FAQ, GUIDE]),
                             chat_model=ScriptedModel("The notes do not say."), settings=settings(tmp_path))
    assert not answer.quoted and is_refusal(answer.text)


def test_a_follow_up_over_the_same_passages_continues_and_a_new_topic_does_not(tmp_path):
    searcher, model = Searcher([FAQ, GUIDE]), ScriptedModel("Nothing is lost [1].", "It is one transaction [1].")
    first = answer_question("What happens if ingest is killed?", searcher=searcher, chat_model=model,
                            settings=settings(tmp_path))
    history = [ChatMessage.user("What happens if ingest is killed?"), first.as_message()]
    second = answer_question("Why is that?", searcher=searcher, chat_model=model, settings=settings(tmp_path),
                             history=history)
    assert second.continued
    assert searcher.queries[-1] == "What happens if ingest is killed? Why is that?"  # words, not an LLM call
    assert model.sent[1][:len(model.sent[0])] == model.sent[0]
    assert model.sent[1][-1] == {"role": "user", "content": "Question: Why is that?"}
    assert [h.chunk.path for h in second.passages] == [h.chunk.path for h in first.passages]


class RunawayModel(ScriptedModel):
    """A scripted model that says how many pieces were read from it and whether its stream was closed."""

    def stream(self, messages, max_tokens=None):
        self.read, self.closed = 0, False
        try:
            for piece in super().stream(messages, max_tokens):
                self.read += 1
                yield piece
        except GeneratorExit:
            self.closed = True
            raise


def streamed_and_final(tmp_path, model):
    events = list(answer_events("What happens if ingest is killed?", searcher=Searcher([FAQ, GUIDE]),
                                chat_model=model, settings=settings(tmp_path)))
    return "".join(e.text for e in events if isinstance(e, Delta)), events[-1].answer


def test_an_answer_that_goes_on_into_a_new_question_ends_where_it_does(tmp_path):
    # SmolLM2-135M's real reply to "Can two ingests run at once?" on ragqa's docs/
    model = RunawayModel("Nothing is lost [1].\n\nQuestion: Can two ingests run at once?\n\nYes, they can [2].")
    streamed, answer = streamed_and_final(tmp_path, model)
    assert streamed.rstrip() == answer.raw == answer.text == "Nothing is lost [1]."
    assert model.closed  # the server stops writing once its stream is closed


def test_an_answer_that_goes_in_circles_says_each_sentence_once_and_stops_the_model(tmp_path):
    # SmolLM2-135M's real reply to "How does ragqa keep the index safe if ingest is killed?", to its token limit
    loop = "The index is not lost, nothing leaked. " * 12
    model = RunawayModel(loop)
    streamed, answer = streamed_and_final(tmp_path, model)
    assert streamed.rstrip() == answer.raw == "The index is not lost, nothing leaked."
    assert answer.text.startswith("The index is not lost, nothing leaked.")
    assert model.closed and model.read < len(loop.split()) / 3  # the model was not read to its limit


def test_an_ordinary_answer_streams_as_it_comes_and_is_not_cut(tmp_path):
    reply = ("Nothing is lost [1]. Each batch is one transaction [1]. Re-running ingest finishes the job [1]. "
             "Nothing is lost, then [1].")
    model = RunawayModel(reply)
    streamed, answer = streamed_and_final(tmp_path, model)
    assert streamed == answer.raw == reply and not model.closed


class DigestingModel(ScriptedModel):
    """Says `nothing` of the first note it is asked to digest, something of the others."""

    def __init__(self, *replies):
        super().__init__(*replies)
        self.digests = 0

    def complete(self, messages, max_tokens=None):
        self.digests += 1
        return "nothing" if self.digests == 1 else "mice and cockroaches; seal the cracks"


def test_a_summary_drops_a_note_that_says_nothing_and_each_source_keeps_its_own_best_sentence(tmp_path, hashed):
    from ragqa.ingest.pipeline import ingest_folder
    from ragqa.retrieve.search import Searcher as IndexSearcher

    from helpers.garden_notes import write_garden_notes
    from helpers.settings import HASH

    settings = make_settings(tmp_path, write_garden_notes(tmp_path / "notes"), model=HASH,
                             answer={"topic_threshold": 0.0})  # every note is on topic: the model decides
    ingest_folder(settings, hashed)
    events = list(answer_events("Summarize what I wrote about pests", searcher=IndexSearcher(settings, hashed),
                                chat_model=DigestingModel("They say to seal the cracks [1]."), settings=settings))
    given = next(e.given for e in events if isinstance(e, Sources))
    answer = events[-1].answer
    assert answer.plan.kind == "summary" and len(given.passages) == len(given.best) == len(given.texts) >= 1
    for hit, best, text in zip(given.passages, given.best, given.texts, strict=True):
        title = text.split(":", 1)[0]
        assert hit.chunk.title == title  # the digest is this note's
        assert not best or best in hit.chunk.text or best in (tmp_path / "notes" / hit.chunk.path).read_text()
    assert len(answer.best) == len(answer.passages)
