"""`--collection NAME[,NAME…]|all` for every command that reads or writes an index (ragqa.collections).

Commands that work within one collection (ingest, status, related, topics, duplicates) run once per chosen
collection: with one, exactly as before; with several, each under a "== name ==" line, or with --json as one
object keyed by collection name, and a collection that fails says why in one line while the others go on.
search, ask and chat search the chosen collections together (ragqa.retrieve.across).
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

from ragqa.collections import ALL, Collection, choose
from ragqa.errors import ConfigError, IndexMissingError, RagqaError


def add_collection_arg(p) -> None:
    p.add_argument("--collection", metavar="NAME[,NAME…]|all",
                   help="which collections (config.yaml's collections:); default: 'default' if there is one, else all")


def chosen(settings, args) -> list[Collection]:
    picked = choose(settings, getattr(args, "collection", None))
    one_folder = [flag for flag, given in (("--index", getattr(args, "index", None)),
                                           ("a notes folder", getattr(args, "path", None))) if given]
    if one_folder and len(picked) > 1:
        raise ConfigError(f"{one_folder[0]} names one folder, but {len(picked)} collections were chosen: "
                          "pick one with --collection NAME")
    return picked


def each_collection(run):
    """A one-collection command made to run once per chosen collection."""
    def run_each(settings, args) -> int:
        picked = chosen(settings, args)
        if len(picked) == 1:
            return run(picked[0].settings, args)
        failed, outputs = False, {}
        for collection in picked:
            if getattr(args, "json", False):
                out = io.StringIO()
                try:
                    with contextlib.redirect_stdout(out):
                        run(collection.settings, args)
                    outputs[collection.name] = json.loads(out.getvalue())
                except RagqaError as err:
                    failed, outputs[collection.name] = True, {"error": str(err)}
                    print(f"ragqa: collection {collection.name}: {err}", file=sys.stderr)
                continue
            print(f"== {collection.name} ==", flush=True)
            try:
                run(collection.settings, args)
            except RagqaError as err:
                failed = True
                print(f"ragqa: collection {collection.name}: {err}", file=sys.stderr, flush=True)
        if getattr(args, "json", False):
            print(json.dumps(outputs, ensure_ascii=False))
        return 1 if failed else 0
    return run_each


def no_index(settings, index: Path) -> IndexMissingError:
    """The one line for a notes folder without an index yet: which folder, where its index goes, what to run."""
    run = (f"ragqa ingest {settings.notes_path}` (or pass --notes FOLDER)" if settings.collection_name == "default"
           else f"ragqa ingest --collection {settings.collection_name}`")
    return IndexMissingError(f"no index yet for the notes in {settings.notes_path} (index folder {index}): run `{run}")


def open_searcher(settings, args, make_chat_model, embedder_for):
    """(the chosen collections behind one `search`, the chat model). A collection without an index yet is
    skipped with a line on stderr when others are searched; the chat model is made (a local one started) only
    once there is an index to read; `embedder_for(embedding_settings)` makes one embedder per model."""
    from ragqa.index.store import require_index
    from ragqa.retrieve.across import CollectionsSearcher
    from ragqa.retrieve.search import Searcher

    picked = chosen(settings, args)
    ready: list[tuple[Collection, Path]] = []
    for collection in picked:
        index = Path(args.index) if getattr(args, "index", None) else collection.settings.index_path
        try:
            require_index(index)
            ready.append((collection, index))
        except IndexMissingError as err:
            if len(picked) == 1:
                raise no_index(collection.settings, index) from None
            print(f"ragqa: collection {collection.name}: {err}; searching the others", file=sys.stderr)
    if not ready:
        names = ", ".join(c.name for c in picked)
        raise IndexMissingError(f"none of the collections ({names}) has an index yet: run "
                                f"`ragqa ingest --collection {ALL}` first")
    chat_model = make_chat_model()
    embedders: dict[str, object] = {}
    searchers: dict[str, Searcher] = {}
    for collection, index in ready:
        own = collection.settings
        key = own.embedding.model_dump_json()
        if key not in embedders:
            embedders[key] = embedder_for(own.embedding)
        searchers[collection.name] = Searcher(own, embedders[key], index, chat_model=chat_model)
    searcher = CollectionsSearcher(searchers, top_k=settings.search.top_k, rrf_k=settings.search.rrf_k)
    return searcher, chat_model
