"""ragqa in the browser: the Streamlit script that `ragqa app` runs (this file, from the installed package) and
that the repo's app.py runs for `streamlit run app.py`.

A thin face over the same core as the CLI; the page's pieces are in ragqa/web/. The embedding model, the
index and the chat model load once per process and are shared by every browser tab
(ragqa/web/resources.py); the conversation, top-k and filters belong to one browser session. Ingest runs
in a background thread while answers keep working on the last committed index. Two views: the chat
(ragqa/web/chat_page.py), and "Your notes" (how notes connect: ragqa/web/notes_page.py).

This file and ragqa/cli are the only places that see both the read path (ragqa) and the write path
(ingest): the rest of ragqa never imports ingest, so the page gets ingest's pieces from here, as a `WritePath`.
It sits alone in its folder because Streamlit puts a script's folder first on sys.path: here that adds no
module name that could shadow another (ragqa/ itself holds a `collections`, web/ a `chat`).
"""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model hub is never needed: models are found offline
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import streamlit as st

from ragqa.collections import COLLECTION_VARIABLE, app_settings
from ragqa.config import load_settings
from ragqa.errors import RagqaError
from ragqa.ingest.background import IngestJobs, report_rows
from ragqa.ingest.file_status import file_statuses
from ragqa.ingest.uploads import ALLOWED_SUFFIXES, UploadRejected, save_upload
from ragqa.web.access import allowed_in
from ragqa.web.chat_page import chat_view
from ragqa.web.collection_picker import chat_searcher, pick_collections
from ragqa.web.conversations import history_store
from ragqa.web.ingest_panel import empty_state, launch_ingest
from ragqa.web.notes_data import index_version
from ragqa.web.notes_page import safe_notes_view
from ragqa.web.resources import get_embedder, get_index, keys
from ragqa.web.shared_index import index_status
from ragqa.web.sidebar import llm_status, sidebar
from ragqa.web.write_path import WritePath

VIEWS = ["Chat", "Your notes"]


@st.cache_resource
def ingest_jobs() -> IngestJobs:
    return IngestJobs()


def write_path() -> WritePath:
    """ingest's pieces the page uses: this process's jobs, upload checks, per-file results and statuses."""
    return WritePath(jobs=ingest_jobs(), report_rows=report_rows, save_upload=save_upload,
                     allowed_suffixes=ALLOWED_SUFFIXES, upload_rejected=UploadRejected, file_statuses=file_statuses)


def main() -> None:
    st.set_page_config(page_title="ragqa", page_icon="📚", layout="wide")
    st.set_option("client.toolbarMode", "minimal")  # no "Deploy" button: this app is local-only
    st.set_option("client.showErrorDetails", "type")  # an unexpected error shows its kind, never a traceback or path
    pinned = os.environ.get(COLLECTION_VARIABLE)  # `ragqa app --collection NAME`
    try:
        everything = load_settings()
        app_settings(everything, pinned)  # a wrong name is said now
    except RagqaError as err:
        st.error(f"ragqa cannot start: {err}")
        return
    if not allowed_in(everything):
        return
    st.session_state.setdefault("messages", [])
    st.session_state.setdefault("conversation_id", None)  # the saved conversation open here; None: a new chat
    try:
        picked = pick_collections(everything, pinned)
        settings = picked.working.settings
        embedder = get_embedder(settings, keys(settings)["embedder"])
    except RagqaError as err:
        st.error(str(err))
        return
    write = write_path()
    index = get_index(settings, embedder, keys(settings)["index"])
    stats, problem = index_status(index)
    store = history_store(everything)  # with collections, in the top index folder
    llm_box = sidebar(settings, embedder, index, stats, problem, write, store)
    version = index_version(settings.index_path) if stats else None
    chat_tab, notes_tab = st.tabs(VIEWS, key="view", on_change="rerun")  # only the open one runs
    if chat_tab.open:
        # none yet, or a first ingest has not stored a passage yet: no question box (it could only guess)
        searcher = chat_searcher(picked) if picked.many else index if stats and stats["chunks"] else None
        if searcher is None:
            with chat_tab:
                empty_state(settings, embedder, problem, write, indexed_nothing=bool(stats))
        else:
            chat_view(settings, searcher, version, chat_tab, store,
                      lambda folder: launch_ingest(settings, embedder, folder, write))
    elif notes_tab.open:
        with notes_tab:
            if version is None:
                empty_state(settings, embedder, problem, write, "Your notes", "to see how your notes connect")
            else:
                safe_notes_view(settings, version, write.file_statuses)
    llm_status(settings, llm_box)


if __name__ == "__main__":  # `ragqa app`: Streamlit runs this file as the script
    main()
