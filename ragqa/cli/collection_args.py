"""`--collection NAME[,NAME…]|all` for every command that reads or writes an index (ragqa.collections).

Commands that work within one collection (ingest, status, related, topics, duplicates) run once per chosen
collection: with one, exactly as before; with several, each under a "== name ==" line, or with --json as one
object keyed by collection name, and a collection that fails says why in one line while the others go on.
Such a command returns what it found (an `Output`: the --json data, and the text a person reads) and
`each_collection` prints it. search, ask and chat search the chosen collections together
(ragqa.retrieve.across).
"""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Output:
    """What a one-collection command found: `data` is what --json prints (a JSON contract: README), `text` what a
    person reads, `warnings` one-line notes for stderr (the command still did its work)."""

    data: object
    text: str
    warnings: tuple[str, ...] = ()


def json_line(data: object) -> str:
    return json.dumps(data, ensure_ascii=False)


def each_collection(run: Callable[..., Output]) -> Callable[..., int]:
    """A one-collection command (settings, args) -> Output made to run once per chosen collection, its
    output printed here: as JSON with --json (one object keyed by collection name when several are chosen),
    else as text."""
    def run_each(settings, args) -> int:
        as_json = bool(getattr(args, "json", False))
        picked = chosen(settings, args)
        if len(picked) == 1:
            show(run(picked[0].settings, args), as_json)
            return 0
        failed = False
        outputs: dict[str, object] = {}
        for collection in picked:
            if not as_json:
                print(f"== {collection.name} ==", flush=True)
            try:
                output = run(collection.settings, args)
            except RagqaError as err:
                failed = True
                outputs[collection.name] = {"error": str(err)}
                print(f"ragqa: collection {collection.name}: {err}", file=sys.stderr, flush=True)
                continue
            outputs[collection.name] = output.data
            show(output, as_json=False, text=not as_json)
        if as_json:
            print(json_line(outputs))
        return 1 if failed else 0
    return run_each


def no_index(settings, index: Path) -> IndexMissingError:
    """The one line for a notes folder without an index yet: which folder, where its index goes, what to run."""
    run = (f"ragqa ingest {settings.notes_path}` (or pass --notes FOLDER)" if settings.collection_name == "default"
           else f"ragqa ingest --collection {settings.collection_name}`")
    return IndexMissingError(f"no index yet for the notes in {settings.notes_path} (index folder {index}): run `{run}")


def show(output: Output, as_json: bool, text: bool = True) -> None:
    """Print an Output: its warnings to stderr, then its JSON or (if `text`) its text."""
    for warning in output.warnings:
        print(f"ragqa: {warning}", file=sys.stderr, flush=True)
    if as_json:
        print(json_line(output.data))
    elif text and output.text:
        print(output.text, flush=True)


def open_searcher(settings, args, make_chat_model, embedder_for=None):
    """(the chosen collections behind one `search`, the chat model). A collection without an index yet is
    skipped with a line on stderr when others are searched; the chat model is made (a local one started) only
    once there is an index to read; `embedder_for(settings)` (default: ragqa.models.embedding.make_embedder)
    makes one embedder per model."""
    from ragqa.index.store import require_index
    from ragqa.models.embedding import make_embedder
    from ragqa.retrieve.search import Searcher
    from ragqa.retrieve.searchers import Searchers

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
    folders = {collection.name: index for collection, index in ready}
    searchers = Searchers({collection.name: collection.settings for collection, _ in ready},
                          lambda own, embedder: Searcher(own, embedder, folders[own.collection_name],
                                                         chat_model=chat_model),
                          embedder_for or make_embedder)
    return searchers.over(folders, settings.search), chat_model
