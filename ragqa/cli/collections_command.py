"""`ragqa collections`: what each collection holds; `--remove NAME` deletes a removed collection's index."""
from __future__ import annotations

import json
import sys

from ragqa.collections import collections, leftover_indexes
from ragqa.errors import ConfigError, RagqaError


def register(commands) -> None:
    p = commands.add_parser("collections", help="the collections in config.yaml and what each holds")
    p.add_argument("--json", action="store_true",
                   help='print [{"name","notes_dir","files","chunks","model","last_ingest",…}]')
    p.add_argument("--remove", metavar="NAME", help="delete the index of a collection no longer in config.yaml")
    p.add_argument("--yes", action="store_true", help="with --remove: do not ask for confirmation")
    p.set_defaults(run=run_collections)


def _row(name: str, notes_dir, index_dir, configured: bool) -> dict:
    from ragqa.index.store import IndexReader, is_index

    row = {"name": name, "notes_dir": str(notes_dir) if notes_dir else None, "index_dir": str(index_dir),
           "files": 0, "chunks": 0, "model": None, "last_ingest": None, "configured": configured, "problem": None}
    if notes_dir is not None and not notes_dir.is_dir():
        row["problem"] = f"notes folder not found: {notes_dir}"
    if not is_index(index_dir):
        row["problem"] = row["problem"] or "no index yet: ragqa ingest --collection " + name
        return row
    try:
        reader = IndexReader(index_dir)
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


def collection_rows(settings) -> list[dict]:
    """The `ragqa collections --json` contract: the configured collections, then indexes left behind."""
    rows = [_row(c.name, c.settings.notes_path, c.settings.index_path, True) for c in collections(settings).values()]
    rows += [_row(name, None, path, False) for name, path in leftover_indexes(settings).items()]
    return rows


def _remove(settings, name: str, yes: bool) -> int:
    from ragqa.index.removal import delete_index

    if name in collections(settings):
        raise ConfigError(f"collection {name!r} is still in config.yaml: remove it there first (its notes are never "
                          "deleted; only its index is)")
    leftover = leftover_indexes(settings)
    if name not in leftover:
        known = ", ".join(leftover) or "none"
        raise ConfigError(f"no index left behind by a collection named {name!r} (left behind: {known})")
    folder = leftover[name]
    if not yes:
        if not sys.stdin.isatty():
            raise ConfigError(f"deleting {folder} needs confirmation: run it in a terminal, or add --yes")
        reply = input(f"Delete the index of collection {name!r} at {folder}? Your notes are not touched. [y/N] ")
        if reply.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    delete_index(folder)
    print(f"deleted the index of collection {name!r} ({folder})")
    return 0


def run_collections(settings, args) -> int:
    if args.remove:
        return _remove(settings, args.remove, args.yes)
    rows = collection_rows(settings)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for row in rows:
        held = f"{row['files']} files, {row['chunks']} chunks, {row['model']}" if row["model"] else "no index"
        where = row["notes_dir"] or "(removed from config.yaml)"
        print(f"{row['name']:<16} {where}  —  {held}, last ingest {row['last_ingest'] or 'never'}")
        if row["problem"]:
            print(f"{'':<16} {row['problem']}")
    return 0
