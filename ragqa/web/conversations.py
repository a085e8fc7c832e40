"""Saved conversations in the browser (ragqa.index.history): the past ones in the sidebar, newest first;
the open one's rename, delete, download and "Save to notes"; and each answered turn saved as it ends.

The session holds the open conversation's id (`conversation_id`; None for a new chat, which is saved at its
first answer) and its messages. Every tab writes through its own short SQLite connection, so two tabs
answering at once both keep every turn.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from ragqa.answer.conversation import ChatMessage
from ragqa.answer.export import conversation_markdown, file_name
from ragqa.answer.saved import answer_json, assistant_message, turn_from_answer
from ragqa.atomic import write_atomically
from ragqa.errors import HistoryError
from ragqa.index.history import History, new_id, open_history
from ragqa.note_paths import is_inside
from ragqa.web.markup import plain

LISTED = 30  # conversations shown in the sidebar; older ones in "More"


def history_store(settings) -> History | None:
    """The history of the top-level settings (with collections, the top index folder); None when off."""
    return open_history(settings) if settings.history.enabled else None


def new_chat() -> None:
    st.session_state.messages = []
    st.session_state.conversation_id = None


def shown_answer(message: ChatMessage, question: str, answer: dict, plan=None) -> dict:
    """An answer as this session's conversation holds it (st.session_state.messages): its text and
    continuation (what the answer loop reads back: ragqa.web.chat_page.history_of), the question, the answer's
    JSON (what its sources and citations are drawn from) and the plan (its chips)."""
    return {"role": "assistant", "content": message.content, "continuation": message.continuation,
            "question": question, "answer": answer, "plan": plan}


def open_conversation(store: History, conversation_id: str) -> None:
    """Load a saved conversation into this session: shown as it was, and the next question follows it."""
    messages = []
    for turn in store.turns(conversation_id):
        messages.append({"role": "user", "content": turn.question})
        messages.append(shown_answer(assistant_message(turn), turn.question, answer_json(turn)))
    st.session_state.messages = messages
    st.session_state.conversation_id = conversation_id


def conversation_list(store: History | None) -> None:
    """The sidebar's past conversations, newest first; the open one highlighted. Clicking one opens it."""
    if store is None:
        return
    try:
        every = store.conversations()
    except HistoryError as err:
        st.caption(f"Conversations are not saved: {plain(str(err))}")
        return
    if not every:
        return
    st.subheader("Conversations")
    current = st.session_state.get("conversation_id")

    def button(conversation) -> None:
        st.button(plain(conversation.title), key=f"conversation-{conversation.id}", width="stretch",
                  type="primary" if conversation.id == current else "secondary",
                  help=f"{conversation.turns} turns · {conversation.updated[:16].replace('T', ' ')} UTC",
                  on_click=open_conversation, args=(store, conversation.id))

    for conversation in every[:LISTED]:
        button(conversation)
    if len(every) > LISTED:
        with st.expander(f"More ({len(every) - LISTED})"):
            for conversation in every[LISTED:]:
                button(conversation)


def save_turn(store: History | None, question: str, answer) -> None:
    """Commit the answered turn to the open conversation (a new chat gets its id now)."""
    if store is None:
        return
    conversation_id = st.session_state.get("conversation_id") or new_id()
    try:
        store.add_turn(conversation_id, turn_from_answer(answer, question), source="app")
    except HistoryError as err:
        st.warning(f"This answer is not saved: {err}")
        return
    st.session_state.conversation_id = conversation_id


def conversation_bar(store: History | None, notes_dir: Path, save_folder: str, ingest: Callable[[Path], bool]) -> None:
    """Above the open conversation: its title, and rename, download as Markdown, save to notes, delete."""
    conversation_id = st.session_state.get("conversation_id")
    if store is None or not conversation_id:
        return
    try:
        conversation = store.find(conversation_id)
        turns = store.turns(conversation_id)
    except HistoryError:  # deleted in another tab: this one becomes a new chat
        st.session_state.conversation_id = None
        return
    markdown = conversation_markdown(conversation, turns)
    with st.expander(f"Conversation: {plain(conversation.title)}"):
        title = st.text_input("Title", value=conversation.title, key=f"title-{conversation_id}")
        rename, download, save, delete = st.columns(4)
        if rename.button("Rename", width="stretch"):
            try:
                store.rename(conversation_id, title)
                st.rerun()
            except HistoryError as err:
                st.warning(str(err))
        download.download_button("Download as Markdown", markdown, file_name=file_name(conversation),
                                 mime="text/markdown", width="stretch")
        if save.button("Save to notes", width="stretch",
                       help=f"Writes this conversation as a note in {save_folder} of your notes, and ingests it"):
            relative = Path(save_folder) / file_name(conversation)
            target = notes_dir / relative
            if not is_inside(target, notes_dir):  # e.g. the save folder is a symlink out of the notes
                st.warning(f"Not saved: {plain(relative.as_posix())} would land outside the notes folder "
                           "(a symlink?): set history.save_folder to a plain folder inside it")
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(target, markdown)
            st.session_state.saved_note = f"Saved as {relative.as_posix()} in your notes"
            if ingest(notes_dir):
                st.rerun()  # to show the ingest's progress in the sidebar
        if delete.button("Delete", width="stretch"):
            store.delete(conversation_id)
            new_chat()
            st.rerun()
        if st.session_state.get("saved_note"):
            st.success(st.session_state.pop("saved_note"))
