"""What the model reads of the passages: the sentences that answer, within a token budget."""
from ragqa.answer.focus import GAP, FocusOptions, focus_passages
from ragqa.tokens import count_tokens

FAQ = ("Nothing is lost. Every batch of files is written in one SQLite transaction that holds the passages, "
       "their vectors, the file hashes and a generation number together. The FAISS index file is written "
       "under a temporary name and renamed into place. Re-running ingest finishes the job.")
GARDEN = ("Tomatoes need six hours of direct sun. Water them deeply twice a week. Aphids attack the leaves; "
          "spray them with soapy water. Harvest when the fruit is deep red.")
OTHER = "The office moved to the third floor in May. Parking is behind the building."


def focus(question, texts, budget, neighbours=1, **kw):
    return focus_passages(question, texts, budget=budget, count_tokens=count_tokens,
                          options=FocusOptions(neighbours=neighbours), **kw)


def test_the_answering_sentence_is_kept_and_the_budget_is_respected():
    for budget in (40, 80):
        out = focus("What does the SQLite transaction hold?", [GARDEN, FAQ, OTHER], budget)
        assert "one SQLite transaction" in out[1].text
        assert sum(count_tokens(f.text) for f in out if f.text) <= budget + 8  # gap marks cost a little
        assert out[1].best.startswith("Every batch of files is written in one SQLite transaction")
    tiny = focus("What does the SQLite transaction hold?", [GARDEN, FAQ, OTHER], 10)
    assert [bool(f.text) for f in tiny] == [False, True, False]  # the best sentence, even over budget
    assert "one SQLite transaction" in tiny[1].text


def test_a_passage_with_nothing_relevant_is_left_empty_and_gaps_are_marked():
    out = focus("How deeply and how often to water?", [OTHER, GARDEN], 12, neighbours=0)
    assert out[0].text == "" and out[0].best == ""
    assert out[1].text == f"{GAP.strip()} Water them deeply twice a week. {GAP.strip()}"
    assert not out[1].complete


def test_neighbours_come_with_the_best_sentence_when_there_is_room():
    out = focus("When is the index file renamed into place?", [FAQ], 60, neighbours=1)
    assert "renamed into place" in out[0].text
    assert "Re-running ingest finishes the job." in out[0].text  # the sentence after it
    assert "generation number together" in out[0].text  # and the one before


def test_no_budget_keeps_every_sentence():
    out = focus("tomatoes", [GARDEN, OTHER], None)
    assert out[0].complete and out[0].text == GARDEN
    assert out[1].complete  # all sentences kept, even those sharing no word with the question


def test_an_embedding_similarity_finds_a_sentence_that_shares_no_word_with_the_question():
    question = "What should I do about bugs on the plants?"
    wanted = "Aphids attack the leaves; spray them with soapy water."

    def similarity(q, sentences):  # stands in for the embedding model: knows aphids are bugs
        return [0.95 if s == wanted else 0.5 for s in sentences]

    assert focus(question, [GARDEN], 12, neighbours=0)[0].text != f"{GAP.strip()} {wanted} {GAP.strip()}"
    out = focus(question, [GARDEN], 16, neighbours=0, similarity=similarity)
    assert wanted in out[0].text


def test_a_question_sharing_no_word_still_gets_the_best_passages_opening():
    out = focus("xyzzy?", [GARDEN, OTHER], 12)
    assert out[0].text.startswith("Tomatoes need six hours")


def test_the_answer_without_a_model_quotes_the_sentence_the_sources_call_best():
    from ragqa.answer.extractive import best_sentences

    for question, text in [("How often to water?", GARDEN), ("When is the index file renamed?", FAQ),
                           ("Where is parking?", OTHER), ("What do aphids attack?", GARDEN)]:
        [focused] = focus(question, [text], None)
        assert best_sentences(question, text, 1) == [focused.best]
