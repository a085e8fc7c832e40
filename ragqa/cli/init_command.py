"""`ragqa init [DIR]`: write the commented config.yaml (every key at its default) for people who want to edit
settings. Without DIR it goes to the user config folder, where every ragqa command finds it (ragqa.places)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from ragqa.errors import ConfigError
from ragqa.places import CONFIG_NAME, DEFAULT_CONFIG, user_config_file


def register(commands) -> None:
    p = commands.add_parser("init", help="write a commented config.yaml to edit (default: the user config folder)")
    p.add_argument("folder", nargs="?", metavar="DIR", help=f"where to write {CONFIG_NAME} (default: "
                   f"{user_config_file().parent}, read from any folder)")
    p.add_argument("--notes", metavar="FOLDER", help="your notes folder, written as notes_dir (default: ~/notes)")
    p.add_argument("--force", action="store_true", help=f"replace an existing {CONFIG_NAME}")
    p.set_defaults(run=run_init, needs_settings=False)


def commented_config(notes: str | None = None) -> str:
    """The packaged default config, with notes_dir set to `notes` if given."""
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    if notes:
        folder = str(Path(notes).expanduser().resolve())
        text = re.sub(r"^notes_dir: \S+", lambda _: f"notes_dir: {json.dumps(folder)}", text, count=1, flags=re.M)
    return text


def run_init(settings, args) -> int:
    target = (Path(args.folder).expanduser() / CONFIG_NAME) if args.folder else user_config_file()
    if target.exists() and not args.force:
        again = " ".join(["ragqa init", *([args.folder] if args.folder else []), "--force"])
        raise ConfigError(f"{target} already exists: edit it, or replace it with `{again}`")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(commented_config(args.notes), encoding="utf-8")
    print(f"wrote {target}: every setting at its default, with a comment; keep the ones you change")
    return 0
