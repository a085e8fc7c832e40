"""`ragqa ask` and `ragqa chat`: answers streamed to the terminal, then their sources."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ragqa.cli.index_commands import add_filter_args, filters_from


def register(commands) -> None:
    p = commands.add_parser("ask", help="answer a question from your notes, with citations")
    p.add_argument("question")
    p.add_argument("--index")
    p.add_argument("-k", type=int, default=None)
    add_filter_args(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_ask)

    p = commands.add_parser("chat", help="a multi-turn conversation in the terminal")
    p.add_argument("--index")
    p.add_argument("-k", type=int, default=None)
    add_filter_args(p)
    p.set_defaults(run=run_chat)


def _engine(settings, args):
    from ragqa.index.store import require_index
    from ragqa.models.chat import make_chat_model
    from ragqa.models.embedder import load_embedder
    from ragqa.retrieve.search import Searcher

    index = Path(args.index) if args.index else settings.index_path
    require_index(index)
    embedder = load_embedder(settings.embedding)
    chat_model = make_chat_model(settings)  # before the Searcher: `search.rerank: llm` reranks with it
    return Searcher(settings, embedder, index, chat_model=chat_model), chat_model


def print_sources(answer, out=sys.stdout) -> None:
    if answer.error:
        print(f"\n(the LLM failed: {answer.error})\nShowing the best passages instead.", file=out)
    rows = answer.citation_rows()
    if rows:
        print("\nSources:", file=out)
        for row in rows:
            where = f"page {row['page']}" if row["page"] else row["heading"]
            print(f"  [{row['n']}] {row['path']} — {where}", file=out)
    others = answer.uncited()
    if others:
        print("Also retrieved: " + ", ".join(f"[{n}] {h.chunk.path}" for n, h in others), file=out)


def _stream(question, settings, args, searcher, chat_model, history, quiet=False):
    from ragqa.answer.loop import answer_events

    answer = None
    for kind, value in answer_events(question, searcher=searcher, chat_model=chat_model, settings=settings,
                                     history=history, filters=filters_from(args), k=args.k):
        if kind == "delta" and not quiet:
            sys.stdout.write(value)
            sys.stdout.flush()
        elif kind == "done":
            answer = value
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


def run_chat(settings, args) -> int:
    import threading

    from ragqa.answer.loop import warm_up

    searcher, chat_model = _engine(settings, args)
    if chat_model.generates:  # reads the prompt's fixed start while the first question is typed
        threading.Thread(target=warm_up, args=(chat_model,), daemon=True).start()
    history: list[dict] = []
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
        history += [{"role": "user", "content": question}, answer.history_entry()]
    return 0
