"""Search through the library API: filters restrict results in every mode, BM25 reads questions
sensibly, and the rerank stage is chosen by config. The notes are embedded with the seeded-hash embedder
(`hashed`): these are the search's rules, not the model's quality (tests/test_eval.py, test_vault.py)."""
from __future__ import annotations

import re

import pytest

from ragqa.cli import main
from ragqa.errors import ConfigError, LLMError
from ragqa.ingest.pipeline import ingest_folder
from ragqa.models.chat import NoChatModel
from ragqa.retrieve.search import Filters, Searcher

from helpers.settings import HASH, make_settings

MODES = ["dense", "bm25", "hybrid"]


@pytest.fixture(scope="module")
def searcher(tmp_path_factory, hashed):
    """One index for the read-only tests of this module: the `notes` fixture's files plus a compost note."""
    tmp = tmp_path_factory.mktemp("quality")
    notes = tmp / "notes"
    (notes / "garden").mkdir(parents=True)
    (notes / "garden" / "tomatoes.md").write_text(
        "---\ntitle: Growing tomatoes\ntags: [garden, food]\n---\n# Growing tomatoes\n\n"
        "Tomatoes need six hours of direct sun and deep watering twice a week.\n\n"
        "## Pests\n\nAphids and hornworms attack tomato plants; pick hornworms off by hand.\n")
    (notes / "rust.md").write_text("# Rust ownership\n\nEach value in Rust has a single owner.\n")
    (notes / "bread.txt").write_text("Sourdough bread rises with a wild yeast starter fed with flour and water.\n")
    (notes / "garden" / "compost.txt").write_text("Compost turns kitchen scraps into soil for the vegetable garden.\n")
    settings = make_settings(tmp, notes, model=HASH)
    ingest_folder(settings, hashed)
    return Searcher(settings, hashed)


def paths(hits) -> set[str]:
    return {h.chunk.path for h in hits}


@pytest.mark.parametrize("mode", MODES)
def test_folder_filter_keeps_only_notes_in_that_folder(searcher, mode):
    hits = searcher.search("Rust ownership and tomatoes", k=10, mode=mode, filters=Filters(folders=["garden"]))
    assert hits and paths(hits) <= {"garden/tomatoes.md", "garden/compost.txt"}


@pytest.mark.parametrize("mode", MODES)
def test_tag_filter_keeps_only_notes_with_that_tag(searcher, mode):
    hits = searcher.search("compost, sourdough and tomatoes", k=10, mode=mode, filters=Filters(tags=["#food"]))
    assert paths(hits) == {"garden/tomatoes.md"}


@pytest.mark.parametrize("mode", MODES)
def test_type_filter_keeps_only_that_kind_of_file(searcher, mode):
    hits = searcher.search("bread yeast compost", k=10, mode=mode, filters=Filters(kinds=["text"]))
    assert hits and paths(hits) <= {"bread.txt", "garden/compost.txt"}


def test_filters_of_different_kinds_must_all_hold(searcher):
    hits = searcher.search("garden", k=10, filters=Filters(folders=["garden"], kinds=["markdown"]))
    assert paths(hits) == {"garden/tomatoes.md"}


@pytest.mark.parametrize("mode", MODES)
def test_a_filter_that_matches_no_note_returns_nothing(searcher, mode):
    assert searcher.search("tomatoes", k=5, mode=mode, filters=Filters(folders=["nowhere"])) == []


def test_unfiltered_search_sees_every_folder(searcher):
    hits = searcher.search("tomatoes rust bread compost", k=10, mode="bm25")
    assert paths(hits) == {"garden/tomatoes.md", "garden/compost.txt", "rust.md", "bread.txt"}


def test_bm25_ignores_question_words_and_finds_the_topic(searcher):
    hits = searcher.search("What is it that attacks the hornworms?", k=3, mode="bm25")
    assert [h.chunk.path for h in hits] == ["garden/tomatoes.md"]


def test_bm25_query_of_only_common_words_still_answers(searcher):
    # every word a stopword: they are all kept (no FTS5 error on an empty query), and "the" is in the compost note
    hits = searcher.search("what is the?", k=3, mode="bm25")
    assert paths(hits) == {"garden/compost.txt"} and all(hit.chunk.text for hit in hits)


def test_bm25_query_with_fts_syntax_characters_is_taken_as_words(searcher):
    hits = searcher.search('tomato* AND "sun" NEAR(rust) -bread:', k=5, mode="bm25")
    assert "garden/tomatoes.md" in paths(hits)


def test_hybrid_finds_what_either_retriever_finds(searcher):
    hits = searcher.search("hornworms", k=3, mode="hybrid")
    assert hits[0].chunk.path == "garden/tomatoes.md"


def test_mmr_rerank_moves_a_duplicate_passage_below_a_different_one(tmp_path, hashed):
    notes = tmp_path / "notes"
    notes.mkdir()
    text = "Tomatoes need six hours of direct sun and deep watering twice a week.\n"
    (notes / "a.md").write_text(text)
    (notes / "copy.md").write_text(text)
    (notes / "pests.md").write_text("Hornworms eat tomato leaves; pick them off by hand.\n")
    plain = make_settings(tmp_path, notes, model=HASH, search={"mode": "dense"})
    ingest_folder(plain, hashed)
    before = Searcher(plain, hashed).search("how much sun do tomatoes need", k=2)
    assert paths(before) == {"a.md", "copy.md"}
    diverse = make_settings(tmp_path, notes, model=HASH,
                            search={"mode": "dense", "rerank": "mmr", "mmr_lambda": 0.5})
    after = Searcher(diverse, hashed).search("how much sun do tomatoes need", k=2)
    assert after[0].chunk.path in {"a.md", "copy.md"} and after[1].chunk.path == "pests.md"


def test_missing_cross_encoder_is_one_line_naming_what_to_download(tmp_path, notes, hashed, capsys):
    settings = make_settings(tmp_path, notes, model=HASH)
    ingest_folder(settings, hashed)
    config = tmp_path / "config.yaml"
    config.write_text(f"notes_dir: {notes}\nindex_dir: {tmp_path / 'index'}\nembedding: {{model: hash-embedder}}\n"
                      "llm: {provider: none}\nsearch: {rerank: cross-encoder, rerank_model: nobody/no-such-reranker}\n")
    code = main(["--config", str(config), "search", "tomatoes"])
    out, err = capsys.readouterr()
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "nobody/no-such-reranker" in err and "download" in err


def test_llm_rerank_without_an_llm_is_refused(tmp_path, notes, hashed):
    settings = make_settings(tmp_path, notes, model=HASH, search={"rerank": "llm"})
    ingest_folder(settings, hashed)
    with pytest.raises(ConfigError, match=r"llm\.provider is none"):
        Searcher(settings, hashed)


class RankingModel:
    """A chat model that ranks the passages it is shown last to first (or fails), and counts its calls."""

    name, generates, last_usage = "ranking", True, None

    def __init__(self, fails: bool = False):
        self.fails, self.calls = fails, 0

    def complete(self, messages, max_tokens=None):
        self.calls += 1
        if self.fails:
            raise LLMError("the ranking model is down")
        return ", ".join(re.findall(r"^\[(\d+)\]", messages[-1]["content"], re.MULTILINE)[::-1])


def llm_reranking(searcher, hashed, chat_model) -> Searcher:
    """The module's index searched with `search.rerank: llm` and an endpoint configured."""
    settings = searcher.settings.model_copy(update={
        "search": searcher.settings.search.model_copy(update={"rerank": "llm"}),
        "llm": searcher.settings.llm.model_copy(update={"provider": "openai", "model": "m"})})
    return Searcher(settings, hashed, searcher.index_dir, chat_model=chat_model)


def test_llm_rerank_orders_passages_by_the_chat_model_it_is_handed(searcher, hashed):
    model = RankingModel()
    query = "tomatoes rust bread compost"
    reranked = llm_reranking(searcher, hashed, model).search(query, k=3, mode="bm25")
    first_stage = searcher.search(query, k=20, mode="bm25")
    assert model.calls == 1
    assert [h.chunk_id for h in reranked] == [h.chunk_id for h in first_stage[::-1]][:3]


@pytest.mark.parametrize("chat_model", [RankingModel(fails=True), NoChatModel("the local model is not installed")],
                         ids=["fails", "could not be started"])
def test_llm_rerank_keeps_the_first_stage_order_when_its_model_fails(searcher, hashed, chat_model):
    query = "tomatoes rust bread compost"
    reranked = llm_reranking(searcher, hashed, chat_model).search(query, k=3, mode="bm25")
    assert [h.chunk_id for h in reranked] == [h.chunk_id for h in searcher.search(query, k=3, mode="bm25")]


def test_llm_rerank_needs_the_chat_model_handed_to_the_searcher(searcher, hashed):
    with pytest.raises(TypeError, match="chat_model"):
        llm_reranking(searcher, hashed, None)
