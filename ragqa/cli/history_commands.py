"""`ragqa history`: the saved conversations (ragqa.index.history): list, show, export, delete.

    ragqa history [--json]                      [{"id","title","started","updated","turns"}], newest first
    ragqa history show ID [--json]
    ragqa history export ID [--format md|json] [-o FILE]
    ragqa history delete ID|--all

An ID may be shortened to any prefix that only one conversation has. `ragqa chat --resume ID` goes on
with one (ragqa.cli.ask_commands).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ragqa.collections import labelled
from ragqa.errors import HistoryError
from ragqa.index.history import open_history


def register(commands) -> None:
    p = commands.add_parser("history", help="the saved conversations: list, show, export, delete")
    _common(p)
    actions = p.add_subparsers(dest="history_action", metavar="ACTION")
    show = actions.add_parser("show", help="print one conversation")
    show.add_argument("id")
    _common(show)
    export = actions.add_parser("export", help="one conversation as Markdown (Obsidian links) or JSON")
    export.add_argument("id")
    export.add_argument("--format", choices=["md", "json"], default="md")
    export.add_argument("-o", "--output", help="write to this file (default: print it)")
    _common(export, json_flag=False)
    delete = actions.add_parser("delete", help="delete one conversation, or --all")
    delete.add_argument("id", nargs="?")
    delete.add_argument("--all", action="store_true", help="delete every saved conversation")
    _common(delete, json_flag=False)
    p.set_defaults(run=run_history)


def _common(p, json_flag: bool = True) -> None:
    # SUPPRESS: given before or after the action, whichever parser saw it sets it
    p.add_argument("--index", default=argparse.SUPPRESS, help="index folder (default: index_dir from config)")
    if json_flag:
        p.add_argument("--json", action="store_true", default=argparse.SUPPRESS)


def run_history(settings, args) -> int:
    history = open_history(settings, getattr(args, "index", None))
    action = getattr(args, "history_action", None)
    as_json = getattr(args, "json", False)
    if action is None:
        return _list(history, as_json)
    if action == "delete":
        return _delete(history, args)
    from ragqa.answer.export import conversation_json, conversation_markdown

    conversation = history.find(args.id)
    turns = history.turns(conversation.id)
    if action == "show":
        if as_json:
            print(json.dumps(conversation_json(conversation, turns), ensure_ascii=False))
        else:
            _show(conversation, turns)
        return 0
    text = (json.dumps(conversation_json(conversation, turns), ensure_ascii=False, indent=2) + "\n"
            if args.format == "json" else conversation_markdown(conversation, turns))
    if args.output:
        Path(args.output).expanduser().write_text(text, encoding="utf-8")
        print(f"Wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _list(history, as_json: bool) -> int:
    rows = [c.summary() for c in history.conversations()]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    if not rows:
        print(f"No saved conversations (in {history.path}).")
        return 0
    for row in rows:
        turns = "1 turn" if row["turns"] == 1 else f"{row['turns']} turns"
        print(f"{row['id']}  {row['updated'][:16].replace('T', ' ')}  {turns:>9}  {row['title']}")
    return 0


def _show(conversation, turns) -> None:
    print(f"{conversation.title}\n({conversation.id} · started {conversation.started} · {len(turns)} turns)")
    for turn in turns:
        print(f"\n> {turn.question}\n{turn.answer}")
        for row in turn.citations:
            where = f"page {row['page']}" if row.get("page") else row.get("heading") or ""
            print(f"  [{row['n']}] {labelled(row['path'], row.get('collection'))} — {where}")


def _delete(history, args) -> int:
    if args.all == bool(args.id):
        raise HistoryError("say which conversation to delete: `ragqa history delete ID`, or `--all`")
    if args.all:
        gone = history.delete(None)
        print(f"Deleted {gone} conversation{'s' if gone != 1 else ''} from {history.path}.")
        return 0
    conversation = history.find(args.id)
    history.delete(conversation.id)
    print(f"Deleted conversation {conversation.id} ({conversation.title}).")
    return 0
