"""What the server offers, in the words the calling model reads: the tools' descriptions, the server's
instructions, and the one prompt ("answer from my notes with citations")."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ragqa.mcp import schemas, tools

INSTRUCTIONS = """ragqa searches the user's own notes and documents (Markdown, text, PDF, Word, slides...) on their
machine. For any question about what the user wrote, call search_notes first (search again with other words if
nothing fits), read_note for a whole note or a PDF page, and cite each claim by the note's path and heading (or
page). Say so when the notes do not answer."""


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    description: str
    args: type[schemas.Args]
    run: Callable  # (tools.Shared, args) -> JSON-able
    read_only: bool = True


TOOLS = [
    ToolSpec("search_notes", "Search my notes", """Search the user's own notes and documents, indexed by ragqa,
by meaning and by keywords together. Returns the best passages, best first, as a JSON list of
{path, title, heading, page, score, text, collection}: `path` is the note's path in its notes folder (give it to
read_note or related_notes), `heading` the section the passage sits under ("Note title > Section"), `page` the
page of a PDF or other paged document (else null). Use it first for any question about the user's notes, and
search again with other words if nothing fits. Cite what you use by path and heading (or page). The same JSON
as `ragqa search --json`.""", schemas.SearchArgs, tools.search_notes),
    ToolSpec("ask_notes", "Ask ragqa", """Have ragqa answer a question from the user's notes with its own local
language model: returns the JSON of `ragqa ask --json`, {answer, citations, sources, model, ...}, where `answer`
carries [n] markers and each row of `citations` ({n, path, heading, page, text}) is the passage [n] cites.
It takes seconds to a minute and is written by a small local model: you may instead answer by yourself from
search_notes results (often better). Use it when the user wants ragqa's own answer.""",
             schemas.AskArgs, tools.ask_notes),
    ToolSpec("read_note", "Read a note", """Read one whole note from the user's indexed notes, or one page of a
PDF: returns {collection, path, title, kind, page, pages, text, truncated}. Give `path` as search_notes returned
it. Markdown and text notes come as they are in the file now; other documents as ragqa read them. For a long
document give `page` (`pages` lists them). Only notes in the index can be read.""",
             schemas.ReadArgs, tools.read_note),
    ToolSpec("related_notes", "Related notes", """The notes most similar in meaning to one note: a JSON list of
{path, title, score}, best first (the same as `ragqa related --json`). Use it to find what connects to a note.""",
             schemas.RelatedArgs, tools.related_notes),
    ToolSpec("list_collections", "List collections", """The collections (notes folders, each indexed apart) this
server searches: a JSON list of {name, notes_dir, files, chunks, model, last_ingest, index_dir, configured,
problem}, as `ragqa collections --json`. Pass a name as `collection` to the other tools ('all' for every one).""",
             schemas.NoArgs, tools.list_collections),
    ToolSpec("index_status", "Index status", """Whether ragqa is ready and what its index holds:
{collections: {name: the JSON of `ragqa status --json` (files, types, chunks, model, last_ingest...) or
{error}}, default, embedder, answers, ingest}. `embedder` says whether the embedding model is still loading in
the background (a search waits for it), `answers` whether ask_notes has a language model.""",
             schemas.NoArgs, tools.index_status),
]

INGEST = ToolSpec("ingest_notes", "Re-index my notes", """Bring the index up to date with the notes folder
(incremental: only new and changed files are read). Returns the JSON of `ragqa ingest --json`: {added, updated,
removed, unchanged, chunks, seconds, skipped}. Call it only when the user asks to re-index.""",
                  schemas.IngestArgs, tools.ingest_notes, read_only=False)


def tool_specs(allow_ingest: bool) -> dict[str, ToolSpec]:
    """The tools by name; ingest_notes only when config.yaml's mcp.allow_ingest is true."""
    return {t.name: t for t in [*TOOLS, *([INGEST] if allow_ingest else [])]}


PROMPT_NAME = "answer-from-notes"
PROMPT_TITLE = "Answer from my notes with citations"
PROMPT_DESCRIPTION = "Answer a question from your own notes only, citing the note (and heading or page) of each claim"


def prompt_text(question: str) -> str:
    return f"""Answer my question from my notes only.

1. Call search_notes with the question (and again with other words if nothing fits); call read_note when a
   passage needs the rest of its note or page.
2. Answer in a few sentences. After each claim, cite its source in brackets: the note's path, then its heading
   or page, e.g. [garden/tomatoes.md > Pests] or [papers/attention.pdf, page 3].
3. Use nothing but what the notes say. If they do not answer, say so plainly and list the closest notes found.

My question: {question}"""
