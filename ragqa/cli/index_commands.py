"""`ragqa ingest`, `ragqa search`, `ragqa status`."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ragqa.cli.collection_args import Output, add_collection_arg, each_collection, no_index, open_searcher
from ragqa.collections import labelled
from ragqa.contracts import search_json, status_json
from ragqa.filetypes import KINDS, place
from ragqa.models.chat import reranking_model
from ragqa.models.embedding import make_embedder
from ragqa.models.llm_summary import summary_line

if TYPE_CHECKING:
    from tqdm import tqdm


def register(commands) -> None:
    p = commands.add_parser("ingest", help="index a notes folder (incremental)")
    p.add_argument("path", nargs="?", help="notes folder (default: notes_dir from config)")
    p.add_argument("--index", help="index folder (default: index_dir from config)")
    p.add_argument("--rebuild", action="store_true", help="drop the index and embed everything again")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--wait", type=float, default=600.0, help="seconds to wait if another ingest runs")
    p.add_argument("--engine", choices=["local", "ray"], default=None,
                   help="local (this process) or ray (a Ray cluster; default: ingest.engine from config)")
    p.add_argument("--ray-address", default=None, help="the Ray cluster (HOST:6379, auto); default: a local Ray")
    add_collection_arg(p)
    p.set_defaults(run=each_collection(run_ingest))

    p = commands.add_parser("search", help="find the passages that best match a query")
    p.add_argument("query")
    p.add_argument("--index")
    p.add_argument("-k", type=int, default=None, help="how many results (default: search.top_k)")
    p.add_argument("--mode", choices=["dense", "bm25", "hybrid"], default=None)
    add_filter_args(p)
    add_collection_arg(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_search)

    p = commands.add_parser("status", help="what the index holds")
    p.add_argument("--index")
    add_collection_arg(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=each_collection(run_status))


def add_filter_args(p) -> None:
    p.add_argument("--folder", action="append", default=[], help="only notes under this folder (repeatable)")
    p.add_argument("--tag", action="append", default=[],
                   help="only notes with this tag, or a tag nested under it (repeatable: any of them)")
    p.add_argument("--type", dest="kinds", action="append", default=[], choices=KINDS)
    for which in ("created", "modified"):
        for side, means in (("after", "on or after"), ("before", "on or before")):
            p.add_argument(f"--{which}-{side}", metavar="DATE", type=_day,
                           help=f"only notes {which} {means} DATE (YYYY-MM-DD, or any date)")


def _day(value: str) -> str:
    """A command line's date as an ISO day; argparse says the one line when it is not one."""
    import argparse

    from ragqa.dates import parse_date

    day = parse_date(value)
    if day is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (write it as YYYY-MM-DD)")
    return day.isoformat()


def filters_from(args):
    from ragqa.retrieve.search import Filters

    def days(which: str):
        after, before = getattr(args, f"{which}_after", None), getattr(args, f"{which}_before", None)
        return (after, before) if after or before else None

    return Filters(folders=args.folder, tags=args.tag, kinds=args.kinds, created=days("created"),
                   modified=days("modified"))


class _ProgressBar:
    """A tqdm bar on stderr (on a terminal only) once there are files to read: files, chunks, embedding rate."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar: tqdm | None = None

    def __call__(self, done: int, total: int, chunks: int) -> None:
        if not self.enabled or total == 0:
            return
        bar = self.bar
        if bar is None:
            from tqdm import tqdm

            bar = self.bar = tqdm(total=total, unit="file", file=sys.stderr, disable=None)  # None: off unless a tty
        bar.update(done - bar.n)
        rate = chunks / max(bar.format_dict["elapsed"], 1e-9)
        bar.set_postfix_str(f"{chunks} chunks, {rate:.0f} chunks/s")
        if done == total:
            bar.close()


def run_ingest(settings, args) -> Output:
    from ragqa.ingest.pipeline import ingest_folder

    engine = {k: v for k, v in (("engine", args.engine), ("ray_address", args.ray_address)) if v}
    if args.ray_address and not args.engine:
        engine["engine"] = "ray"
    if engine:
        settings = settings.model_copy(update={"ingest": settings.ingest.model_copy(update=engine)})
    embedder = make_embedder(settings)  # loaded only if a file needs embedding
    report = ingest_folder(
        settings, embedder, notes_dir=Path(args.path) if args.path else None,
        index_dir=Path(args.index) if args.index else None, rebuild=args.rebuild,
        progress=_ProgressBar(not args.json), lock_wait=args.wait,
        on_wait=lambda holder: print(f"another ingest ({holder}) is running; waiting for it…", file=sys.stderr),
    )
    lines = ["model or chunk settings changed: rebuilt the index from scratch"] if report.rebuilt else []
    lines.append(f"added {len(report.added)}, updated {len(report.updated)}, removed {len(report.removed)}, "
                 f"unchanged {len(report.unchanged)}, skipped {len(report.skipped)} files; "
                 f"embedded {report.chunks} chunks in {report.seconds:.1f} s")
    lines += [f"  skipped {item['path']}: {item['reason']}" for item in report.skipped]
    return Output(report.summary(), "\n".join(lines))


def _searcher(settings, args):
    # each model loaded only to embed the query: a BM25 search never loads one
    return open_searcher(settings, args, lambda: reranking_model(settings))[0]


def run_search(settings, args) -> int:
    if args.json:
        rows = search_json(_searcher(settings, args), args.query, k=args.k, mode=args.mode, filters=filters_from(args))
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    hits = _searcher(settings, args).search(args.query, k=args.k, mode=args.mode, filters=filters_from(args))
    if not hits:
        print("no matching passages")
    for rank, hit in enumerate(hits, 1):
        c = hit.chunk
        where = labelled(c.path, c.collection) + (f" {place(c.path, c.page)}" if c.page else "")
        snippet = " ".join(c.text.split())[:200]
        print(f"{rank}. {where}  [{hit.score:.3f}]\n   {c.heading}\n   {snippet}")
    return 0


def run_status(settings, args) -> Output:
    from ragqa.config import config_file
    from ragqa.index.schema import is_index

    index = Path(args.index) if args.index else settings.index_path
    file = config_file(args.config)
    config = file.resolve() if file else "none (the defaults)"
    if not is_index(index):
        raise no_index(settings, index)
    stats = status_json(index, settings)
    when = stats["last_ingest"] or "never"
    types = ", ".join(f"{kind} {n}" for kind, n in stats["types"].items())
    files = f"files {stats['files']}" + (f" ({types})" if types else "")
    return Output(stats, f"{files}, chunks {stats['chunks']}, model {stats['model']} ({stats['dim']}-d), "
                         f"{stats['bytes'] / 1e6:.1f} MB on disk, last ingest {when}\n"
                         f"index {stats['index_dir']}; notes {stats['notes_dir'] or settings.notes_path}; "
                         f"config {config}; ragqa {stats['version']}\n{summary_line(stats['llm'])}")
