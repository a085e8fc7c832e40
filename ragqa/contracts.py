"""The JSON the faces share: what `ragqa search/status/related/collections --json` print, and what the HTTP API
and the MCP server return. One function per contract, so the faces cannot drift apart."""
from __future__ import annotations

from pathlib import Path

from ragqa.errors import ConfigError


def hit_json(hit) -> dict:
    c = hit.chunk
    return {"path": c.path, "title": c.title, "heading": c.heading, "page": c.page,
            "score": round(float(hit.score), 6), "text": c.text, "collection": c.collection or None}


def search_json(searcher, query: str, k: int | None = None, mode: str | None = None, filters=None) -> list[dict]:
    """The `ragqa search --json` contract (also `POST /v1/search`): one row per passage, best first."""
    return [hit_json(h) for h in searcher.search(query, k=k, mode=mode, filters=filters)]


def status_json(index_dir: Path, settings=None) -> dict:
    """The `ragqa status --json` contract (also `GET /v1/status`): what the index holds, where it is, the version
    of ragqa that says so and, given the settings, `"llm"`: the language model, where it comes from, its threads,
    GPU layers and context (ragqa.models.llm_summary)."""
    from ragqa import __version__
    from ragqa.index.store import open_reader

    reader = open_reader(index_dir)
    try:
        stats = {**reader.stats(), "index_dir": str(Path(index_dir).resolve()), "version": __version__}
    finally:
        reader.close()
    if settings is not None:
        from ragqa.models.llm_summary import llm_summary

        stats["llm"] = llm_summary(settings)
    return stats


def related_json(settings, index_dir: Path, note: str, k: int = 10, index_only: bool = False) -> tuple[str, list[dict]]:
    """(the note's path in the index, the `ragqa related --json` rows); also `GET /v1/related`.

    The CLI may name the note as a file on disk too (absolute, or from where it runs); a face that serves
    other people passes `index_only=True`: the note is looked up in the index alone (ragqa.note_paths), and
    the error names no server path."""
    from ragqa.note_paths import indexed_note
    from ragqa.notes.graph import related_notes, resolve_note
    from ragqa.notes.vectors import load_note_vectors

    if k < 1:
        raise ConfigError("-k must be at least 1")
    notes = load_note_vectors(index_dir)
    if index_only:
        path = indexed_note(note, notes.paths)
    else:
        path = resolve_note(notes, note, notes.notes_dir or settings.notes_path)
    return path, related_notes(notes, path, k=k)


def collection_row(name: str, notes_dir, index_dir, configured: bool) -> dict:
    """One row of `ragqa collections --json` (also the MCP server's list_collections): what a collection holds."""
    from ragqa.errors import RagqaError
    from ragqa.index.store import is_index, open_reader

    row = {"name": name, "notes_dir": str(notes_dir) if notes_dir else None, "index_dir": str(index_dir),
           "files": 0, "chunks": 0, "model": None, "last_ingest": None, "configured": configured, "problem": None}
    if notes_dir is not None and not notes_dir.is_dir():
        row["problem"] = f"notes folder not found: {notes_dir}"
    if not is_index(index_dir):
        row["problem"] = row["problem"] or "no index yet: ragqa ingest --collection " + name
        return row
    try:
        reader = open_reader(index_dir)
        try:
            stats = reader.stats()
        finally:
            reader.close()
    except RagqaError as err:
        row["problem"] = str(err)
        return row
    row.update(files=stats["files"], chunks=stats["chunks"], model=stats["model"], last_ingest=stats["last_ingest"])
    if not configured:
        row["problem"] = f"not in config.yaml any more: `ragqa collections --remove {name}` deletes its index"
    return row


def collections_json(settings) -> list[dict]:
    """The `ragqa collections --json` contract: the configured collections, then indexes left behind."""
    from ragqa.collections import collections, leftover_indexes

    rows = [collection_row(c.name, c.settings.notes_path, c.settings.index_path, True)
            for c in collections(settings).values()]
    rows += [collection_row(name, None, path, False) for name, path in leftover_indexes(settings).items()]
    return rows
