"""`ragqa models list`: every language model ragqa can use here, with its size, source and readiness."""
from __future__ import annotations

import json

from ragqa.models.catalog import model_catalog


def register(commands) -> None:
    p = commands.add_parser("models", help="the language models you can use (bundled, GGUF files, Ollama)")
    p.set_defaults(run=run_list, json=False)  # `ragqa models` alone lists them
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="each model with its size, where it comes from and whether it is ready")
    listing.add_argument("--json", action="store_true",
                         help='print [{"name","size","source","ready","detail","in_use"}]')
    listing.set_defaults(run=run_list)


def _size(size: int | None) -> str:
    """
    >>> _size(98_362_432), _size(1_117_320_768), _size(None)
    ('98 MB', '1.1 GB', '?')
    """
    if size is None:
        return "?"
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


def run_list(settings, args) -> int:
    catalog = model_catalog(settings)
    if args.json:
        print(json.dumps([row.as_json() for row in catalog.rows], ensure_ascii=False))
        return 0
    table = [("", "NAME", "SIZE", "SOURCE", "READY", "")] + [
        ("*" if r.in_use else "", r.name, _size(r.size), r.source, "yes" if r.ready else "no", r.detail)
        for r in catalog.rows]
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    for row in table:
        print(("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[5]).rstrip())
    print("\n* in use. A bundled, file or hf name goes in llm.local_model; an Ollama one in llm.model with "
          "llm.provider: ollama.")
    for note in catalog.notes:
        print(note)
    return 0
