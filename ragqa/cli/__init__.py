"""The command-line face of ragqa: `ragqa COMMAND ...` (also `python -m ragqa`).

Like the browser's entry (ragqa/app), it is allowed to see both the write path (ingest/) and the read path.
Errors print one line to stderr and exit 1; never a traceback.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from ragqa import __version__
from ragqa.config import load_settings
from ragqa.errors import RagqaError

COMMAND_MODULES = ["ragqa.cli.index_commands", "ragqa.cli.ask_commands", "ragqa.cli.app_command",
                   "ragqa.cli.eval_command", "ragqa.cli.notes_commands", "ragqa.cli.serve_command",
                   "ragqa.cli.collections_command", "ragqa.cli.history_commands",
                   "ragqa.cli.mcp_command", "ragqa.cli.init_command", "ragqa.cli.models_command"]
NO_NOTES_OPTION = {"eval"}  # its --index is the benchmark's own index, not a notes folder's


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(prog="ragqa", description="Ask questions of your own notes, offline.")
    parser.add_argument("--config", help="settings file (default: $RAGQA_CONFIG, ./config.yaml, else the user "
                        "config folder's; none: the defaults)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is going on")
    parser.add_argument("--version", action="version", version=f"ragqa {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    for name, command in commands.choices.items():  # every command that reads or writes a notes folder's index
        options = command._option_string_actions
        if "--index" in options and "--notes" not in options and name not in NO_NOTES_OPTION:
            command.add_argument("--notes", metavar="FOLDER",
                                 help="notes folder (default: notes_dir from config); its own index unless "
                                      "index_dir is set")
    return parser


def with_notes(settings, args):
    """--notes FOLDER in place of notes_dir for this command: with index_dir unset, the command reads and writes
    that folder's own index. So does `ragqa ingest|watch FOLDER` then (with index_dir set, FOLDER goes into that
    index, as it always did)."""
    folder = getattr(args, "notes", None)
    if not folder and args.command in ("ingest", "watch") and settings.index_dir is None:
        folder = args.path
    if not folder:
        return settings
    return settings.model_copy(update={"notes_dir": str(Path(folder).expanduser().resolve())})


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        settings = with_notes(load_settings(args.config), args) if getattr(args, "needs_settings", True) else None
        return int(args.run(settings, args) or 0)
    except RagqaError as err:
        print(f"ragqa: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ragqa: interrupted", file=sys.stderr)
        return 130
