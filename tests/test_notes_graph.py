"""How notes connect, on real notes ingested with real MiniLM: related notes, topics, duplicates, the map."""
import json
import os
import sys

import numpy as np
import pytest

import ragqa.ingest.pipeline as pipeline
from ragqa.errors import LLMError, NoteNotFoundError
from ragqa.ingest.pipeline import ingest_folder
from ragqa.models.chat import make_chat_model
from ragqa.notes import note_map as notes_map
from ragqa.notes.graph import duplicate_chunks, duplicate_notes, find_topics, note_texts, related_notes, resolve_note
from ragqa.notes.vectors import load_note_vectors, refresh_note_vectors

from helpers import cli
from helpers.data import REPO
from helpers.garden_notes import SMOLLM2
from helpers.local_model import live
from helpers.settings import make_settings

OWNERSHIP = ("# Rust ownership\n\nEach value in Rust has a single owner. When the owner goes out of scope, the value "
             "is dropped and its memory is freed. Moving a value transfers ownership; borrowing lends it out.\n")
GARDEN = {
    "tomatoes.md": "# Growing tomatoes\n\nTomato plants in the vegetable garden need six hours of sun, rich soil and "
                   "deep watering; stake the plants so they climb.\n",
    "compost.md": "# Composting\n\nA compost heap in the garden turns fallen leaves and grass clippings into rich soil "
                  "that feeds the plants in the vegetable beds.\n",
    "roses.md": "# Pruning roses\n\nPrune the rose bushes in the garden in late winter, cutting each stem above an "
                "outward-facing bud so the plants grow open.\n",
    "lawn.md": "# Watering the lawn\n\nWater the garden lawn deeply once a week in the morning so the grass roots grow "
               "down into the soil.\n",
}
RUST = {
    "ownership.md": OWNERSHIP,
    "traits.md": "# Rust traits\n\nA trait in Rust defines shared behaviour; generic functions in Rust code take "
                 "trait bounds.\n",
    "lifetimes.md": "# Rust lifetimes\n\nLifetimes tell the Rust borrow checker how long references stay valid in "
                    "a program.\n",
    "cargo.md": "# Cargo\n\nCargo, the Rust build tool, compiles Rust crates, fetches their dependencies and runs "
                "the test suite of a Rust program.\n",
}
BAKING = {
    "sourdough.md": "# Sourdough starter\n\nFeed the sourdough starter flour and water daily until it bubbles; "
                    "it leavens the bread dough.\n",
    "baguette.md": "# Baguettes\n\nBaguette bread dough is flour, water, salt and yeast, shaped long and baked in a "
                  "hot oven.\n",
    "croissant.md": "# Croissants\n\nCroissant dough is laminated with butter, folded many times, then baked in the "
                    "oven until flaky, like a bread pastry.\n",
    "oven.md": "# Baking temperature\n\nBread dough bakes at a high oven temperature with steam for a crisp crust.\n",
}
COPY = "rust/ownership-copy.md"  # a near-copy of rust/ownership.md, planted


def write_folder(root):
    for folder, notes in (("garden", GARDEN), ("rust", RUST), ("baking", BAKING)):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for name, text in notes.items():
            (root / folder / name).write_text(text, encoding="utf-8")
    (root / COPY).write_text(OWNERSHIP.replace("its memory is freed", "its memory is released"), encoding="utf-8")
    return root


def all_paths():
    return sorted([f"{d}/{n}" for d, notes in (("garden", GARDEN), ("rust", RUST), ("baking", BAKING)) for n in notes]
                  + [COPY])


@pytest.fixture(scope="module")
def garden(tmp_path_factory, minilm):
    """A folder of three clear topics plus one planted near-duplicate, ingested once (read-only tests)."""
    tmp = tmp_path_factory.mktemp("graph")
    settings = make_settings(tmp, write_folder(tmp / "notes"))
    ingest_folder(settings, minilm)
    return settings


@pytest.fixture
def fresh(tmp_path, minilm):
    """The same folder, for tests that change it."""
    settings = make_settings(tmp_path, write_folder(tmp_path / "notes"))
    ingest_folder(settings, minilm)
    return settings


def test_a_notes_near_copy_is_its_top_related_note(garden):
    notes = load_note_vectors(garden.index_path)
    top = related_notes(notes, "rust/ownership.md")
    assert top[0]["path"] == COPY and top[0]["score"] > 0.95
    assert len(top) == 10 and [r["score"] for r in top] == sorted((r["score"] for r in top), reverse=True)
    assert "rust/ownership.md" not in [r["path"] for r in top]


def test_related_notes_come_from_the_same_topic(garden):
    notes = load_note_vectors(garden.index_path)
    for path in ("garden/compost.md", "rust/cargo.md", "baking/croissant.md"):
        top3 = [r["path"] for r in related_notes(notes, path, k=3)]
        assert all(p.split("/")[0] == path.split("/")[0] for p in top3), (path, top3)


def test_a_note_is_found_by_absolute_or_relative_path_and_an_unknown_one_is_refused(garden):
    notes = load_note_vectors(garden.index_path)
    assert resolve_note(notes, str(garden.notes_path / "rust" / "cargo.md")) == "rust/cargo.md"
    assert resolve_note(notes, "./rust/cargo.md") == "rust/cargo.md"
    with pytest.raises(NoteNotFoundError, match=r"did you mean rust/cargo\.md"):
        resolve_note(notes, "rust/carg.md")
    with pytest.raises(NoteNotFoundError, match="outside the notes folder"):
        resolve_note(notes, "/etc/passwd")


def test_an_ingest_recomputes_only_the_edited_notes_vector(fresh, minilm, monkeypatch):
    first = load_note_vectors(fresh.index_path)
    assert sorted(first.paths) == all_paths() and first.recomputed == []  # the first ingest computed them
    recomputed: list[str] = []
    monkeypatch.setattr(pipeline, "refresh_note_vectors",  # the real function, its answer recorded
                        lambda index: recomputed.extend(refresh_note_vectors(index)))
    (fresh.notes_path / "garden" / "lawn.md").write_text("# Lawn\n\nRust traits and generics, not grass.\n")
    (fresh.notes_path / "baking" / "oven.md").unlink()
    ingest_folder(fresh, minilm)
    assert recomputed == ["garden/lawn.md"]
    second = load_note_vectors(fresh.index_path)
    assert second.recomputed == []  # already up to date
    assert "baking/oven.md" not in second.paths and len(second) == len(first) - 1
    row, old = second.row("garden/compost.md"), first.row("garden/compost.md")
    assert np.array_equal(second.vectors[row], first.vectors[old])
    assert related_notes(second, "garden/lawn.md", k=1)[0]["path"].startswith("rust/")


def test_topics_cover_every_note_exactly_once(garden):
    notes = load_note_vectors(garden.index_path)
    texts = note_texts(garden.index_path)
    for k in (None, 3):
        topics, problem = find_topics(notes, texts, k=k, settings=garden)
        members = [p for t in topics for p in t["notes"]]
        assert sorted(members) == all_paths() and problem is None
        assert all(t["size"] == len(t["notes"]) and t["name"] for t in topics)


def test_three_clear_topics_are_found_and_named_by_their_words(garden):
    notes = load_note_vectors(garden.index_path)
    topics, _ = find_topics(notes, note_texts(garden.index_path), k=3, settings=garden)
    folders = [{p.split("/")[0] for p in t["notes"]} for t in topics]
    assert sorted(map(sorted, folders)) == [["baking"], ["garden"], ["rust"]]
    rust = next(t for t in topics if t["notes"][0].startswith("rust/"))
    assert "rust" in rust["name"]


def test_topics_are_named_by_their_words_when_the_llm_is_down(garden):
    down = make_settings(garden.index_path.parent, garden.notes_path,
                         llm={"provider": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "x",
                              "max_retries": 0, "timeout_seconds": 5})
    notes = load_note_vectors(garden.index_path)
    topics, problem = find_topics(notes, note_texts(garden.index_path), k=3, settings=down,
                                  chat_model=make_chat_model(down))
    assert "is down" in problem
    assert len(topics) == 3 and all(t["name"] for t in topics)


class NamingModel:
    """A chat model that names every group it is shown "Topic <n>", and keeps the prompts it was sent."""

    name, generates, last_usage = "naming", True, None

    def __init__(self, fails: bool = False):
        self.fails, self.sent = fails, []

    def complete(self, messages, max_tokens=None):
        self.sent.append(messages)
        if self.fails:
            raise LLMError("the naming model is down")
        groups = messages[-1]["content"].splitlines()[1:]  # "1. title; title", one line per group
        return "\n".join(f"{n}. Topic {n}" for n in range(1, len(groups) + 1))


def test_topics_are_named_by_the_chat_model_they_are_handed(garden):
    notes = load_note_vectors(garden.index_path)
    model = NamingModel()  # garden's settings say llm.provider none: only the handed model can name them
    topics, problem = find_topics(notes, note_texts(garden.index_path), k=3, settings=garden, chat_model=model)
    assert problem is None and [t["name"] for t in topics] == ["Topic 1", "Topic 2", "Topic 3"]
    [sent] = model.sent  # one request for all three topics, listing each topic's most typical titles
    titles = dict(zip(notes.paths, notes.titles, strict=True))
    assert titles[topics[0]["notes"][0]] in sent[-1]["content"].splitlines()[1]


def test_topics_keep_their_word_names_when_the_handed_model_fails(garden):
    notes, texts = load_note_vectors(garden.index_path), note_texts(garden.index_path)
    by_words, _ = find_topics(notes, texts, k=3, settings=garden)
    topics, problem = find_topics(notes, texts, k=3, settings=garden, chat_model=NamingModel(fails=True))
    assert problem == "the naming model is down"
    assert [t["name"] for t in topics] == [t["name"] for t in by_words]


@live
def test_topics_named_by_a_real_local_llm_are_short_names(garden, smollm2_server):
    settings = make_settings(garden.index_path.parent, garden.notes_path, llm=SMOLLM2,
                             embedding={"cache_dir": str(smollm2_server)})  # the session's SmolLM2 server
    notes = load_note_vectors(garden.index_path)
    topics, problem = find_topics(notes, note_texts(garden.index_path), k=3, settings=settings,
                                  chat_model=make_chat_model(settings))
    assert problem is None and len(topics) == 3
    # a 135M model mostly echoes the titles: those replies are refused and the topic keeps its word name
    assert all(t["name"] and len(t["name"].split()) <= 6 and ";" not in t["name"] for t in topics)


def test_duplicates_finds_the_planted_pair_and_no_unrelated_ones(garden):
    notes = load_note_vectors(garden.index_path)
    assert duplicate_notes(notes) == [{"a": "rust/ownership-copy.md", "b": "rust/ownership.md",
                                       "score": duplicate_notes(notes)[0]["score"]}]
    assert duplicate_notes(notes)[0]["score"] > 0.95
    assert {(p["a"], p["b"]) for p in duplicate_chunks(garden.index_path)} == {(COPY, "rust/ownership.md")}


def test_the_map_places_every_note_and_its_near_copy_next_to_it(garden):
    notes = load_note_vectors(garden.index_path)
    topics, _ = find_topics(notes, note_texts(garden.index_path), k=3, settings=garden)
    topic_of = {p: t["name"] for t in topics for p in t["notes"]}
    points = notes_map.map_points(notes.paths, notes.titles, notes.vectors, topic_of)
    assert [p["path"] for p in points] == all_paths()
    assert all(np.isfinite([p["x"], p["y"]]).all() and p["topic"] and p["title"] for p in points)
    xy = {p["path"]: np.array([p["x"], p["y"]]) for p in points}
    gaps = [np.linalg.norm(xy[COPY] - xy[p]) for p in all_paths() if p != COPY]
    assert np.linalg.norm(xy[COPY] - xy["rust/ownership.md"]) == min(gaps)
    spec = notes_map.map_chart(points).to_dict()
    assert any(p["name"] == notes_map.SELECTION for p in spec["params"])


def _ragqa(settings, *args, ok=True):
    env = {**os.environ, "RAGQA_INDEX_DIR": str(settings.index_path), "RAGQA_NOTES_DIR": str(settings.notes_path),
           "RAGQA_EMBEDDING__MODEL": "all-MiniLM-L6-v2", "RAGQA_LLM__PROVIDER": "none"}
    out = cli.run(list(args), env=env)
    assert (out.returncode == 0) == ok, out.stderr
    return json.loads(out.stdout) if ok else out.stderr


def test_cli_json_contracts_of_related_topics_and_duplicates(garden):
    related = _ragqa(garden, "related", "rust/ownership.md", "--json")
    assert set(related[0]) == {"path", "title", "score"} and related[0]["path"] == COPY and len(related) == 10
    topics = _ragqa(garden, "topics", "--json", "-k", "3")
    assert all(set(t) == {"name", "size", "notes"} for t in topics) and sum(t["size"] for t in topics) == 13
    pairs = _ragqa(garden, "duplicates", "--json", "--threshold", "0.9")
    assert pairs and set(pairs[0]) == {"a", "b", "score"}
    assert {pairs[0]["a"], pairs[0]["b"]} == {COPY, "rust/ownership.md"}


def test_cli_refuses_a_note_that_is_not_indexed_in_one_line(garden):
    err = _ragqa(garden, "related", "nowhere/ghost.md", ok=False)
    assert err.startswith("ragqa: nowhere/ghost.md is not in the index") and err.strip().count("\n") == 0
    assert "Traceback" not in err


@pytest.mark.slow
@pytest.mark.xdist_group("vault")  # the session's vault index: built once
def test_on_the_vault_every_note_has_related_notes_and_one_topic(vault_index):
    settings, _ = vault_index
    notes = load_note_vectors(settings.index_path)
    assert len(notes) >= 1180
    assert all(len(related_notes(notes, p)) == 10 for p in notes.paths[::50])
    topics, _ = find_topics(notes, note_texts(settings.index_path), settings=settings)
    assert sorted(p for t in topics for p in t["notes"]) == notes.paths
    assert 12 <= len(topics) <= 30  # auto k: between half of and sqrt(n/2) = 24
    recall = _link_recall(settings, notes)
    assert recall > 0.7, f"related notes found only {recall:.0%} of linked notes (0.765 measured)"


def _link_recall(settings, notes) -> float:
    sys.path.insert(0, str(REPO))
    from bench.related_links import link_targets, read_files, recall_at_k  # the benchmark's own functions
    from ragqa.notes.similarity import all_top_k

    links = link_targets(read_files(settings.index_path), notes.paths)
    top = all_top_k(notes.comparable(), 10)  # as related_notes ranks
    ranked = {notes.paths[i]: [notes.paths[j] for j in row] for i, row in enumerate(top)}
    return recall_at_k(links, ranked, 10)["mean_recall"]
