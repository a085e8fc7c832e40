"""`ragqa collections`: what each collection holds; `--remove NAME` deletes a removed collection's index."""
from __future__ import annotations

import json
import sys

from ragqa.collections import collections, leftover_indexes
from ragqa.contracts import collections_json
from ragqa.errors import ConfigError


def register(commands) -> None:
    p = commands.add_parser("collections", help="the collections in config.yaml and what each holds")
    p.add_argument("--json", action="store_true",
                   help='print [{"name","notes_dir","files","chunks","model","last_ingest",…}]')
    p.add_argument("--remove", metavar="NAME", help="delete the index of a collection no longer in config.yaml")
    p.add_argument("--yes", action="store_true", help="with --remove: do not ask for confirmation")
    p.set_defaults(run=run_collections)


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
    rows = collections_json(settings)
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
