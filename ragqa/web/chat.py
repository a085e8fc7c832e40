"""The chat's answer in the browser: sources first, a live status while the model reads, then the
streamed answer and its checked citations.

The answer's events come from a worker thread through a queue, so the page can redraw its status
("Reading 5 passages… 4 s") every fraction of a second while the model reads its prompt, which on a
laptop CPU is most of the wait. Note text is rendered as Markdown, never as HTML.
"""
from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator

import streamlit as st

from ragqa.answer.events import Delta, Done, Planned, Progress, Retrieved, Sources
from ragqa.collections import labelled
from ragqa.errors import RagqaError
from ragqa.filetypes import place
from ragqa.web.chips import chips_caption
from ragqa.web.markup import plain, related_list
from ragqa.web.snippets import highlight_terms

TICK_SECONDS = 0.2  # how often the status line is redrawn while nothing arrives
RELATED_PER_SOURCE = 5


def where(row: dict) -> str:
    return place(row["path"], row.get("page")) or row.get("heading") or ""


def source_title(row: dict) -> str:
    """'[2] papers: attention.pdf — page 3' (the collection unless it is the default one)."""
    spot = where(row)
    title = f"[{row['n']}] {plain(labelled(row['path'], row.get('collection')))}"
    return title + (f" — {plain(spot)}" if spot else "")


def marked(sentence: str, question: str) -> str:
    """The best-matching sentence, highlighted, the question's words in bold (Markdown; brackets escaped).

    >>> marked("Water [tomatoes] twice.", "when to water tomatoes")
    ':orange-background[**Water** \\\\[**tomatoes**\\\\] twice.]'
    """
    text = " ".join(sentence.split()).replace("[", "\\[").replace("]", "\\]")
    return f":orange-background[{highlight_terms(text, question)}]"


def llm_error_text(error: str) -> str:
    return (f"The language model could not answer: {error}. "
            "Shown instead: the passages from your notes that best match the question.")


def waiting_text(passages: int | None, seconds: float, found: bool = False) -> str:
    """The status line until the first words arrive: searching, then choosing sentences (`found`), then
    the model reading.

    >>> waiting_text(None, 0.4), waiting_text(5, 1.2, found=True), waiting_text(5, 3.26)
    ('Searching your notes… 0 s', 'Found 5 passages; choosing what the model reads… 1 s', 'Reading 5 passages… 3 s')
    """
    if passages is None:
        return f"Searching your notes… {seconds:.0f} s"
    what = "1 passage" if passages == 1 else f"{passages} passages"
    if found:
        return f"Found {what}; choosing what the model reads… {seconds:.0f} s"
    return f"Reading {what}… {seconds:.0f} s"


def pending_rows(given) -> list[dict]:
    """The rows show_pending_sources draws, from a Given (ragqa.answer.loop)."""
    return [{"n": n, "path": h.chunk.path, "heading": h.chunk.heading, "page": h.chunk.page,
             "collection": h.chunk.collection, "best_sentence": best}
            for n, (h, best) in enumerate(zip(given.passages, given.best, strict=False), 1)]


def show_pending_sources(rows: list[dict], question: str) -> None:
    """The passages the model is reading, each with its best sentence, before the answer exists."""
    for row in rows:
        line = f"**{source_title(row)}**"
        if row.get("best_sentence"):
            line += "  \n" + marked(row["best_sentence"], question)
        st.markdown(line)


def show_sources(answer: dict, question: str, related: Callable[[dict], list[dict]]) -> None:
    """Cited passages, each in its own expander (best sentence highlighted, then the passage and its
    note's related notes); the other retrieved ones folded away together."""
    for row in (s for s in answer["sources"] if s["cited"]):
        with st.expander(source_title(row)):
            if row.get("best_sentence"):
                st.markdown(marked(row["best_sentence"], question))
            st.caption(f"score {row['score']:.3f}")
            st.markdown(highlight_terms(row["text"], question))
            notes = related(row)
            if notes:
                st.markdown("**Related notes**\n\n" + related_list(notes))
    uncited = [s for s in answer["sources"] if not s["cited"]]
    if uncited:
        with st.expander(f"Other retrieved passages ({len(uncited)}), not cited"):
            for row in uncited:
                st.markdown(f"**{source_title(row)}** · score {row['score']:.3f}")
                if row.get("best_sentence"):
                    st.markdown(marked(row["best_sentence"], question))
                st.markdown(highlight_terms(row["text"], question))


def timing_note(answer: dict) -> str:
    """'qwen2.5-coder-1.5b (local) · first words after 3.1 s · 7.9 s in all'"""
    note = plain(answer["model"])
    if answer.get("first_token_seconds") is not None:
        note += f" · first words after {answer['first_token_seconds']:.1f} s"
    return note + f" · {answer['seconds']:.1f} s in all"


def show_answer_details(message: dict, related: Callable[[dict], list[dict]]) -> None:
    answer = message["answer"]
    if answer.get("error"):
        st.error(llm_error_text(answer["error"]))
    show_sources(answer, message["question"], related)
    note = timing_note(answer)
    if answer.get("search_query") and answer["search_query"] != message["question"]:
        note += f" · searched for: {plain(answer['search_query'])}"
    st.caption(note)


def safe_related(find: Callable[[str], list[dict]], collection: str | None = None) -> Callable[[dict], list[dict]]:
    """A cited source's related notes, found within its own collection (`collection`, the one whose notes
    `find` reads; a source of another collection gets none); none while the index is changing under us
    (the next redraw has them)."""
    def related(row: dict) -> list[dict]:
        if collection and row.get("collection") not in (None, "", collection):
            return []
        try:
            return find(row["path"])
        except (RagqaError, sqlite3.Error):
            return []
    return related


def _pump(events: Iterator, inbox: queue.Queue) -> None:
    try:
        for event in events:
            inbox.put(event)
    except Exception as err:  # noqa: BLE001  raised again in the page's thread, which shows a RagqaError
        inbox.put(err)  # (e.g. the index was rebuilt with another model meanwhile) as one line
    finally:
        inbox.put(None)  # the end


def stream_answer(events: Iterator, question: str):
    """Draw the answer as its events arrive: status, sources, words. Returns the final Answer, or raises
    the error that stopped it (a RagqaError, unless it is a bug). Must run in the page's own script thread
    (it draws)."""
    chips, status, body, pending = st.empty(), st.empty(), st.empty(), st.empty()
    inbox: queue.Queue = queue.Queue()
    threading.Thread(target=_pump, args=(events, inbox), daemon=True, name="ragqa-answer").start()
    started, passages, found, words, final = time.monotonic(), None, False, "", None
    status.caption(waiting_text(None, 0.0))
    while True:
        try:
            event = inbox.get(timeout=TICK_SECONDS)
        except queue.Empty:
            if not words:
                status.caption(waiting_text(passages, time.monotonic() - started, found))
            continue
        match event:
            case Planned(plan) if not plan.is_plain:  # what was understood, above the answer as it comes
                with chips.container():
                    st.caption(plain(chips_caption(plan)))
            case Progress(text):  # a summary reading its notes
                status.caption(f"{text}… {time.monotonic() - started:.0f} s")
            case Retrieved(given) | Sources(given):  # found by the search; then what the model reads, renumbered
                passages, found = len(given.passages), isinstance(event, Retrieved)
                with pending.container():
                    show_pending_sources(pending_rows(given), question)
                status.caption(waiting_text(passages, time.monotonic() - started, found))
            case Delta(text):
                if not words:
                    status.caption(f"Writing… (first words after {time.monotonic() - started:.1f} s)")
                words += text
                body.markdown(words + " ▌")
            case Done(answer):
                final = answer
            case Exception():
                status.empty()
                pending.empty()
                raise event
            case None:
                break
    status.empty()
    pending.empty()
    chips.empty()  # drawn again above the answer, with the buttons that take a chip away
    assert final is not None  # noqa: S101 - typing: the events end with Done, or with the error raised above
    body.markdown(final.text)
    return final

