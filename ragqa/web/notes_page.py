"""The browser's "Your notes" view: a map of the notes, their topics, near-duplicates, each file's
status with the index, and scoring notes by example.

Each section is a tab that runs only while it is open, and everything that costs more than a glance
comes from `ragqa.web.notes_data`, computed once per index version. Titles and paths go through
`plain()` or into dataframes: note text is never read as Markdown or HTML.
"""
from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import streamlit as st

from ragqa.errors import RagqaError
from ragqa.notes.graph import DUPLICATE_THRESHOLD, RELATED_K
from ragqa.notes.note_map import picked_path
from ragqa.web.markup import plain, related_list
from ragqa.web.notes_data import (
    TopicNamer,
    Version,
    duplicates,
    note_vectors,
    notes_chart,
    ranked_by_example,
    related_to,
    topics,
    words_namer,
)
from ragqa.web.resources import chat_model_for, keys, llm_check

SECTIONS = ["Map", "Topics", "Near-duplicates", "Files", "Score by example"]
MIN_NOTES_FOR_MAP = 3  # two points are a line, not a map
STATUS_ORDER = {"skipped": 0, "pending": 1, "indexed": 2}  # what needs attention first


# (settings, notes_dir, index_dir) -> one {"path", "status", "reason"} per file: ingest's view, passed in by
# the app (ragqa/ never imports ingest/)
FileStatuses = Callable[..., list[dict]]


def topic_namer(settings) -> TopicNamer:
    """The chat model names topics when it answers; otherwise (and with llm.provider none) their words do."""
    model, problem = chat_model_for(settings)
    if model.generates:
        problem = llm_check(keys(settings)["llm"], model)
        if not problem:
            return TopicNamer(model.name, settings, model)
        problem = f"{model.name}: {problem}"
    return words_namer(settings, problem)


def safe_notes_view(settings, version: Version, file_statuses: FileStatuses) -> None:
    """The view with its topics named by `topic_namer`, or one line when the index changes under it."""
    try:
        notes_view(settings, version, topic_namer(settings), file_statuses)
    except (RagqaError, sqlite3.Error) as err:  # e.g. the index was deleted meanwhile
        st.warning(f"Your notes cannot be shown right now: {err}")


def notes_view(settings, version: Version, namer: TopicNamer, file_statuses: FileStatuses) -> None:
    """The whole view; the caller has checked that there is an index to read."""
    shows: list[Callable[[Any, Version, TopicNamer], None]] = [
        map_section, topics_section, duplicates_section, partial(files_section, file_statuses=file_statuses),
        example_section]
    for tab, show in zip(st.tabs(SECTIONS, key="notes_section", on_change="rerun"), shows, strict=True):
        if tab.open:
            with tab:
                show(settings, version, namer)


def map_section(settings, version: Version, namer: TopicNamer) -> None:
    notes = note_vectors(version)
    if len(notes) < MIN_NOTES_FOR_MAP:
        st.info(f"The map needs at least {MIN_NOTES_FOR_MAP} notes and the index has {len(notes)}: "
                "add notes to the folder and ingest them.")
        return
    chart_column, note_column = st.columns([2, 1])
    with note_column:
        colour = st.segmented_control("Colour by", ["topic", "folder"], default="topic", key="map_colour") or "topic"
    with chart_column:
        chart = notes_chart(version, namer.key, colour, namer)
        event = st.altair_chart(chart, on_select="rerun", key="notes_map", width="stretch")
    with note_column:
        picked = picked_path(event.get("selection") if event else None)
        if picked is None:
            st.caption(f"{len(notes)} notes; near notes are about the same things. Hover a point for its title, "
                       "click it for its related notes; scroll to zoom, drag to pan, double-click to let go.")
        else:
            note_card(version, picked)
    if namer.problem:
        st.caption(f"Topics are named by their words: {plain(namer.problem)}")


def note_card(version: Version, path: str) -> None:
    notes = note_vectors(version)
    row = notes.row(path)
    if row is None:
        st.caption(f"{plain(path)} is no longer in the index.")
        return
    st.subheader(plain(notes.titles[row]), anchor=False)
    st.caption(plain(path))
    related = related_to(version, path, RELATED_K)
    st.markdown("**Related notes**\n\n" + related_list(related) if related else "No other notes to relate it to.")


def topics_section(settings, version: Version, namer: TopicNamer) -> None:
    found, problem = topics(version, namer.key, namer)
    problem = problem or namer.problem
    by = f"named by {plain(namer.key)}" if namer.chat_model.generates else "named by their most distinctive words"
    st.caption(f"{len(found)} topics, largest first, {by}" + (f" ({plain(problem)})" if problem else "") + ".")
    titles = dict(zip(note_vectors(version).paths, note_vectors(version).titles, strict=True))
    for topic in found:
        with st.expander(f"{plain(topic['name'])} · {topic['size']} notes"):
            st.dataframe({"title": [titles.get(p, p) for p in topic["notes"]], "path": topic["notes"]},
                         hide_index=True, width="stretch")


def duplicates_section(settings, version: Version, namer: TopicNamer) -> None:
    pairs = duplicates(version)
    if not pairs:
        st.info(f"No two notes are nearly the same (similarity {DUPLICATE_THRESHOLD:g} or more).")
        return
    st.caption(f"{len(pairs)} pairs of notes with similarity {DUPLICATE_THRESHOLD:g} or more, most alike first "
               "(as `ragqa duplicates`; `ragqa duplicates --chunks` finds copied passages).")
    st.dataframe([{"similarity": p["score"], "note": p["a"], "near-copy": p["b"]} for p in pairs],
                 hide_index=True, width="stretch")


def files_section(settings, version: Version, namer: TopicNamer, file_statuses: FileStatuses) -> None:
    folder = Path(note_vectors(version).notes_dir or settings.notes_path)
    rows = sorted(file_statuses(settings, notes_dir=folder, index_dir=Path(version[0])),
                  key=lambda r: (STATUS_ORDER[r["status"]], r["path"]))
    counts = {status: sum(r["status"] == status for r in rows) for status in ("indexed", "pending", "skipped")}
    st.caption(f"The files of {plain(str(folder))} against the index. Pending files change the index at the next "
               "ingest (the sidebar's Ingest, or `ragqa watch`).")
    for column, (status, count) in zip(st.columns(len(counts)), counts.items(), strict=True):
        column.metric(status, count)
    by_type = Counter(r["type"] for r in rows if r["status"] == "indexed")
    if by_type:
        st.caption("Indexed by type: " + " · ".join(f"{kind} {n}" for kind, n in by_type.most_common()))
    st.dataframe([{**r, "reason": r["reason"] or ""} for r in rows], hide_index=True, width="stretch")


def example_section(settings, version: Version, namer: TopicNamer) -> None:
    notes = note_vectors(version)
    st.caption("Pick a few notes as examples of two ends of a scale (say, drafts and finished essays); "
               "every note is placed between them: 0 is like the first examples, 1 like the second.")
    first, second = st.columns(2)
    low = first.multiselect("Examples of one end", notes.paths, key="example_low")
    high = second.multiselect("Examples of the other end", notes.paths, key="example_high")
    if not low or not high:
        return
    try:
        rows = ranked_by_example(version, tuple(low), tuple(high))
    except ValueError:  # the two ends' examples are the same notes
        st.warning("The two ends have the same examples on average: pick different notes for each end.")
        return
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_config={"position": st.column_config.NumberColumn(format="%.2f")})
