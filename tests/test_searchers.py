"""Collections → embedders → searchers, built one way for every face (ragqa.retrieve.searchers): collections
that share an embedding model share one embedder, each searcher is made once, and several collections are
searched behind one `search`.

Pure logic with stand-ins for the models; the real path (real indexes, MiniLM) runs in test_collections.py (the
CLI) and test_collections_faces.py (the browser and the HTTP API).
"""
from __future__ import annotations

import threading
from pathlib import Path

from ragqa.config import EmbeddingSettings, Settings
from ragqa.retrieve.across import CollectionsSearcher
from ragqa.retrieve.searchers import Searchers

REPO = Path(__file__).resolve().parents[1]


def collection(name: str, model: str) -> Settings:
    return Settings(embedding=EmbeddingSettings(model=model)).as_collection(name)


COLLECTIONS = {"work": collection("work", "all-MiniLM-L6-v2"), "home": collection("home", "all-MiniLM-L6-v2"),
               "papers": collection("papers", "intfloat/multilingual-e5-small")}


class Made:
    """Stand-ins for the embedders and searchers, and a count of each made."""

    def __init__(self):
        self.embedders: list[str] = []
        self.searchers: list[str] = []

    def embedder(self, settings: Settings):
        self.embedders.append(settings.embedding.model)
        return f"embedder of {settings.embedding.model}"

    def searcher(self, settings: Settings, embedder):
        self.searchers.append(settings.collection_name)
        return {"collection": settings.collection_name, "embedder": embedder}


def test_collections_with_one_model_share_its_embedder_and_another_model_gets_its_own():
    made = Made()
    searchers = Searchers(COLLECTIONS, made.searcher, made.embedder)
    assert searchers.of("work")["embedder"] is searchers.of("home")["embedder"]
    assert searchers.of("papers")["embedder"] == "embedder of intfloat/multilingual-e5-small"
    assert sorted(made.embedders) == ["all-MiniLM-L6-v2", "intfloat/multilingual-e5-small"]


def test_each_searcher_is_made_once_even_when_asked_from_several_threads():
    made = Made()
    searchers = Searchers(COLLECTIONS, made.searcher, made.embedder)
    got = []
    threads = [threading.Thread(target=lambda: got.append(searchers.of("work"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made.searchers == ["work"] and all(g is got[0] for g in got)


def test_the_embedders_are_listed_without_making_a_searcher():
    made = Made()
    assert len(Searchers(COLLECTIONS, made.searcher, made.embedder).embedders()) == 2
    assert made.searchers == []


def test_one_collection_is_its_own_searcher_and_several_are_searched_as_one():
    made = Made()
    searchers = Searchers(COLLECTIONS, made.searcher, made.embedder)
    search = Settings().search
    assert searchers.over(["home"], search) is searchers.of("home")
    both = searchers.over(["work", "papers"], search)
    assert isinstance(both, CollectionsSearcher) and both.names == ["work", "papers"]
    assert (both.top_k, both.rrf_k) == (search.top_k, search.rrf_k)


def test_every_face_builds_its_searchers_here():
    """The CLI, the browser and the two servers (ragqa.served) all go through Searchers; none puts collections
    together by itself."""
    users = {path.relative_to(REPO).as_posix() for path in (REPO / "ragqa").rglob("*.py")
             if "Searchers(" in path.read_text(encoding="utf-8")}
    assert users == {"ragqa/retrieve/searchers.py", "ragqa/served.py", "ragqa/cli/collection_args.py",
                     "ragqa/web/collection_picker.py"}
    builders = [path.relative_to(REPO).as_posix() for path in (REPO / "ragqa").rglob("*.py")
                if "CollectionsSearcher(" in path.read_text(encoding="utf-8")]
    assert builders == ["ragqa/retrieve/searchers.py"]
