"""How notes connect, as the browser reads it: computed once per index version, then served from caches.

A version is (index folder, file id, generation). An ingest commits a new generation and an index
deleted and built again is a new file, so either one is a new version: nothing is recomputed on a
redraw, and nothing stale is shown after a change. The caches belong to the process, so every browser
tab shares them; old versions fall out (max_entries).
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from ragqa.errors import NoteNotFoundError, RagqaError
from ragqa.index.queries import index_version as stored_index_version
from ragqa.models.chat import ChatModel, NoChatModel
from ragqa.notes.graph import DUPLICATE_THRESHOLD, duplicate_notes, find_topics, note_texts, related_notes
from ragqa.notes.note_map import map_chart, map_points
from ragqa.notes.similarity import axis_positions
from ragqa.notes.vectors import NoteVectors, load_note_vectors

Version = tuple[str, int, int]


@dataclass(frozen=True)
class TopicNamer:
    """Who names the topics: the chat model when it answers, else the topics' distinctive words.

    `key` is part of every cache key that depends on the names ("words", or the model's name)."""

    key: str
    settings: object  # for topics.k
    chat_model: ChatModel = field(default_factory=NoChatModel)  # one that does not generate: words name them
    problem: str | None = None  # why words name the topics although an LLM is configured


def words_namer(settings, problem: str | None = None) -> TopicNamer:
    return TopicNamer("words", settings, NoChatModel(), problem=problem)


def index_version(index_dir: Path) -> Version | None:
    """(folder, file id, generation) of the index, or None when there is none to read (yet)."""
    try:
        return stored_index_version(index_dir)
    except (OSError, RagqaError, sqlite3.Error):
        return None


@st.cache_resource(max_entries=2, show_spinner="Reading your notes…")
def note_vectors(version: Version) -> NoteVectors:
    """Shared, not copied (10k notes are 15 MB): callers only read it."""
    return load_note_vectors(Path(version[0]))


@st.cache_data(max_entries=5000, show_spinner=False)
def related_to(version: Version, path: str, k: int) -> list[dict]:
    """The k notes most like `path`, best first, or [] when it is not (or no longer) in the index."""
    try:
        return related_notes(note_vectors(version), path, k)
    except NoteNotFoundError:
        return []


@st.cache_data(max_entries=4, show_spinner="Grouping your notes into topics…")
def topics(version: Version, namer_key: str, _namer: TopicNamer) -> tuple[list[dict], str | None]:
    """`find_topics` of the version: ([{"name", "size", "notes"}], a problem with the LLM or None)."""
    notes = note_vectors(version)
    found, problem = find_topics(notes, note_texts(Path(version[0])), settings=_namer.settings,
                                 chat_model=_namer.chat_model)
    names = distinct_names([topic["name"] for topic in found])
    return [{**topic, "name": name} for topic, name in zip(found, names, strict=True)], problem


def distinct_names(names: list[str]) -> list[str]:
    """Topic names made unique (the map colours by name, so two topics must never share one).

    >>> distinct_names(["rust, traits", "baking", "rust, traits", "rust, traits"])
    ['rust, traits', 'baking', 'rust, traits (2)', 'rust, traits (3)']
    """
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


@st.cache_resource(max_entries=4, show_spinner="Drawing the map…")
def notes_chart(version: Version, namer_key: str, colour: str, _namer: TopicNamer):
    """The Altair map of every note (hover: title; colour: topic or folder; click: selection "note")."""
    notes = note_vectors(version)
    found, _ = topics(version, namer_key, _namer)
    topic_of = {path: topic["name"] for topic in found for path in topic["notes"]}
    points = map_points(notes.paths, notes.titles, notes.vectors, topic_of)
    # Tableau's colours: the Streamlit theme's are too alike (two blues, two reds) to tell topics apart
    scheme = "tableau10" if len({p[colour] for p in points}) <= 10 else "tableau20"
    return map_chart(points, colour=colour).configure_range(category={"scheme": scheme}).configure_view(stroke=None)


@st.cache_data(max_entries=4, show_spinner="Looking for near-duplicate notes…")
def duplicates(version: Version) -> list[dict]:
    """Pairs of notes at or above DUPLICATE_THRESHOLD, most alike first (an n² product: once per version)."""
    return duplicate_notes(note_vectors(version), DUPLICATE_THRESHOLD)


@st.cache_data(max_entries=16, show_spinner=False)
def ranked_by_example(version: Version, low: tuple[str, ...], high: tuple[str, ...]) -> list[dict]:
    """Every note's place between two poles given by example notes, the second pole's end first:
    [{"position", "title", "path"}] (0: like the first pole's examples on average, 1: like the second's)."""
    notes = note_vectors(version)
    rows = [notes.row(p) for p in low], [notes.row(p) for p in high]
    positions = axis_positions(notes.comparable(), *([r for r in side if r is not None] for side in rows))
    order = (-positions).argsort(kind="stable")
    return [{"position": round(float(positions[i]), 3), "title": notes.titles[i], "path": notes.paths[i]}
            for i in order]
