"""Imports go one way: ingest/ uses ragqa/, the core of ragqa/ never uses ingest/ or a face, and the
browser's pieces (ragqa/web) never use ingest/ (ragqa/app/streamlit_app.py hands them its parts).

ingest/ is imported as ragqa.ingest (ragqa/ingest is a symlink to it: one import name in the wheel); both names
count here. Checked on the code's own import statements, including the ones inside functions.
"""
from __future__ import annotations

import ast

from conftest import REPO

FACES = ("ragqa.cli", "ragqa.web", "ragqa.api", "ragqa.mcp", "ragqa.app", "ragqa.__main__")
INGEST = ("ingest", "ragqa.ingest")  # the write path, under either name


def imports(path) -> set[str]:
    """The modules a file imports (absolute names; this project uses no relative imports)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def module_name(path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts)


def within(name: str, packages) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def offending(folder: str, banned) -> list[str]:
    return sorted(f"{module_name(path)} imports {name}"
                  for path in (REPO / folder).rglob("*.py")
                  for name in imports(path) if within(name, banned))


def test_the_core_never_imports_ingest_or_a_face():
    core = [p for p in (REPO / "ragqa").rglob("*.py") if not within(module_name(p), (*FACES, *INGEST))]
    assert core, "no core modules found: the layout moved"
    bad = sorted(f"{module_name(p)} imports {name}" for p in core for name in imports(p)
                 if within(name, (*INGEST, *FACES)))
    assert bad == []


def test_the_browser_pieces_never_import_ingest_or_another_face():
    assert offending("ragqa/web", (*INGEST, "ragqa.cli", "ragqa.api", "ragqa.app")) == []


def test_the_http_api_never_imports_the_browser_pieces_or_ingest():
    # It serves the CLI's JSON (ragqa.cli), by design; `ragqa serve` hands it the ingest function.
    assert offending("ragqa/api", ("ragqa.web", "ragqa.mcp", *INGEST)) == []


def test_the_mcp_server_never_imports_the_cli_or_the_browser_pieces():
    # It shares the HTTP API's guard (token, body cap) and reads a note's bytes as ingest decodes them; `ragqa mcp`
    # hands it the ingest function.
    assert offending("ragqa/mcp", ("ragqa.web", "ragqa.cli")) == []


def test_ingest_never_imports_a_face():
    assert offending("ingest", FACES) == []


def test_the_check_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def late():\n    from ingest.pipeline import ingest_folder\n    import ragqa.web.chat\n")
    assert imports(sample) == {"ingest.pipeline", "ragqa.web.chat"}
