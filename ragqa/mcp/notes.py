"""One note's text for a client (read_note, and each `ragqa://` resource), and the list of every indexed note.

A Markdown or text note is read from its file, as it is now. Any other document (PDF, Word, slides…) is given as
ragqa read it: its passages from the index, joined in order with the overlap between neighbours taken out, one
page at a time if asked. Which file may be read is decided in ragqa.mcp.paths alone.
"""
from __future__ import annotations

from ragqa.filetypes import PLAIN_KINDS
from ragqa.index.queries import read_snapshot
from ragqa.index.schema import is_index
from ragqa.mcp.paths import indexed_note, to_uri

MAX_CHARS = 200_000  # what one answer carries; a longer note says it was cut (PDFs: ask for a page)
MIN_OVERLAP_CHARS = 8  # neighbouring passages repeat at least a word (chunking.overlap_tokens), else nothing
MAX_OVERLAP_CHARS = 4000
MIME = {"markdown": "text/markdown"}


def stitched(texts: list[str]) -> str:
    """Consecutive passages of a section, each starting with a little of the one before, joined once.

    >>> stitched(["Tomatoes need sun. They need water.", "They need water. Pick hornworms off."])
    'Tomatoes need sun. They need water. Pick hornworms off.'
    >>> stitched(["First part.", "Second part."])
    'First part.\\n\\nSecond part.'
    """
    out = ""
    for text in texts:
        if not out:
            out = text
            continue
        longest = min(len(out), len(text), MAX_OVERLAP_CHARS)
        shared = next((n for n in range(longest, MIN_OVERLAP_CHARS - 1, -1) if out.endswith(text[:n])), 0)
        out += text[shared:] if shared else "\n\n" + text
    return out


def _document_text(chunks: list[tuple[int | None, str, str]], title: str) -> str:
    """A document's passages as text: sections apart, each under its heading (when it is more than the title)."""
    blocks: list[tuple[str, list[str]]] = []
    for _, heading, text in chunks:
        if not blocks or blocks[-1][0] != heading:
            blocks.append((heading, []))
        blocks[-1][1].append(text)
    parts = []
    for heading, texts in blocks:
        last = heading.rsplit(" > ", 1)[-1] if heading else ""
        parts.append((f"{last}\n\n" if last and last != title else "") + stitched(texts))
    return "\n\n".join(parts)


def note_json(settings, given: str, page: int | None = None) -> dict:
    """The read_note contract: {"collection","path","title","kind","page","pages","text","truncated"}."""
    from ragqa.errors import NoteNotFoundError

    record, file = indexed_note(settings, given)
    pages: list[int] = []
    if record.kind in PLAIN_KINDS:
        if page is not None:
            raise NoteNotFoundError(f"{record.path!r} is a {record.kind} note: it has no pages; leave page out")
        from ragqa.ingest.decode import decode_bytes  # the faces see both paths: the note decoded as ingest decodes it

        text = decode_bytes(file.read_bytes())[0]  # whole: it was no larger than max_file_mb when it was indexed
    else:
        with read_snapshot(settings.index_path) as index:
            chunks = index.note_chunks(record.path)
        pages = sorted({p for p, _, _ in chunks if p is not None})
        if page is not None:
            if page not in pages:
                raise NoteNotFoundError(f"{record.path!r} has no page {page} in the index: its pages are "
                                        f"{_ranges(pages) or 'none (it is not paged)'}")
            chunks = [c for c in chunks if c[0] == page]
        text = _document_text(chunks, record.title)
    return {"collection": settings.collection_name, "path": record.path, "title": record.title, "kind": record.kind,
            "page": page, "pages": pages, "text": text[:MAX_CHARS], "truncated": len(text) > MAX_CHARS}


def _ranges(pages: list[int]) -> str:
    """Page numbers as a reader writes them.

    >>> _ranges([1, 2, 3, 5, 7, 8])
    '1-3, 5, 7-8'
    """
    spans: list[list[int]] = []
    for p in pages:
        if spans and p == spans[-1][1] + 1:
            spans[-1][1] = p
        else:
            spans.append([p, p])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def indexed_notes(collections: dict) -> list[dict]:
    """Every indexed note of these collections ({name: settings}), as resources: collection by collection, each
    sorted by path. A collection without an index yet has none."""
    found = []
    for name, settings in collections.items():
        if not is_index(settings.index_path):
            continue
        with read_snapshot(settings.index_path) as index:
            records = index.file_records()
        for path in sorted(p for p, r in records.items() if r.status == "indexed"):
            record = records[path]
            found.append({"uri": to_uri(name, path), "name": path, "title": record.title or None,
                          "mime_type": MIME.get(record.kind, "text/plain"),
                          "description": f"{record.kind} in collection {name}"
                                         + (f", {record.chunks} passages" if record.chunks else "")})
    return found
