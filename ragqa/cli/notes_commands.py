"""`ragqa related`, `ragqa topics`, `ragqa duplicates`, `ragqa watch`: how notes connect.

The first three read note vectors kept beside the index (no model is loaded);
`watch` re-ingests the folder as files are saved.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from ragqa.cli.collection_args import Output, add_collection_arg, chosen, each_collection
from ragqa.contracts import related_json
from ragqa.errors import ConfigError


def register(commands) -> None:
    p = commands.add_parser("related", help="the notes most similar to a note")
    p.add_argument("note", metavar="NOTE_PATH", help="a note, relative to the notes folder (or absolute under it)")
    p.add_argument("--index")
    p.add_argument("-k", type=int, default=10, help="how many related notes (default 10)")
    p.add_argument("--json", action="store_true", help='print [{"path","title","score"}]')
    add_collection_arg(p)
    p.set_defaults(run=each_collection(run_related))

    p = commands.add_parser("topics", help="group the notes into topics")
    p.add_argument("--index")
    p.add_argument("-k", type=int, default=None, help="how many topics (default: topics.k, else chosen by silhouette)")
    p.add_argument("--no-llm", action="store_true", help="name topics by their distinctive words, not by the LLM")
    p.add_argument("--json", action="store_true", help='print [{"name","size","notes"}]')
    add_collection_arg(p)
    p.set_defaults(run=each_collection(run_topics))

    p = commands.add_parser("duplicates", help="pairs of notes that are nearly the same")
    p.add_argument("--index")
    p.add_argument("--threshold", type=float, default=0.9,
                   help="centred cosine similarity, -1 to 1, as in `related` (default 0.9)")
    p.add_argument("--chunks", action="store_true", help="compare passages of different notes instead of whole notes")
    p.add_argument("--json", action="store_true", help='print [{"a","b","score"}]')
    add_collection_arg(p)
    p.set_defaults(run=each_collection(run_duplicates))

    p = commands.add_parser("watch", help="re-ingest notes as you save them")
    p.add_argument("path", nargs="?", help="notes folder (default: notes_dir from config)")
    p.add_argument("--index")
    p.add_argument("--quiet-seconds", type=float, default=0.5, help="wait for this long without changes (default 0.5)")
    add_collection_arg(p)
    p.set_defaults(run=run_watch)


def _index(settings, args) -> Path:
    return Path(args.index) if args.index else settings.index_path


def _notes(settings, args):
    from ragqa.notes.vectors import load_note_vectors

    return load_note_vectors(_index(settings, args))


def run_related(settings, args) -> Output:
    path, rows = related_json(settings, _index(settings, args), args.note, k=args.k)
    lines = [f"Notes related to {path}:" if rows else f"{path} is the only note in the index"]
    lines += [f"{rank:>3}. {row['score']:.3f}  {row['title']}  ({row['path']})" for rank, row in enumerate(rows, 1)]
    return Output(rows, "\n".join(lines))


def run_topics(settings, args) -> Output:
    from ragqa.models.chat import NoChatModel, chat_model_or_problem
    from ragqa.notes.graph import find_topics, note_texts

    if args.k is not None and args.k < 1:
        raise ConfigError("-k must be at least 1")
    notes = _notes(settings, args)
    # a model that cannot be started leaves the naming to the topics' words, as a failing one does
    chat_model, problem = (NoChatModel(), None) if args.no_llm else chat_model_or_problem(settings)
    topics, naming_problem = find_topics(notes, note_texts(_index(settings, args)), k=args.k, settings=settings,
                                         chat_model=chat_model)
    problem = problem or naming_problem
    titles = dict(zip(notes.paths, notes.titles, strict=True))
    lines = []
    for topic in topics:
        sample = "; ".join(titles[p] for p in topic["notes"][:5])
        more = f" (+{topic['size'] - 5} more)" if topic["size"] > 5 else ""
        lines.append(f"{topic['name']} — {topic['size']} notes\n   {sample}{more}")
    return Output(topics, "\n".join(lines), (f"topics named by their words instead ({problem})",) if problem else ())


def run_duplicates(settings, args) -> Output:
    from ragqa.notes.graph import duplicate_chunks, duplicate_notes

    if not -1 <= args.threshold <= 1:
        raise ConfigError(f"--threshold is a cosine similarity, from -1 to 1, not {args.threshold}")
    if args.chunks:
        from ragqa.index.store import require_index

        require_index(_index(settings, args))
        pairs = duplicate_chunks(_index(settings, args), args.threshold)
    else:
        pairs = duplicate_notes(_notes(settings, args), args.threshold)
    lines = [f"{pair['score']:.3f}  {pair['a']}  ≈  {pair['b']}" for pair in pairs]
    return Output(pairs, "\n".join(lines) or f"no pairs at or above {args.threshold:g}")


def run_watch(settings, args) -> int:
    """One watcher per chosen collection, each with its own folder, index and model; Ctrl-C stops them all."""
    from contextlib import ExitStack

    from ragqa.ingest.watch import FolderWatcher, describe
    from ragqa.models.embedding import make_embedder

    picked = chosen(settings, args)
    watchers = []
    for collection in picked:
        own = collection.settings
        notes = Path(args.path) if args.path else own.notes_path
        if not notes.is_dir():
            problem = f"notes folder not found: {notes} (set notes_dir in config.yaml or pass a PATH)"
            if len(picked) == 1:
                raise ConfigError(problem)
            print(f"ragqa: collection {collection.name}: {problem}; watching the others", file=sys.stderr)
            continue
        label = "" if len(picked) == 1 else f"[{collection.name}] "

        def said(report, changed, label=label) -> None:
            line = describe(report, changed)
            if line:
                print(f"{time.strftime('%H:%M:%S')} {label}{line}", flush=True)

        def failed(message: str, label=label) -> None:
            print(f"{time.strftime('%H:%M:%S')} {label}ragqa: {message}", file=sys.stderr, flush=True)

        embedder = make_embedder(own)  # loaded at the first change that needs embedding
        watchers.append(FolderWatcher(own, embedder, notes_dir=notes, index_dir=_index(own, args),
                                      quiet_seconds=args.quiet_seconds, on_report=said, on_error=failed))
    if not watchers:
        raise ConfigError("none of the chosen collections has a notes folder to watch")
    with ExitStack() as running:
        for watcher in watchers:
            running.enter_context(watcher)
            print(f"watching {watcher.notes_dir} (Ctrl-C to stop)", flush=True)
        try:
            watchers[0].wait()
        except KeyboardInterrupt:
            print("stopped watching", flush=True)
    return 0
