"""ragqa in the browser: `ragqa app` (or `streamlit run app.py`).

A thin face over the same core as the CLI. The embedding model, the index and the
chat model load once per process and are shared by every browser tab; the
conversation, top-k and filters belong to one browser session. Ingest runs in a
background thread while answers keep working on the last committed index. Two views:
the chat, and "Your notes" (how notes connect: ragqa/web/notes_page.py).
"""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model hub is never needed: models are found offline
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import hmac  # noqa: E402
import sqlite3  # noqa: E402
import threading  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import streamlit as st  # noqa: E402

from ingest.background import IngestJob, IngestJobs, report_rows  # noqa: E402
from ingest.file_status import file_statuses  # noqa: E402
from ingest.uploads import ALLOWED_SUFFIXES, UploadRejected, save_upload  # noqa: E402
from ragqa.answer.loop import answer_events, warm_up  # noqa: E402
from ragqa.config import load_settings  # noqa: E402
from ragqa.errors import IndexMissingError, RagqaError  # noqa: E402
from ragqa.retrieve.search import Filters, Searcher  # noqa: E402
from ragqa.index.store import DB_NAME  # noqa: E402
from ragqa.web.chat import RELATED_PER_SOURCE, safe_related, show_answer_details, stream_answer  # noqa: E402
from ragqa.web.markup import plain  # noqa: E402
from ragqa.web.notes_data import TopicNamer, Version, index_version, related_to, words_namer  # noqa: E402
from ragqa.web.notes_page import notes_view  # noqa: E402

KINDS = ["markdown", "text", "pdf"]
VIEWS = ["Chat", "Your notes"]


# ---- shared by every session of this process ---------------------------------------------

class SharedIndex:
    """The Searcher all sessions share. One search at a time, because refresh() swaps the
    reader underneath; an index folder deleted and built again (new file) is reopened too."""

    def __init__(self, settings, embedder):
        self.settings, self.embedder = settings, embedder
        self.lock = threading.Lock()
        self._searcher: Searcher | None = None
        self._inode: int | None = None
        self._choices: tuple = (None, [], [])

    def _current(self) -> Searcher:
        try:
            inode = (self.settings.index_path / DB_NAME).stat().st_ino
        except FileNotFoundError:
            raise IndexMissingError(f"no index at {self.settings.index_path} yet: ingest your notes first") from None
        if self._searcher is None or inode != self._inode:
            old, self._searcher = self._searcher, Searcher(self.settings, self.embedder)
            self._inode = inode
            if old is not None:
                old.reader.close()
        return self._searcher

    def search(self, query, k=None, mode=None, filters=None):
        with self.lock:
            return self._current().search(query, k=k, mode=mode, filters=filters)

    def stats(self) -> dict:
        with self.lock:
            searcher = self._current()
            searcher.refresh()
            return searcher.reader.stats()

    def choices(self) -> tuple[list[str], list[str]]:
        """(folders, tags) to filter by, read again only when the index has a new generation."""
        with self.lock:
            reader = self._current().reader
            if self._choices[0] != reader.generation:
                folders, tags = set(), set()
                for record in reader.files():
                    parts = record.path.split("/")[:-1]
                    folders.update("/".join(parts[: i + 1]) for i in range(len(parts)))
                    tags.update((record.meta or {}).get("tags") or [])
                self._choices = (reader.generation, sorted(folders), sorted(tags))
            return self._choices[1], self._choices[2]


@st.cache_resource(show_spinner="Loading the embedding model…")
def get_embedder(_settings, key: str):
    from ragqa.models.embedder import load_embedder

    return load_embedder(_settings.embedding)


@st.cache_resource(show_spinner=False)
def get_index(_settings, _embedder, key: str) -> SharedIndex:
    return SharedIndex(_settings, _embedder)


@st.cache_resource(show_spinner="Starting the language model…")
def get_chat_model(_settings, key: str):
    """(ChatModel, None), or (None, the one-line problem) when it cannot be made. The model reads the
    start every prompt shares in the background, so the first question does not wait for it."""
    from ragqa.models.openai_chat import make_chat_model

    try:
        model = make_chat_model(_settings)
    except RagqaError as err:
        return None, str(err)
    threading.Thread(target=warm_up, args=(model,), daemon=True, name="ragqa-warm-up").start()
    return model, None


@st.cache_data(ttl=30, show_spinner=False)
def llm_check(key: str, _model) -> str | None:
    """None if the endpoint answers; checked at most every 30 s."""
    return _model.check()


@st.cache_resource
def ingest_jobs() -> IngestJobs:
    return IngestJobs()


def keys(settings) -> dict:
    cache = str(settings.resolve(settings.embedding.cache_dir))
    return {"embedder": settings.embedding.model_dump_json() + cache,
            "index": f"{settings.index_path}|{settings.model_dump_json()}",
            "llm": settings.llm.model_dump_json() + cache}


def chat_model_for(settings, fresh: bool = False):
    """The cached chat model; with fresh=True a local server that died is started again."""
    model, problem = get_chat_model(settings, keys(settings)["llm"])
    if fresh and (problem or (settings.llm.provider == "local" and model.check())):
        get_chat_model.clear()
        llm_check.clear()
        model, problem = get_chat_model(settings, keys(settings)["llm"])
    return model, problem


# ---- small pieces of the page --------------------------------------------------------------

def when(iso: str | None) -> str:
    """An ISO timestamp as local time to the minute: '2026-05-01 14:03'."""
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M") if iso else "never"


def related_finder(version: Version | None):
    """A cited note's related notes; none while there is no index version to read them from."""
    return safe_related(lambda path: related_to(version, path, RELATED_PER_SOURCE) if version else [])


def require_password(settings) -> bool:
    """True when the app is open to this session; otherwise the password form is shown."""
    name = settings.ui.password_env
    secret = os.environ.get(name) if name else None
    if not secret or st.session_state.get("authenticated"):
        return True
    st.title("ragqa")
    with st.form("password"):
        entered = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Open")
    if submitted:
        if hmac.compare_digest(entered.encode(), secret.encode()):
            st.session_state.authenticated = True
            st.rerun()
        st.error(f"Wrong password. It is the value of the environment variable {name} where ragqa was started.")
    return False


# ---- ingest --------------------------------------------------------------------------------

def current_job(settings) -> IngestJob | None:
    return ingest_jobs().current(settings.index_path)


def launch_ingest(settings, embedder, folder: Path) -> bool:
    """Start an ingest; if it cannot start, say why and return False."""
    try:
        ingest_jobs().start(settings, embedder, folder)
        return True
    except RagqaError as err:
        st.warning(f"Ingest not started: {err}")
        return False


@st.fragment(run_every=1.0)
def ingest_progress(settings) -> None:
    """Redrawn every second while the job runs; when it ends, the whole page is redrawn."""
    job = current_job(settings)
    if job is None or not job.running:
        st.rerun()
    what = f"{job.done}/{job.total} files, {job.chunks} chunks" if job.total else "looking for new and changed files"
    st.progress(job.fraction(), text=f"Ingesting {plain(job.folder.name)}: {what}")


def ingest_result(job: IngestJob) -> None:
    if job.error:
        st.error(f"Ingest failed: {job.error}")
        return
    r = job.report
    st.success(f"Ingest done in {r.seconds:.1f} s: {len(r.added)} added, {len(r.updated)} updated, "
               f"{len(r.removed)} removed, {len(r.unchanged)} unchanged, {len(r.skipped)} skipped.")
    rows = report_rows(r)
    if rows:
        with st.expander("Per-file results", expanded=bool(r.skipped)):
            st.dataframe(rows, hide_index=True, width="stretch")


def ingest_panel(settings, embedder) -> Path:
    folder = Path(st.text_input("Notes folder", value=str(settings.notes_path), key="notes_folder")).expanduser()
    job = current_job(settings)
    if st.button("Ingest", type="primary", width="stretch", disabled=bool(job and job.running)):
        launch_ingest(settings, embedder, folder)
        job = current_job(settings)
    if job is not None and job.running:
        ingest_progress(settings)
    elif job is not None:
        ingest_result(job)
    return folder


def upload_panel(settings, embedder, folder: Path) -> None:
    with st.form("uploads", clear_on_submit=True, border=False):
        files = st.file_uploader(f"Add notes ({', '.join(s[1:] for s in ALLOWED_SUFFIXES)})",
                                 type=[s[1:] for s in ALLOWED_SUFFIXES], accept_multiple_files=True,
                                 max_upload_size=settings.ui.max_upload_mb)
        submitted = st.form_submit_button("Add to the notes folder and ingest", width="stretch")
    if submitted and files:
        notes, saved = [], 0
        for upload in files:
            try:
                path = save_upload(folder, upload.name, upload.getvalue(), settings.ui.max_upload_mb * 1024 * 1024)
                notes.append(("caption", f"Saved {plain(str(path.relative_to(folder.resolve())))}"))
                saved += 1
            except UploadRejected as err:
                notes.append(("warning", str(err)))
        st.session_state.upload_notes = notes
        if saved and launch_ingest(settings, embedder, folder):
            st.rerun()  # to show the ingest's progress above
    for kind, text in st.session_state.get("upload_notes", []):
        show = st.warning if kind == "warning" else st.caption
        show(text)


# ---- the page ------------------------------------------------------------------------------

def index_status(index: SharedIndex) -> tuple[dict | None, str | None]:
    """(stats, None) when the index can be searched; (None, why not) otherwise; (None, None): no index."""
    try:
        return index.stats(), None
    except IndexMissingError:
        return None, None
    except sqlite3.Error:
        return None, "The index is being created."
    except RagqaError as err:
        return None, str(err)


def filter_choices(index: SharedIndex) -> tuple[list[str], list[str]]:
    try:
        return index.choices()
    except (RagqaError, sqlite3.Error):  # the index changed under us; the next redraw has them
        return [], []


def sidebar(settings, embedder, index: SharedIndex, stats: dict | None, problem: str | None):
    with st.sidebar:
        st.title("ragqa")
        if st.button("New chat", width="stretch"):
            st.session_state.messages = []
        st.subheader("Index")
        if stats:
            source = f" of {plain(stats['notes_dir'])}" if stats.get("notes_dir") else ""
            st.markdown(f"**{stats['files']}** files · **{stats['chunks']}** chunks · {plain(str(stats['model']))}"
                        f"  \nlast ingest: {when(stats['last_ingest'])}{source}")
        else:
            show = st.warning if problem else st.info
            show(problem or "No index yet.")
        folder = ingest_panel(settings, embedder)
        upload_panel(settings, embedder, folder)
        st.subheader("Search")
        top = max(20, settings.search.top_k)
        st.slider("Passages per answer (top-k)", 1, top, settings.search.top_k, key="top_k")
        folders, tags = filter_choices(index) if stats else ([], [])
        st.multiselect("Only these folders", folders, key="filter_folders")
        st.multiselect("Only these tags", tags, key="filter_tags")
        st.multiselect("Only these file types", KINDS, key="filter_kinds")
        st.subheader("Language model")
        return st.container()  # filled last, so a slow endpoint never holds up the chat


def llm_status(settings, box) -> None:
    with box:
        if settings.llm.provider == "none":
            st.info("None (llm.provider: none): answers are the best passages, not generated text.")
            return
        model, problem = chat_model_for(settings)
        if model is None:
            st.error(problem)
            return
        problem = llm_check(f"{model.base_url}|{model.model}", model)
        if problem:
            st.error(f"{model.name}: {problem}")
        else:
            st.success(f"{model.name}: reachable")


def empty_state(settings, embedder, problem: str | None, header: str = "Ask your notes",
                goal: str = "to start asking questions") -> None:
    st.header(header)
    job = current_job(settings)
    if job is not None and job.running:
        st.info("Ingesting your notes (progress in the sidebar). It is all here as soon as it is done.")
        return
    if job is not None and job.error:
        st.error(f"The last ingest failed: {job.error}")
    if problem:
        st.warning(problem)
    folder = Path(st.session_state.get("notes_folder") or settings.notes_path).expanduser()
    st.info(f"There is no index to answer from yet. Ingest your notes folder ({folder}) {goal}.")
    if st.button("Ingest now", type="primary") and launch_ingest(settings, embedder, folder):
        st.rerun()


def topic_namer(settings) -> TopicNamer:
    """The chat model names topics when it answers; otherwise (and with llm.provider none) their words do."""
    if settings.llm.provider == "none":
        return words_namer(settings)
    model, problem = chat_model_for(settings)
    if model is not None:
        problem = llm_check(f"{model.base_url}|{model.model}", model)
        if not problem:
            return TopicNamer(model.name, settings, model)
        problem = f"{model.name}: {problem}"
    return words_namer(settings, problem)


def chat_view(settings, index: SharedIndex, version: Version | None, tab) -> None:
    with tab:
        for message in st.session_state.messages:
            with st.chat_message(message["role"]):
                st.markdown(message["content"])
                if message.get("problem"):
                    st.error(message["problem"])
                if message.get("answer"):
                    show_answer_details(message, related_finder(version))
    question = st.chat_input("Ask a question about your notes")  # outside the tab: pinned to the bottom
    if question:
        with tab:
            ask(question, settings, index, version)


def ask(question: str, settings, index: SharedIndex, version: Version | None) -> None:
    history = [{k: v for k, v in m.items() if k not in ("question", "answer", "problem")}
               for m in st.session_state.messages if m["content"]]
    st.session_state.messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(question)
    with st.chat_message("assistant"):
        model, problem = (None, None) if settings.llm.provider == "none" else chat_model_for(settings, fresh=True)
        filters = Filters(folders=st.session_state.filter_folders, tags=st.session_state.filter_tags,
                          kinds=st.session_state.filter_kinds)
        events = answer_events(question, searcher=index, chat_model=model, settings=settings, history=history,
                               filters=filters, k=st.session_state.top_k)
        try:
            answer = stream_answer(events, question)
        except RagqaError as err:  # e.g. the index was rebuilt with another model meanwhile
            st.error(str(err))
            st.session_state.messages.append({"role": "assistant", "content": "", "problem": str(err)})
            return
        answer.error = answer.error or problem
        if answer.error and settings.llm.provider == "local":
            get_chat_model.clear()  # a dead local server is started again for the next question
            llm_check.clear()
        message = {**answer.history_entry(), "question": question, "answer": answer.as_json()}
        show_answer_details(message, related_finder(version))
    st.session_state.messages.append(message)


def main() -> None:
    st.set_page_config(page_title="ragqa", page_icon="📚", layout="wide")
    st.set_option("client.toolbarMode", "minimal")  # no "Deploy" button: this app is local-only
    try:
        settings = load_settings()
    except RagqaError as err:
        st.error(f"ragqa cannot start: {err}")
        return
    if not require_password(settings):
        return
    st.session_state.setdefault("messages", [])
    try:
        embedder = get_embedder(settings, keys(settings)["embedder"])
    except RagqaError as err:
        st.error(str(err))
        return
    index = get_index(settings, embedder, keys(settings)["index"])
    stats, problem = index_status(index)
    llm_box = sidebar(settings, embedder, index, stats, problem)
    version = index_version(settings.index_path) if stats else None
    chat_tab, notes_tab = st.tabs(VIEWS, key="view", on_change="rerun")  # only the open one runs
    if chat_tab.open:
        if stats is None:
            with chat_tab:
                empty_state(settings, embedder, problem)
        else:
            chat_view(settings, index, version, chat_tab)
    elif notes_tab.open:
        with notes_tab:
            if version is None:
                empty_state(settings, embedder, problem, "Your notes", "to see how your notes connect")
            else:
                try:
                    notes_view(settings, version, topic_namer(settings), file_statuses)
                except (RagqaError, sqlite3.Error) as err:  # e.g. the index was deleted meanwhile
                    st.warning(f"Your notes cannot be shown right now: {err}")
    llm_status(settings, llm_box)


main()
