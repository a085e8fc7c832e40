"""Ingest throughput: ragqa's end-to-end ingest against the raw `model.encode` rate on the very same
chunk texts and settings (goal: ratio >= 0.9, the pipeline adds almost nothing around the model), and with
--llamaindex against LlamaIndex on the same folder and model (goal: ragqa >= 2x faster).

    python bench/ingest.py [--datasets vault scifact] [--limit N] [--model NAME] [--llamaindex]

`scifact` is the SciFact corpus written out as one note per abstract (as `ragqa eval` does). `--limit N`
keeps the first N files of each folder (sorted), for a busy machine. Each system runs in its own child
process, so its peak RSS is its own; model loading is excluded from every timing. Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as bench/query.py: idle threads sleep, not spin
REPO = Path(__file__).resolve().parents[1]
sys.path[0] = str(REPO)  # not bench/: bench/ingest.py would shadow the ingest package
DATA = REPO.parent / "shared" / "data"
VAULT = DATA / "notes-lesleylai-digital-garden"

from bench.machine import load_average, machine_line, rss_mb  # noqa: E402


def dataset_folder(name: str, work: Path, limit: int | None) -> Path:
    """The notes folder for a dataset name (vault, scifact) or a path, cut to `limit` files."""
    if name == "scifact":
        from ragqa.cli.eval_command import load_beir, write_corpus_as_notes

        corpus, _, _ = load_beir(DATA / "scifact")
        ids = sorted(corpus)[:limit] if limit else sorted(corpus)
        target = work / f"scifact-{len(ids)}"
        write_corpus_as_notes({i: corpus[i] for i in ids}, target)
        return target
    source = VAULT if name == "vault" else Path(name)
    if not limit:
        return source
    target = work / f"{source.name}-{limit}"
    shutil.rmtree(target, ignore_errors=True)
    for path in sorted(p for p in source.rglob("*.md") if p.is_file())[:limit]:
        (target / path.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target / path.relative_to(source))
    return target


def chunk_texts(index_dir: Path) -> list[str]:
    """Exactly what ragqa embedded: breadcrumb, newline, body."""
    conn = sqlite3.connect(index_dir / "index.sqlite")
    rows = conn.execute("SELECT heading, text FROM chunks ORDER BY id").fetchall()
    conn.close()
    return [f"{h}\n{t}" if h else t for h, t in rows]


def child_ragqa(args) -> dict:
    from ragqa.config import Settings
    from ragqa.ingest.pipeline import ingest_folder
    from ragqa.models.embedder import load_embedder

    settings = Settings.model_validate({"notes_dir": args.folder, "index_dir": args.index,
                                        "embedding": {"model": args.model}})
    embedder = load_embedder(settings.embedding)
    embedder.embed_passages(["warm up"] * 4)
    report = ingest_folder(settings, embedder)
    again = ingest_folder(settings, embedder)
    return {"files": len(report.added), "chunks": report.chunks, "seconds": report.seconds,
            "noop_s": again.seconds, "passage_prefix": embedder.passage_prefix, "query_prefix": embedder.query_prefix,
            "model_folder": str(embedder.folder), "batch_size": settings.embedding.batch_size,
            "bf16": settings.embedding.bf16, "chunk_tokens": settings.chunking.chunk_tokens,
            "overlap_tokens": settings.chunking.overlap_tokens}


def child_raw(args) -> dict:
    from ragqa.config import EmbeddingSettings
    from ragqa.models.embedder import load_embedder

    embedder = load_embedder(EmbeddingSettings(model=args.model))
    embedder.embed_passages(["warm up"] * 4)
    texts = chunk_texts(Path(args.index))
    started = time.perf_counter()
    embedder.model.encode(texts, prompt=embedder.passage_prefix, batch_size=embedder.settings.batch_size,
                          convert_to_numpy=True, show_progress_bar=False)
    return {"chunks": len(texts), "seconds": time.perf_counter() - started}


def child_llamaindex(args) -> dict:
    from bench.llamaindex_ingest import run_llamaindex

    ragqa = json.loads(args.ragqa)
    return run_llamaindex(Path(args.folder), Path(ragqa["model_folder"]), ragqa["passage_prefix"],
                          ragqa["query_prefix"], bf16=ragqa["bf16"], chunk_tokens=ragqa["chunk_tokens"],
                          overlap_tokens=ragqa["overlap_tokens"], batch_size=ragqa["batch_size"],
                          persist_dir=Path(args.index))


CHILDREN = {"ragqa": child_ragqa, "raw": child_raw, "llamaindex": child_llamaindex}


def run_child(kind: str, **options) -> dict:
    command = [sys.executable, __file__, "--child", kind]
    for key, value in options.items():
        command += [f"--{key}", str(value)]
    before = load_average()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load"] = (before + load_average()) / 2
    print(f"  {kind}: {result}", file=sys.stderr, flush=True)
    return result


def bench_dataset(name: str, args, work: Path) -> list[str]:
    folder = dataset_folder(name, work, args.limit)
    index = work / f"index-{folder.name}"
    shutil.rmtree(index, ignore_errors=True)
    ragqa = run_child("ragqa", folder=folder, index=index, model=args.model)
    raw = run_child("raw", index=index, model=args.model)
    label = f"{name} ({folder.name})"
    rate = ragqa["chunks"] / ragqa["seconds"]
    raw_rate = raw["chunks"] / raw["seconds"]
    rows = [f"| {label} | ragqa ingest, end to end | {ragqa['files']} | {ragqa['chunks']} | "
            f"{ragqa['seconds']:.1f} | {rate:.1f} | **{rate / raw_rate:.2f}** of raw encode | "
            f"{ragqa['rss_peak_mb']:.0f} | {ragqa['load']:.1f} |",
            f"| {label} | raw model.encode, same texts | | {raw['chunks']} | {raw['seconds']:.1f} | "
            f"{raw_rate:.1f} | 1.00 | {raw['rss_peak_mb']:.0f} | {raw['load']:.1f} |",
            f"| {label} | ragqa no-change re-ingest | {ragqa['files']} | 0 | {ragqa['noop_s']:.2f} | | | | |"]
    if args.llamaindex:
        li = run_child("llamaindex", folder=folder, index=work / f"llamaindex-{folder.name}", model=args.model,
                       ragqa=json.dumps(ragqa))
        rows.append(f"| {label} | LlamaIndex, same folder, model, bf16 | {li['files']} | {li['chunks']} | "
                    f"{li['seconds']:.1f} | {li['chunks'] / li['seconds']:.1f} | "
                    f"ragqa **{li['seconds'] / ragqa['seconds']:.2f}x** "
                    f"as fast (time to index the folder) | {li['rss_peak_mb']:.0f} | {li['load']:.1f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["vault", "scifact"], help="vault, scifact or folders")
    parser.add_argument("--limit", type=int, default=None, help="only the first N files of each folder")
    parser.add_argument("--model", default="intfloat/multilingual-e5-small")
    parser.add_argument("--llamaindex", action="store_true", help="also run LlamaIndex on the same folder and model")
    parser.add_argument("--work", default=None, help="scratch folder (default: a temp dir)")
    for hidden in ("child", "folder", "index", "ragqa"):
        parser.add_argument(f"--{hidden}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = CHILDREN[args.child](args)
        result["rss_peak_mb"] = rss_mb()[1]
        print(json.dumps(result))
        return
    work = Path(args.work or tempfile.mkdtemp(prefix="ragqa-bench-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = [row for name in args.datasets for row in bench_dataset(name, args, work)]
    print(f"\n{args.model}, {machine_line()}; load = 1-min load average during that run\n")
    print("| dataset | what | files | chunks | seconds | chunks/s | ratio | peak RSS MB | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
