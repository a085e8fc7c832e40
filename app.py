"""ragqa in the browser: `ragqa app` (or `streamlit run app.py`).

A thin face over the same core as the CLI. Models and the index load once per
process; ingest runs in a background thread while answers keep working.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import streamlit as st

from ingest.background import start_ingest
from ingest.uploads import UploadRejected, save_upload
from ragqa.answer import answer_events
from ragqa.config import load_settings
from ragqa.errors import IndexMissingError, RagqaError
from ragqa.search import Filters
from ragqa.snippets import highlight_terms

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@st.cache_resource(show_spinner="Loading settings…")
def get_settings():
    return load_settings()


@st.cache_resource(show_spinner="Loading the embedding model…")
def get_embedder(_settings):
    from ragqa.embedder import load_embedder

    return load_embedder(_settings.embedding)


@st.cache_resource(show_spinner="Starting the language model…")
def get_chat_model(_settings):
    from ragqa.llm import make_chat_model

    try:
        return make_chat_model(_settings), None
    except RagqaError as err:
        return None, str(err)


@st.cache_resource(show_spinner=False)
def get_searcher(_settings, _embedder, index_path: str):
    """One Searcher per process and index; it reopens itself when an ingest has committed."""
    from ragqa.search import Searcher

    return Searcher(_settings, _embedder, Path(index_path))


@st.cache_resource
def _jobs() -> dict:
    """The running ingest, shared by every browser tab of this process."""
    return {}


def require_password(settings) -> None:
    name = settings.ui.password_env
    secret = os.environ.get(name) if name else None
    if not secret or st.session_state.get("authenticated"):
        return
    entered = st.text_input("Password", type="password")
    if entered and entered == secret:
        st.session_state.authenticated = True
        st.rerun()
    st.stop()


def sidebar(settings, embedder, chat_model, llm_problem):
    with st.sidebar:
        st.title("ragqa")
        if st.button("New chat", use_container_width=True):
            st.session_state.messages = []
        st.subheader("Index")
        status_box()
        folder = st.text_input("Notes folder", value=str(settings.notes_path))
        ingest_panel(settings, embedder, Path(folder))
        uploads = st.file_uploader("Add notes (md, txt, pdf)", type=["md", "markdown", "txt", "pdf"],
                                   accept_multiple_files=True)
        if uploads and st.button("Save and ingest uploads"):
            for upload in uploads:
                try:
                    saved = save_upload(Path(folder), upload.name, upload.getvalue(), settings.ui.max_upload_mb * 1024 * 1024)
                    st.caption(f"saved {saved.relative_to(Path(folder).resolve())}")
                except UploadRejected as err:
                    st.warning(str(err))
            launch_ingest(settings, embedder, Path(folder))
        st.subheader("Search")
        st.session_state.top_k = st.slider("Passages per answer (top-k)", 1, 20, settings.search.top_k)
        st.session_state.filters = Filters(
            folders=[f for f in st.text_input("Only folders (comma-separated)").split(",") if f.strip()],
            tags=[t.strip() for t in st.text_input("Only tags (comma-separated)").split(",") if t.strip()],
            kinds=st.multiselect("Only file types", ["markdown", "text", "pdf"]),
        )
        st.subheader("Language model")
        if settings.llm.provider == "none":
            st.caption("None configured: answers are the best passages (retrieval only).")
        elif chat_model is None:
            st.error(llm_problem or "The language model is not available.")
        else:
            problem = llm_check(chat_model)
            (st.success if problem is None else st.error)(f"{chat_model.name}: " + ("reachable" if problem is None else problem))


@st.cache_data(ttl=30, show_spinner=False)
def _llm_check_cached(name: str, _model) -> str | None:
    return _model.check()


def llm_check(chat_model):
    return _llm_check_cached(chat_model.name, chat_model)


def status_box():
    settings = get_settings()
    try:
        from ragqa.store import IndexReader

        reader = IndexReader(settings.index_path)
        stats = reader.stats()
        reader.close()
    except IndexMissingError:
        st.info("No index yet.")
        return
    st.caption(f"**{stats['files']}** files · **{stats['chunks']}** chunks · {stats['model']} · "
               f"last ingest {stats['last_ingest'] or 'never'}")


def launch_ingest(settings, embedder, folder: Path):
    jobs = _jobs()
    job = jobs.get("current")
    if job and job.running:
        st.warning("An ingest is already running.")
        return
    jobs["current"] = start_ingest(settings, embedder, folder)


def ingest_panel(settings, embedder, folder: Path):
    if st.button("Ingest", type="primary", use_container_width=True):
        launch_ingest(settings, embedder, folder)
    ingest_progress()


@st.fragment(run_every=1.0)
def ingest_progress():
    job = _jobs().get("current")
    if job is None:
        return
    if job.running:
        st.progress(job.fraction(), text=f"Ingesting {job.folder.name}: {job.done}/{job.total or '?'} files, {job.chunks} chunks")
        return
    if job.error:
        st.error(job.error)
        return
    report = job.report
    st.success(f"Ingest done in {report.seconds:.1f} s: {len(report.added)} added, {len(report.updated)} updated, "
               f"{len(report.removed)} removed, {len(report.unchanged)} unchanged, {len(report.skipped)} skipped.")
    rows = ([{"file": p, "result": "added", "reason": ""} for p in report.added]
            + [{"file": p, "result": "updated", "reason": ""} for p in report.updated]
            + [{"file": p, "result": "removed", "reason": ""} for p in report.removed]
            + [{"file": s["path"], "result": "skipped", "reason": s["reason"]} for s in report.skipped])
    if rows:
        with st.expander("Per-file results", expanded=bool(report.skipped)):
            st.dataframe(rows, hide_index=True, use_container_width=True)


def show_sources(answer: dict, question: str):
    by_n = {s["n"]: s for s in answer["sources"]}
    for row in answer["citations"]:
        source_expander(by_n.get(row["n"], row), question)
    uncited = [s for s in answer["sources"] if not s["cited"]]
    if uncited:
        with st.expander(f"Other retrieved passages ({len(uncited)})"):
            for s in uncited:
                st.markdown(f"**[{s['n']}] {s['path']}** — {where(s)} · score {s.get('score', 0):.3f}")
                st.markdown(highlight_terms(s["text"], question))


def where(row: dict) -> str:
    return f"page {row['page']}" if row.get("page") else (row.get("heading") or "")


def source_expander(row: dict, question: str):
    with st.expander(f"[{row['n']}] {row['path']} — {where(row)}"):
        st.caption(f"score {row.get('score', 0):.3f}")
        st.markdown(highlight_terms(row["text"], question))


def render_history():
    for message in st.session_state.messages:
        with st.chat_message(message["role"]):
            st.markdown(message["content"])
            if message.get("answer"):
                if message["answer"].get("error"):
                    st.error(llm_error_text(message["answer"]["error"]))
                show_sources(message["answer"], message["question"])


def llm_error_text(error: str) -> str:
    return f"The language model failed: {error}. The passages below are the best matches from your notes."


def ask(question: str, settings, embedder, chat_model):
    history = [{"role": m["role"], "content": m["content"]} for m in st.session_state.messages]
    st.session_state.messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(question)
    with st.chat_message("assistant"):
        try:
            searcher = get_searcher(settings, embedder, str(settings.index_path))
        except RagqaError as err:
            st.error(str(err))
            return
        final = {}

        def deltas():
            for kind, value in answer_events(question, searcher=searcher, chat_model=chat_model, settings=settings,
                                             history=history, filters=st.session_state.filters,
                                             k=st.session_state.top_k):
                if kind == "delta":
                    yield value
                elif kind == "done":
                    final["answer"] = value

        streamed = st.write_stream(deltas())
        answer = final["answer"]
        if not answer.generated:
            st.markdown(answer.text)
        elif answer.text != streamed:
            st.caption("Citations checked against the passages: " + answer.text)
        data = answer.as_json()
        if answer.error:
            st.error(llm_error_text(answer.error))
        elif settings.llm.provider != "none" and chat_model is None:
            answer.error = st.session_state.llm_problem or "the language model is not available"
            st.error(llm_error_text(answer.error))
            data = answer.as_json()
        show_sources(data, question)
    st.session_state.messages.append({"role": "assistant", "content": answer.text, "answer": data, "question": question})


def main():
    st.set_page_config(page_title="ragqa", page_icon="📚", layout="wide")
    settings = get_settings()
    require_password(settings)
    st.session_state.setdefault("messages", [])
    embedder = get_embedder(settings)
    chat_model, llm_problem = get_chat_model(settings) if settings.llm.provider != "none" else (None, None)
    st.session_state.llm_problem = llm_problem
    sidebar(settings, embedder, chat_model, llm_problem)

    if not (settings.index_path / "index.sqlite").exists():
        job = _jobs().get("current")
        st.header("Ask your notes")
        if job is None or not job.running:
            st.info(f"There is no index yet. Ingest your notes folder ({settings.notes_path}) to start asking questions.")
            if st.button("Ingest now", type="primary"):
                launch_ingest(settings, embedder, settings.notes_path)
                st.rerun()
        else:
            st.info("Ingest is running; questions can be asked once the first files are in.")
        return
    render_history()
    question = st.chat_input("Ask a question about your notes")
    if question:
        ask(question, settings, embedder, chat_model)


main()
