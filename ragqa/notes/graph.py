"""How notes connect: related notes, near-duplicates and topics, over the index's note vectors.

The functions here read the index (never write it) and return plain data for the
faces: `ragqa related|topics|duplicates` and the browser. Note vectors come from
`ragqa.notes.vectors` (recomputed only for notes that changed); the maths is in
`ragqa.notes.similarity`, `ragqa.notes.clusters` and `ragqa.notes.topic_names`.

    notes = load_note_vectors(settings.index_path)
    related_notes(notes, "Concepts/recall.md")   # [{"path", "title", "score"}, ...] best first
    duplicate_notes(notes, 0.95)                  # [{"a", "b", "score"}, ...]
    chat_model = make_chat_model(settings)        # a NoChatModel (llm.provider none): words name the topics
    find_topics(notes, note_texts(settings.index_path), chat_model=chat_model)  # [{"name", "size", "notes"}]
"""
from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np

from ragqa.errors import NoteNotFoundError
from ragqa.index.queries import read_snapshot
from ragqa.models.chat import RETRIEVAL_ONLY, ChatModel
from ragqa.notes.clusters import choose_k, rule_of_thumb_k
from ragqa.notes.similarity import centred, pairs_above, top_k
from ragqa.notes.topic_names import distinctive_terms, llm_names, term_name
from ragqa.notes.vectors import MIN_NOTES_TO_CENTRE, NoteVectors

RELATED_K = 10
DUPLICATE_THRESHOLD = 0.9  # centred cosine; measured on planted near-copies, docs/NOTES-GRAPH.md
TEXT_CHARS_PER_NOTE = 4000  # enough words to name a topic by
MAX_AUTO_TOPICS = 30


def resolve_note(notes: NoteVectors, given: str, notes_dir: str | Path | None = None) -> str:
    """The index's path for `given`: relative to the notes folder, or absolute (or cwd-relative) under it."""
    base = Path(notes_dir or notes.notes_dir or ".").expanduser().resolve()
    raw = Path(given).expanduser()
    rel = raw.as_posix().removeprefix("./")
    if not raw.is_absolute() and notes.row(rel) is not None:
        return rel
    on_disk = raw if raw.is_absolute() else Path.cwd() / raw
    inside: str | None = rel  # its path under the notes folder; None: not under it
    if raw.is_absolute() or on_disk.exists():
        try:
            inside = on_disk.resolve().relative_to(base).as_posix()
        except ValueError:
            inside = None
        if inside is not None and notes.row(inside) is not None:
            return inside
    guess = difflib.get_close_matches(inside or given, notes.paths, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(guess)}?" if guess else ""
    where = "outside the notes folder" if inside is None else "not in the index (not ingested yet, or skipped)"
    raise NoteNotFoundError(
        f"{given} is {where}: give a note's path relative to the notes folder {base} "
        f"(e.g. {notes.paths[0] if notes.paths else 'notes/idea.md'}){hint}"
    )


def related_notes(notes: NoteVectors, path: str, k: int = RELATED_K) -> list[dict]:
    """The k notes most similar to `path`, best first: [{"path", "title", "score"}]."""
    row = notes.row(path)
    if row is None:
        raise NoteNotFoundError(f"{path} is not in the index: ingest it first (`ragqa ingest`)")
    return [{"path": notes.paths[i], "title": notes.titles[i], "score": round(s, 4)}
            for i, s in top_k(notes.comparable(), row, k)]


def duplicate_notes(notes: NoteVectors, threshold: float = DUPLICATE_THRESHOLD) -> list[dict]:
    """Pairs of notes whose cosine is at least `threshold`, most similar first: [{"a", "b", "score"}].

    The same centred cosine as related notes: plain cosines of near-copies run from 0.81 (MiniLM) to
    0.96+ (E5), while centred ones mean about the same for both models."""
    return [{"a": notes.paths[i], "b": notes.paths[j], "score": round(s, 4)}
            for i, j, s in pairs_above(notes.comparable(), threshold)]


def duplicate_chunks(index_dir: Path, threshold: float = DUPLICATE_THRESHOLD) -> list[dict]:
    """Passages of different notes that say nearly the same thing: [{"a", "b", "score", "a_heading", "b_heading"}].

    Centred on the mean passage, like notes. Exact and quadratic in the number of chunks: seconds for
    ~10k chunks, minutes past ~100k.
    """
    with read_snapshot(Path(index_dir)) as index:
        rows, matrix = index.chunk_vectors()
    if not rows:
        return []
    matrix = centred(matrix) if len(rows) >= MIN_NOTES_TO_CENTRE else matrix
    pairs = []
    for i, j, score in pairs_above(matrix, threshold):
        (a, a_heading), (b, b_heading) = sorted([rows[i], rows[j]])
        if a != b:
            pairs.append({"a": a, "b": b, "score": round(score, 4), "a_heading": a_heading, "b_heading": b_heading})
    return pairs


def note_texts(index_dir: Path, chars: int = TEXT_CHARS_PER_NOTE) -> dict[str, str]:
    """The start of each note's text (its chunks in order), for naming topics."""
    texts: dict[str, list[str]] = {}
    with read_snapshot(Path(index_dir)) as index:
        for path, text in index.chunk_texts():
            parts = texts.setdefault(path, [])
            if sum(map(len, parts)) < chars:
                parts.append(text)
    return {p: " ".join(parts)[:chars] for p, parts in texts.items()}


def topic_k_setting(settings) -> int | None:
    """`topics.k` from config.yaml, or None: choose by silhouette (also when there are no settings)."""
    return settings.topics.k if settings is not None else None


def auto_k_candidates(n: int) -> list[int]:
    """The k values tried when none is set: half of sqrt(n/2) up to sqrt(n/2), at most MAX_AUTO_TOPICS.

    On the vault the silhouette is flat from 12 to 64 topics (0.067-0.075; docs/NOTES-GRAPH.md):
    more topics are not better clusters, and a legend of more than ~20 colours is unreadable.
    On a folder with clear topics the silhouette does pick them out (tests/test_notes_graph.py).

    >>> auto_k_candidates(1186), auto_k_candidates(13), auto_k_candidates(20000)
    ([12, 16, 20, 24], [2, 3], [30])
    """
    base = rule_of_thumb_k(n)
    return sorted({max(2, min(n, MAX_AUTO_TOPICS, round(base * f))) for f in (0.5, 0.67, 0.83, 1.0)})


def cluster_notes(notes: NoteVectors, k: int | None = None) -> tuple[np.ndarray, dict[int, float]]:
    """One topic label per note (k given, or chosen by silhouette), and the silhouettes tried."""
    if len(notes) < 3:
        return np.zeros(len(notes), dtype=np.int64), {}
    candidates = [k] if k is not None else auto_k_candidates(len(notes))
    _, labels, scores = choose_k(notes.comparable(), candidates)
    return labels, scores


def find_topics(notes: NoteVectors, texts: dict[str, str], k: int | None = None, settings=None,
                chat_model: ChatModel = RETRIEVAL_ONLY) -> tuple[list[dict], str | None]:
    """Topics, largest first: ([{"name", "size", "notes"}], a one-line problem with the LLM or None).

    Every note is in exactly one topic; a topic's notes are listed most typical first. Names come from
    the chat model it is handed when that one generates, else, and on any LLM failure, from distinctive
    words. `settings` only gives topics.k.
    """
    k = k or topic_k_setting(settings)
    labels, _ = cluster_notes(notes, k)
    groups = [np.flatnonzero(labels == t).tolist() for t in range(int(labels.max()) + 1 if len(labels) else 0)]
    groups = [_most_central(notes.comparable(), g) for g in groups if g]
    groups = sorted(groups, key=lambda g: (-len(g), notes.paths[g[0]]))
    terms = distinctive_terms([[(notes.titles[i], texts.get(notes.paths[i], "")) for i in g] for g in groups])
    names = [term_name(t) for t in terms]
    problem = None
    if groups and chat_model.generates:
        names, problem = llm_names(chat_model, [[notes.titles[i] for i in g] for g in groups], names)
    topics = [{"name": name, "size": len(g), "notes": [notes.paths[i] for i in g]}
              for name, g in zip(names, groups, strict=True)]
    return topics, problem


def _most_central(vectors: np.ndarray, group: list[int]) -> list[int]:
    """The group's notes, most typical first: the best sample titles to show an LLM."""
    members = vectors[group]
    centre = members.mean(axis=0)
    return [group[i] for i in np.argsort(-(members @ centre), kind="stable")]
