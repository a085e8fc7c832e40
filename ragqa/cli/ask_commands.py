"""`ragqa ask` and `ragqa chat`: answers streamed to the terminal, then their sources."""
from __future__ import annotations

import json
import sys

from ragqa.cli.collection_args import add_collection_arg, open_searcher
from ragqa.cli.index_commands import add_filter_args, filters_from
from ragqa.collections import labelled
from ragqa.filetypes import place


def register(commands) -> None:
    p = commands.add_parser("ask", help="answer a question from your notes, with citations")
    p.add_argument("question")
    p.add_argument("--index")
    p.add_argument("-k", type=int, default=None)
    add_filter_args(p)
    add_collection_arg(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_ask)

    p = commands.add_parser("chat", help="a multi-turn conversation in the terminal (saved: `ragqa history`)")
    p.add_argument("--index")
    p.add_argument("--resume", metavar="ID", help="go on with a saved conversation (`ragqa history` lists them)")
    p.add_argument("-k", type=int, default=None)
    add_filter_args(p)
    add_collection_arg(p)
    p.set_defaults(run=run_chat)


def _engine(settings, args):
    from ragqa.models.chat import make_chat_model
    from ragqa.models.lazy_chat import LazyChatModel

    # Both models are made when first needed: a question answered from the notes' catalog (which notes, how
    # many, what links where) loads neither. (`search.rerank: llm` reranks with the same chat model.)
    chat_model = LazyChatModel(lambda: make_chat_model(settings), settings.llm.provider != "none")
    return open_searcher(settings, args, lambda: chat_model)


def print_sources(answer, out=None) -> None:
    out = out or sys.stdout  # the stream of now, not of import time (a test's captured stdout, or a redirect)
    if answer.error:
        print(f"\n(the LLM failed: {answer.error})\nShowing the best passages instead.", file=out)
    rows = answer.citation_rows()
    if rows:
        print("\nSources:", file=out)
        for row in rows:
            where = place(row["path"], row["page"]) or row["heading"]
            print(f"  [{row['n']}] {labelled(row['path'], row['collection'])} — {where}", file=out)
    others = answer.uncited()
    if others:
        print("Also retrieved: " + ", ".join(f"[{n}] {labelled(h.chunk.path, h.chunk.collection)}"
                                             for n, h in others), file=out)


def _stream(question, settings, args, searcher, chat_model, history, quiet=False):
    from ragqa.answer.events import Delta, Done
    from ragqa.answer.loop import answer_events
    from ragqa.answer.results import Answer

    answer: Answer | None = None
    for event in answer_events(question, searcher=searcher, chat_model=chat_model, settings=settings,
                               history=history, filters=filters_from(args), k=args.k):
        match event:
            case Delta(text) if not quiet:
                sys.stdout.write(text)
                sys.stdout.flush()
            case Done(answer):
                pass
    return answer


def run_ask(settings, args) -> int:
    searcher, chat_model = _engine(settings, args)
    answer = _stream(args.question, settings, args, searcher, chat_model, [], quiet=args.json)
    if args.json:
        print(json.dumps(answer.as_json(), ensure_ascii=False))
        return 0
    _finish(answer)
    return 0


def _finish(answer) -> None:
    """After streaming: a generated answer was already printed; a retrieval-only one is printed now.
    Citations may have been corrected after checking, so the checked text is shown if it differs."""
    if not answer.generated:
        print(answer.text)
    else:
        print()
        if answer.quoted:  # the model said the notes do not say, but a passage does: quoted below it
            print("\n" + answer.text.replace("*", ""))
        if answer.invalid_citations:
            print(f"(removed citations to passages that do not exist: {answer.invalid_citations})")
    print_sources(answer)
    if answer.generated and answer.first_token_seconds is not None:
        print(f"({answer.model}: first words after {answer.first_token_seconds:.1f} s, "
              f"answered in {answer.seconds:.1f} s)")


def _resumed(settings, args):
    """(the history store or None, the conversation's id, its messages so far). With --resume, the saved
    turns, read before any model loads; a history that cannot be saved to says so once, and the chat goes on."""
    from ragqa.answer.saved import conversation_messages
    from ragqa.errors import HistoryError
    from ragqa.index.history import new_id, open_history

    history = open_history(settings, args.index)
    if args.resume:
        conversation = history.find(args.resume)
        turns = history.turns(conversation.id)
        print(f"Resuming \"{conversation.title}\" ({conversation.id}, {len(turns)} turns so far).")
        return (history if settings.history.enabled else None), conversation.id, conversation_messages(turns)
    if not settings.history.enabled:
        return None, None, []
    try:
        history.check()
    except HistoryError as err:
        print(f"ragqa: {err}; this chat is not saved", file=sys.stderr)
        return None, None, []
    return history, new_id(), []


def _save(store, conversation_id, question, answer) -> bool:
    from ragqa.answer.saved import turn_from_answer
    from ragqa.errors import HistoryError

    try:
        store.add_turn(conversation_id, turn_from_answer(answer, question), source="chat")
        return True
    except HistoryError as err:
        print(f"ragqa: {err}; this answer is not saved", file=sys.stderr)
        return False


def run_chat(settings, args) -> int:
    import threading

    from ragqa.answer.conversation import ChatMessage
    from ragqa.answer.loop import warm_up

    store, conversation_id, history = _resumed(settings, args)
    searcher, chat_model = _engine(settings, args)
    if chat_model.generates:  # reads the prompt's fixed start while the first question is typed
        threading.Thread(target=warm_up, args=(chat_model,), daemon=True).start()
    saved = bool(history)
    print("Ask about your notes. An empty line or Ctrl-D ends the chat.")
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            break
        if not question:
            break
        answer = _stream(question, settings, args, searcher, chat_model, history)
        _finish(answer)
        history += [ChatMessage.user(question), answer.as_message()]
        if store is not None:  # the turn is committed now that its answer has ended
            saved = _save(store, conversation_id, question, answer) or saved
    if saved and store is not None:
        print(f"\nSaved as conversation {conversation_id}: `ragqa chat --resume {conversation_id}` goes on with it.")
    return 0
