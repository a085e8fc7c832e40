"""The sidebar: a new chat and the saved conversations, the index's state with ingest and uploads, the search
settings and filters of this session, and whether the language model answers.

The language model's line is filled last (`llm_status`, into the box `sidebar` returns), so a slow
endpoint never holds up the chat.
"""
from __future__ import annotations

from datetime import datetime

import streamlit as st

from ragqa import __version__
from ragqa.filetypes import KINDS
from ragqa.retrieve.shared import SharedIndex
from ragqa.web.access import single_user
from ragqa.web.conversations import conversation_list, new_chat
from ragqa.web.ingest_panel import ingest_panel, upload_panel
from ragqa.web.markup import plain
from ragqa.web.resources import chat_model_for, keys, llm_check
from ragqa.web.shared_index import filter_choices
from ragqa.web.write_path import WritePath


def when(iso: str | None) -> str:
    """An ISO timestamp as local time to the minute: '2026-05-01 14:03'."""
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M") if iso else "never"


def sidebar(settings, embedder, index: SharedIndex, stats: dict | None, problem: str | None, write: WritePath,
            store=None):
    """Draw the sidebar; returns the empty box for `llm_status`. `store`: the saved history (None: off)."""
    with st.sidebar:
        st.title("ragqa")
        st.button("New chat", width="stretch", on_click=new_chat)
        conversation_list(store)
        st.subheader("Index")
        if stats:
            source = f" of {plain(stats['notes_dir'])}" if stats.get("notes_dir") else ""
            st.markdown(f"**{stats['files']}** files · **{stats['chunks']}** chunks · {plain(str(stats['model']))}"
                        f"  \nlast ingest: {when(stats['last_ingest'])}{source}")
        else:
            show = st.warning if problem else st.info
            show(problem or "No index yet.")
        ingest_panel(settings, embedder, write, single_user(settings))
        upload_panel(settings, embedder, write)
        st.subheader("Search")
        top = max(20, settings.search.top_k)
        st.slider("Passages per answer (top-k)", 1, top, settings.search.top_k, key="top_k")
        folders, tags = filter_choices(index) if stats else ([], [])
        st.multiselect("Only these folders", folders, key="filter_folders")
        st.multiselect("Only these tags", tags, key="filter_tags")
        st.multiselect("Only these file types", KINDS, key="filter_kinds")
        st.subheader("Language model")
        box = st.container()  # filled last, so a slow endpoint never holds up the chat
        st.caption(f"ragqa {__version__}")
        return box


def llm_status(settings, box) -> None:
    """The language model's line in the sidebar: reachable, down (and why), or none configured."""
    with box:
        model, problem = chat_model_for(settings)
        if problem:
            st.error(problem)
            return
        if not model.generates:
            st.info("None (llm.provider: none): answers are the best passages, not generated text.")
            return
        problem = llm_check(keys(settings)["llm"], model)
        if problem:
            st.error(f"{model.name}: {problem}")
        else:
            st.success(f"{model.name}: reachable")
