"""The JSON the faces share: what `ragqa search/status/related --json` print, and what the HTTP API and the MCP
server return. One function per contract, so the faces cannot drift apart."""
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


def status_json(index_dir: Path) -> dict:
    """The `ragqa status --json` contract (also `GET /v1/status`): what the index holds."""
    from ragqa.index.store import IndexReader

    reader = IndexReader(index_dir)
    try:
        return reader.stats()
    finally:
        reader.close()


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
