"""The tools: what each one does, over the collections, indexes and chat model the process shares (`Served`).

Each returns the JSON of the CLI command it mirrors, built by the same function (ragqa/contracts.py,
`Answer.as_json`). A problem is a `Refusal` or a RagqaError: one line, shown to the calling model.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ragqa.contracts import collection_row, related_json, search_json, status_json
from ragqa.errors import NoteNotFoundError, RagqaError
from ragqa.index.queries import read_snapshot
from ragqa.index.schema import is_index
from ragqa.mcp import schemas
from ragqa.mcp.notes import note_json
from ragqa.mcp.paths import SCHEME, from_uri
from ragqa.mcp.warmup import Warmup

if TYPE_CHECKING:
    from ragqa.served import Served

EMPTY = ("No notes are indexed yet, so there is nothing to search: run `ragqa ingest` in a terminal (or set "
         "mcp.allow_ingest: true in config.yaml and call ingest_notes), then ask again.")


class Refusal(RagqaError):
    """A tool's one-line answer to a call it cannot serve (bad collection, empty index)."""


@dataclass
class Shared:
    """What every tool call of one server process shares."""

    served: Served
    warmup: Warmup


def _chosen(served, collection: str | None) -> list[str]:
    if collection is None:
        return list(served.default_names)
    if collection == "all":
        return list(served.collections)
    if collection not in served.collections:
        raise Refusal(f"no collection named {collection!r}: this server has {', '.join(served.collections)} "
                      "(or 'all')")
    return [collection]


def _chunk_count(settings) -> int:
    if not is_index(settings.index_path):
        return 0
    with read_snapshot(settings.index_path) as index:
        return index.chunk_count()


def _with_notes(served, names: list[str]) -> list[str]:
    """The chosen collections that hold notes; the EMPTY line when none does."""
    ready = [n for n in names if _chunk_count(served.collections[n]) > 0]
    if not ready:
        raise Refusal(EMPTY)
    return ready


def search_notes(shared: Shared, args: schemas.SearchArgs) -> list[dict]:
    from ragqa.retrieve.search import Filters

    served = shared.served
    names = _with_notes(served, _chosen(served, args.collection))
    filters = Filters(folders=[args.folder] if args.folder else [], tags=[args.tag] if args.tag else [],
                      kinds=[args.type] if args.type else [], **args.date_ranges())
    return search_json(served.searcher(names), args.query, k=args.k, filters=filters)


def ask_notes(shared: Shared, args: schemas.AskArgs) -> dict:
    from ragqa.answer.loop import answer_question

    served = shared.served
    names = _with_notes(served, _chosen(served, args.collection))
    chat_model = served.chat_model()
    answer = answer_question(args.question, searcher=served.searcher(names), chat_model=chat_model,
                             settings=served.settings, history=[])
    if answer.error is None and getattr(chat_model, "problem", None):  # a configured model that could not start
        answer.error = chat_model.problem
    return answer.as_json()


def _note_collections(served, collection: str | None, path: str) -> tuple[list[str], str]:
    """(the collections to look the note up in, in order; its path): a ragqa:// URI names its own."""
    if path.startswith(f"{SCHEME}://"):
        named, path = from_uri(path)
        if collection not in (None, named):
            raise Refusal(f"the URI names collection {named!r} but collection is {collection!r}: give one")
        collection = named
    if collection is not None:
        return _chosen(served, collection), path
    return list(dict.fromkeys([*served.default_names, *served.collections])), path


def _first_holding(served, names: list[str], path: str, read: Callable):
    """read(settings, path) in the first of these collections that has the note; else the first one's refusal."""
    refusals: list[NoteNotFoundError] = []
    for name in _with_notes(served, names):  # at least one
        try:
            return read(served.collections[name], path)
        except NoteNotFoundError as err:
            refusals.append(err)
    raise refusals[0]


def read_note(shared: Shared, args: schemas.ReadArgs) -> dict:
    names, path = _note_collections(shared.served, args.collection, args.path)
    return _first_holding(shared.served, names, path, lambda settings, p: note_json(settings, p, args.page))


def related_notes(shared: Shared, args: schemas.RelatedArgs) -> list[dict]:
    from ragqa.mcp.paths import indexed_note

    def related(settings, path):
        record, _ = indexed_note(settings, path)  # the note must be in the index, inside the notes folder
        try:
            return related_json(settings, settings.index_path, record.path, k=args.k)[1]
        except NoteNotFoundError:  # indexed, but without passages: its message would name the notes folder
            raise Refusal(f"{record.path!r} has no passages in the index, so no note can be related to it") from None

    names, path = _note_collections(shared.served, args.collection, args.path)
    return _first_holding(shared.served, names, path, related)


def list_collections(shared: Shared, args: schemas.NoArgs) -> list[dict]:
    return [collection_row(name, s.notes_path, s.index_path, True) for name, s in shared.served.collections.items()]


def _answers(served) -> str:
    settings = served.settings
    model = served.started_chat_model
    if settings.llm.provider == "none":
        return "retrieval only (llm.provider: none): ask_notes gives the best passages' sentences"
    if model is None:
        return f"llm.provider {settings.llm.provider}: the model starts at the first ask_notes"
    if not model.generates:
        return f"no language model: {getattr(model, 'problem', None) or 'retrieval only'}"
    return f"{model.name}: ready"


def index_status(shared: Shared, args: schemas.NoArgs) -> dict:
    served = shared.served
    collections = {}
    for name, settings in served.collections.items():
        try:
            collections[name] = status_json(settings.index_path, settings) if is_index(settings.index_path) else {
                "error": f"no index yet: run `ragqa ingest --collection {name}`"}
        except RagqaError as err:
            collections[name] = {"error": str(err)}
    ingest = ("allowed: ingest_notes brings the index up to date" if served.ingest is not None
              else "not from here (mcp.allow_ingest: false): run `ragqa ingest` in a terminal")
    return {"collections": collections, "default": served.default_names, "embedder": shared.warmup.state(),
            "answers": _answers(served), "ingest": ingest}


def ingest_notes(shared: Shared, args: schemas.IngestArgs) -> dict:
    served = shared.served
    if served.ingest is None:  # never listed then; refused all the same
        raise Refusal("ingest is off for this server: set mcp.allow_ingest: true in config.yaml, or run `ragqa ingest`")
    name = _chosen(served, args.collection)[0] if args.collection != "all" else None
    if name is None:
        raise Refusal("ingest_notes brings one collection up to date at a time: name it")
    index = served.index_of(name)
    return served.ingest(served.collections[name], index.embedder, lock_wait=args.wait).summary()
