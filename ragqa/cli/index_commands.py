"""`ragqa ingest`, `ragqa search`, `ragqa status`."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ragqa.models.embedder import load_embedder


def register(commands) -> None:
    p = commands.add_parser("ingest", help="index a notes folder (incremental)")
    p.add_argument("path", nargs="?", help="notes folder (default: notes_dir from config)")
    p.add_argument("--index", help="index folder (default: index_dir from config)")
    p.add_argument("--rebuild", action="store_true", help="drop the index and embed everything again")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--wait", type=float, default=600.0, help="seconds to wait if another ingest runs")
    p.set_defaults(run=run_ingest)

    p = commands.add_parser("search", help="find the passages that best match a query")
    p.add_argument("query")
    p.add_argument("--index")
    p.add_argument("-k", type=int, default=None, help="how many results (default: search.top_k)")
    p.add_argument("--mode", choices=["dense", "bm25", "hybrid"], default=None)
    add_filter_args(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_search)

    p = commands.add_parser("status", help="what the index holds")
    p.add_argument("--index")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_status)


def add_filter_args(p) -> None:
    p.add_argument("--folder", action="append", default=[], help="only notes under this folder (repeatable)")
    p.add_argument("--tag", action="append", default=[], help="only notes with this front-matter tag (repeatable)")
    p.add_argument("--type", dest="kinds", action="append", default=[], choices=["markdown", "text", "pdf"])


def filters_from(args):
    from ragqa.retrieve.search import Filters

    return Filters(folders=args.folder, tags=args.tag, kinds=args.kinds)


class _ProgressBar:
    """A one-line progress bar on stderr: files, chunks and the embedding rate."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.started = time.perf_counter()

    def __call__(self, done: int, total: int, chunks: int) -> None:
        if not self.enabled or total == 0:
            return
        rate = chunks / max(time.perf_counter() - self.started, 1e-9)
        filled = int(30 * done / total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} files, {chunks} chunks, {rate:.0f} chunks/s ")
        sys.stderr.flush()
        if done == total:
            sys.stderr.write("\n")


def run_ingest(settings, args) -> int:
    from ingest.pipeline import ingest_folder

    embedder = load_embedder(settings.embedding)
    report = ingest_folder(
        settings, embedder, notes_dir=Path(args.path) if args.path else None,
        index_dir=Path(args.index) if args.index else None, rebuild=args.rebuild,
        progress=_ProgressBar(not args.json), lock_wait=args.wait,
        on_wait=lambda holder: print(f"another ingest ({holder}) is running; waiting for it…", file=sys.stderr),
    )
    if args.json:
        print(json.dumps(report.summary()))
        return 0
    if report.rebuilt:
        print("model or chunk settings changed: rebuilt the index from scratch")
    print(f"added {len(report.added)}, updated {len(report.updated)}, removed {len(report.removed)}, "
          f"unchanged {len(report.unchanged)}, skipped {len(report.skipped)} files; "
          f"embedded {report.chunks} chunks in {report.seconds:.1f} s")
    for item in report.skipped:
        print(f"  skipped {item['path']}: {item['reason']}")
    return 0


def _searcher(settings, args):
    from ragqa.retrieve.search import Searcher
    from ragqa.index.store import require_index

    index = Path(args.index) if args.index else settings.index_path
    require_index(index)
    return Searcher(settings, load_embedder(settings.embedding), index)


def hit_json(hit) -> dict:
    c = hit.chunk
    return {"path": c.path, "title": c.title, "heading": c.heading, "page": c.page,
            "score": round(float(hit.score), 6), "text": c.text}


def run_search(settings, args) -> int:
    hits = _searcher(settings, args).search(args.query, k=args.k, mode=args.mode, filters=filters_from(args))
    if args.json:
        print(json.dumps([hit_json(h) for h in hits], ensure_ascii=False))
        return 0
    if not hits:
        print("no matching passages")
    for rank, hit in enumerate(hits, 1):
        c = hit.chunk
        where = f"{c.path}" + (f" p.{c.page}" if c.page else "")
        snippet = " ".join(c.text.split())[:200]
        print(f"{rank}. {where}  [{hit.score:.3f}]\n   {c.heading}\n   {snippet}")
    return 0


def run_status(settings, args) -> int:
    from ragqa.index.store import IndexReader

    reader = IndexReader(Path(args.index) if args.index else settings.index_path)
    stats = reader.stats()
    if args.json:
        print(json.dumps(stats))
        return 0
    when = stats["last_ingest"] or "never"
    print(f"files {stats['files']}, chunks {stats['chunks']}, model {stats['model']} ({stats['dim']}-d), "
          f"{stats['bytes'] / 1e6:.1f} MB on disk, last ingest {when}")
    return 0
