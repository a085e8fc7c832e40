"""Ingest from the browser: the notes folder and its Ingest button, uploads, the running job's progress
and the result, and the page shown while there is no index yet.

An ingest runs in a background thread (one per index, shared by every tab), so answers keep coming from
the last committed index meanwhile. The write path's pieces come in as a `WritePath` from app.py.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ragqa.errors import RagqaError
from ragqa.note_paths import is_inside
from ragqa.web.markup import plain
from ragqa.web.write_path import IngestJob, WritePath


def current_job(settings, write: WritePath) -> IngestJob | None:
    return write.jobs.current(settings.index_path)


def launch_ingest(settings, embedder, folder: Path | str, write: WritePath) -> bool:
    """Start an ingest of `folder`, which must be the collection's configured notes folder (symlinks
    followed); if it cannot start, say why and return False."""
    if not same_folder(folder, settings.notes_path):
        st.warning(f"Ingest not started: the app ingests only the notes folder config.yaml names "
                   f"({plain(str(settings.notes_path))}); to use another, set notes_dir (or add a collection) "
                   "there and restart the app.")
        return False
    try:
        write.jobs.start(settings, embedder, settings.notes_path)
        return True
    except RagqaError as err:
        st.warning(f"Ingest not started: {err}")
        return False


@st.fragment(run_every=1.0)
def ingest_progress(settings, write: WritePath) -> None:
    """Redrawn every second while the job runs; when it ends, the whole page is redrawn."""
    job = current_job(settings, write)
    if job is None or not job.running:
        st.rerun()
    what = f"{job.done}/{job.total} files, {job.chunks} chunks" if job.total else "looking for new and changed files"
    st.progress(job.fraction(), text=f"Ingesting {plain(job.folder.name)}: {what}")


def ingest_result(job: IngestJob, write: WritePath) -> None:
    if job.error:
        st.error(f"Ingest failed: {job.error}")
        return
    r = job.report
    st.success(f"Ingest done in {r.seconds:.1f} s: {len(r.added)} added, {len(r.updated)} updated, "
               f"{len(r.removed)} removed, {len(r.unchanged)} unchanged, {len(r.skipped)} skipped.")
    rows = write.report_rows(r)
    if rows:
        with st.expander("Per-file results", expanded=bool(r.skipped)):
            st.dataframe(rows, hide_index=True, width="stretch")


def same_folder(typed: Path | str, folder: Path) -> bool:
    """True when `typed` (as a person types it: ~ allowed) is `folder`, symlinks followed; NUL never is."""
    typed = str(typed)
    return "\x00" not in typed and bool(typed.strip()) and is_inside(Path(typed).expanduser(), folder) \
        and is_inside(folder, Path(typed).expanduser())


def ingest_panel(settings, embedder, write: WritePath, single_user: bool = False) -> None:
    """The Ingest button (with, for a single user on their own machine, a box showing the notes folder),
    and the job's progress or result. Whatever the box says, only the configured notes folder is ingested."""
    folder: Path | str = settings.notes_path
    if single_user:
        folder = st.text_input("Notes folder", value=str(settings.notes_path), key="notes_folder",
                               help="the notes folder config.yaml names (notes_dir, or the collection's)")
    job = current_job(settings, write)
    if st.button("Ingest", type="primary", width="stretch", disabled=bool(job and job.running)):
        launch_ingest(settings, embedder, folder, write)
        job = current_job(settings, write)
    if job is not None and job.running:
        ingest_progress(settings, write)
    elif job is not None:
        ingest_result(job, write)


def upload_panel(settings, embedder, write: WritePath) -> None:
    """Files added to the collection's notes folder, under uploads/ (checked by the write path's
    save_upload), then ingested."""
    folder = settings.notes_path
    suffixes = [s[1:] for s in write.allowed_suffixes]
    with st.form("uploads", clear_on_submit=True, border=False):
        files = st.file_uploader("Add notes and documents", type=suffixes, accept_multiple_files=True,
                                 max_upload_size=settings.ui.max_upload_mb,
                                 help="Accepted: " + ", ".join(suffixes))
        submitted = st.form_submit_button("Add to the notes folder and ingest", width="stretch")
    if submitted and files:
        notes, saved, max_bytes = [], 0, settings.ui.max_upload_mb * 1024 * 1024
        for upload in files:
            try:
                path = write.save_upload(folder, upload.name, upload.getvalue(), max_bytes)
                notes.append(("caption", f"Saved {plain(str(path.relative_to(folder.resolve())))}"))
                saved += 1
            except write.upload_rejected as err:
                notes.append(("warning", str(err)))
        st.session_state.upload_notes = notes
        if saved and launch_ingest(settings, embedder, folder, write):
            st.rerun()  # to show the ingest's progress above
    for kind, text in st.session_state.get("upload_notes", []):
        show = st.warning if kind == "warning" else st.caption
        show(text)


def empty_state(settings, embedder, problem: str | None, write: WritePath, header: str = "Ask your notes",
                goal: str = "to start asking questions", indexed_nothing: bool = False) -> None:
    """A view's page while there is no index (or one without a passage): what is happening, and a
    button to ingest."""
    st.header(header)
    job = current_job(settings, write)
    if job is not None and job.running:
        st.info("Ingesting your notes (progress in the sidebar). It is all here as soon as it is done.")
        return
    if job is not None and job.error:
        st.error(f"The last ingest failed: {job.error}")
    if problem:
        st.warning(problem)
    folder = settings.notes_path
    if indexed_nothing:
        st.info(f"The last ingest found no notes to index in {folder}. Add notes there (or upload them in "
                f"the sidebar) and ingest again {goal}.")
    else:
        st.info(f"There is no index to answer from yet. Ingest your notes folder ({folder}) {goal}.")
    if st.button("Ingest now", type="primary") and launch_ingest(settings, embedder, folder, write):
        st.rerun()
