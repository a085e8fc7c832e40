"""The browser's "Chat" view: the conversation so far, and a new question answered from the shared index.

The conversation belongs to the browser session (st.session_state.messages) and, as each answer ends, to
the saved history (ragqa.web.conversations); drawing one answer as it streams is ragqa.web.chat's part.
"""
from __future__ import annotations

import streamlit as st

from ragqa.answer.conversation import ChatMessage
from ragqa.answer.loop import answer_events
from ragqa.errors import RagqaError
from ragqa.retrieve.search import Filters
from ragqa.web.chat import RELATED_PER_SOURCE, safe_related, show_answer_details, stream_answer
from ragqa.web.chips import show_chips
from ragqa.web.conversations import conversation_bar, save_turn, shown_answer
from ragqa.web.notes_data import Version, related_to
from ragqa.web.resources import chat_model_for, forget_chat_model


def related_finder(version: Version | None, collection: str):
    """A cited note's related notes, from its own collection's index (`version` is `collection`'s); none
    while there is no index version to read them from."""
    return safe_related(lambda path: related_to(version, path, RELATED_PER_SOURCE) if version else [], collection)


def chat_view(settings, index, version: Version | None, tab, store=None, ingest=lambda folder: False) -> None:
    """`index`: what the chat searches (a SharedIndex, or several collections' behind one `search`);
    `settings` and `version`: the collection the sidebar shows; `store`: the saved history (None: off);
    `ingest(folder)` starts an ingest of the notes folder (after "Save to notes")."""
    with tab:
        conversation_bar(store, settings.notes_path, settings.history.save_folder, ingest)
        for number, message in enumerate(st.session_state.messages):
            with st.chat_message(message["role"]):
                show_chips(message.get("plan"), message.get("question", ""), str(number))
                st.markdown(message["content"])
                if message.get("problem"):
                    st.error(message["problem"])
                if message.get("answer"):
                    show_answer_details(message, related_finder(version, settings.collection_name))
    question = st.chat_input("Ask a question about your notes")  # outside the tab: pinned to the bottom
    again = st.session_state.pop("reask", None)  # a chip was taken away: the same question, that plan
    if question or again:
        with tab:
            ask(question or again[0], settings, index, version, store, plan=None if question else again[1])


def history_of(messages: list[dict]) -> list[ChatMessage]:
    """The conversation shown so far as the answer loop reads it: each question and answer (an answer with its
    continuation), without the problems shown in their place."""
    return [ChatMessage(m["role"], m["content"], m.get("continuation")) for m in messages if m["content"]]


def ask(question: str, settings, index, version: Version | None, store=None, plan=None) -> None:
    """Answer `question` with this session's filters and top-k, and add both to the conversation. `plan`: the
    plan to follow instead of planning the question (a chip was taken away)."""
    history = history_of(st.session_state.messages)
    st.session_state.messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(question)
    with st.chat_message("assistant"):
        above = st.container()  # the chips, once the answer says what was understood
        model, problem = chat_model_for(settings, fresh=True)
        filters = Filters(folders=st.session_state.filter_folders, tags=st.session_state.filter_tags,
                          kinds=st.session_state.filter_kinds)
        events = answer_events(question, searcher=index, chat_model=model, settings=settings, history=history,
                               filters=filters, k=st.session_state.top_k, plan=plan)
        try:
            answer = stream_answer(events, question)
        except RagqaError as err:  # e.g. the index was rebuilt with another model meanwhile
            st.error(str(err))
            st.session_state.messages.append({"role": "assistant", "content": "", "problem": str(err)})
            return
        answer.error = answer.error or problem
        if answer.error and settings.llm.provider == "local":
            forget_chat_model()  # a dead local server is started again for the next question
        message = shown_answer(answer.as_message(), question, answer.as_json(), answer.plan)
        with above:
            show_chips(answer.plan, question, str(len(st.session_state.messages)))
        show_answer_details(message, related_finder(version, settings.collection_name))
    st.session_state.messages.append(message)
    save_turn(store, question, answer)
