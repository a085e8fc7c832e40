"""The command-line face of ragqa: `ragqa COMMAND ...` (also `python -m ragqa`).

Like app.py, it is allowed to see both the write path (ingest/) and the read path.
Errors print one line to stderr and exit 1; never a traceback.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

from ragqa.config import load_settings
from ragqa.errors import RagqaError

COMMAND_MODULES = ["ragqa.cli.index_commands", "ragqa.cli.ask_commands", "ragqa.cli.app_command",
                   "ragqa.cli.eval_command", "ragqa.cli.notes_commands", "ragqa.cli.serve_command",
                   "ragqa.cli.collections_command", "ragqa.cli.history_commands",
                   "ragqa.cli.mcp_command", "ragqa.cli.models_command"]


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(prog="ragqa", description="Ask questions of your own notes, offline.")
    parser.add_argument("--config", help="settings file (default: config.yaml here, or $RAGQA_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is going on")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        settings = load_settings(args.config)
        return int(args.run(settings, args) or 0)
    except RagqaError as err:
        print(f"ragqa: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ragqa: interrupted", file=sys.stderr)
        return 130
