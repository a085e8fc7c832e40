"""Several processes on one all-Milvus store, through a real Milvus Lite server (tests/helpers/milvus_server.py).

- Two real `ragqa serve` replicas (each its own index folder, as on two hosts), driven by the real openai client
  and plain HTTP, while a real `ragqa ingest` rewrites every note: every request is answered, no search ever
  shows a half-written note, and an edit ingested through one replica is found by the other's next search.
- kill -9 of a real `ragqa ingest` at random moments, 10 times: the store stays consistent (each note whole,
  nothing twice), and the next ingest finishes the job exactly as a clean one.
"""
from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest

from ragqa.index.lock import LOCK_NAME, write_lock
from ragqa.index.milvus_state import MilvusIndex
from ragqa.ingest.pipeline import ingest_folder
from ragqa.retrieve.search import Searcher
from ragqa.store_locations import milvus_location

from helpers import forked_cli
from helpers.api_server import Server
from helpers.milvus_server import milvus_lite_server
from helpers.settings import make_settings

pytestmark = pytest.mark.slow

WORDS = ("river stone garden lantern harbor copper meadow violin orchard glacier falcon timber ember quartz "
         "saddle willow canyon pepper mirror harvest beacon thimble marble anchor cobalt juniper velvet tundra "
         "pilgrim saffron compass orbit walnut cinder prairie lagoon nectar bramble summit pebble archive").split()
PARTS = 4


def note_text(shelf: int, version: int) -> str:
    """A note whose every paragraph names its version; the same shape (so the same chunks) in every version."""
    rng = random.Random(shelf)
    return f"# Shelf {shelf}\n\n" + "\n\n".join(
        f"Version {version:03d} of shelf {shelf} part {part}: " + " ".join(rng.choice(WORDS) for _ in range(40)) + "."
        for part in range(PARTS)) + "\n"


def write_shelves(notes: Path, shelves: int, version: int) -> None:
    for shelf in range(shelves):
        path = notes / "shelf" / f"s{shelf:02d}" / "note.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(note_text(shelf, version), encoding="utf-8")


def versions(texts) -> set[str]:
    return {v for text in texts for v in re.findall(r"Version (\d{3})", text)}


@pytest.fixture(scope="module")
def milvus(tmp_path_factory):
    with milvus_lite_server(tmp_path_factory.mktemp("milvus-server") / "data") as uri:
        yield uri


def store(uri: str, name: str) -> dict:
    return {"backend": "milvus", "milvus_holds": "everything", "milvus_uri": uri, "milvus_collection": name}


def settings_dict(tmp: Path, notes: Path, uri: str, name: str) -> dict:
    return {"notes_dir": str(notes), "index_dir": str(tmp / "index"), "llm": {"provider": "none"},
            "embedding": {"model": "all-MiniLM-L6-v2", "cache_dir": str(tmp.parent / "cache")},
            "chunking": {"chunk_tokens": 48, "overlap_tokens": 8}, "store": store(uri, name)}


def ask_until_done(server: Server, shelves: int, per_note: dict, ingest: subprocess.Popen, lock: Path,
                   log: list) -> None:
    """Search and chat with one replica until `done()`; each search must show one whole version of its note."""
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="none", max_retries=0, timeout=120)
    asked = 0
    while ingest.poll() is None:
        shelf = (asked * 7 + len(log)) % shelves
        writing = lock.exists() and lock.read_text() == f"pid {ingest.pid}"  # it holds the write lock
        code, hits = server.request("POST", "/v1/search", {"query": f"shelf {shelf} river garden", "k": 50,
                                                           "folder": f"shelf/s{shelf:02d}"})
        assert code == 200, hits
        found = versions(h["text"] for h in hits)
        assert len(found) == 1 and len(hits) == per_note[shelf], (shelf, found, len(hits))  # one whole version
        reply = client.chat.completions.create(model="ragqa", messages=[
            {"role": "user", "content": f"What is on shelf {shelf}?"}])
        assert reply.choices[0].message.content
        log.append((writing, found.pop()))
        asked += 1


def test_two_serve_replicas_and_an_ingest_share_one_milvus_store(tmp_path, milvus, minilm):
    notes, shelves = tmp_path / "notes", 60
    write_shelves(notes, shelves, version=0)
    configs = {name: settings_dict(tmp_path / name, notes, milvus, "replicas") for name in ("a", "b")}
    for name in configs:
        (tmp_path / name).mkdir()
    first = make_settings(tmp_path / "a", notes, **{k: v for k, v in configs["a"].items() if k != "notes_dir"})
    ingest_folder(first, minilm)
    per_note = {int(r.path.split("/")[1][1:]): r.chunks for r in Searcher(first, minilm).reader.files()}
    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(lambda name: Server(tmp_path / name, configs[name]), configs)
    try:
        for server in (a, b):  # each replica loads its model now, not during the ingest
            assert server.request("POST", "/v1/search", {"query": "shelf", "k": 1})[0] == 200
        write_shelves(notes, shelves, version=1)
        ingest = subprocess.Popen([sys.executable, "-m", "ragqa", "ingest", "--json"], env=a.env, cwd=a.tmp,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        log: list = []
        lock = Path(configs["a"]["index_dir"]) / LOCK_NAME
        with ThreadPoolExecutor(2) as pool:
            for done in [pool.submit(ask_until_done, s, shelves, per_note, ingest, lock, log) for s in (a, b)]:
                done.result()
        out, err = ingest.communicate(timeout=60)
        assert ingest.returncode == 0, err[-2000:]
        assert json.loads(out)["updated"] == shelves
        during = sum(writing for writing, _ in log)
        assert during >= 4 and {v for _, v in log} == {"000", "001"}, log  # old and new notes both seen whole
        # an edit ingested through one replica is found by the other's next search
        (notes / "shelf" / "s03" / "note.md").write_text("# Shelf 3\n\nA zanzibar quokka guards shelf three.\n",
                                                         encoding="utf-8")
        code, report = a.request("POST", "/v1/ingest", {"wait": 60})
        assert code == 200 and report["updated"] == 1, report
        code, hits = b.request("POST", "/v1/search", {"query": "zanzibar quokka", "k": 1})
        assert code == 200 and hits[0]["path"] == "shelf/s03/note.md" and "quokka" in hits[0]["text"]
        print(f"\n{len(log)} searches and chats, {during} while the ingest held the write lock")
    finally:
        for server in (a, b):
            server.process.send_signal(signal.SIGTERM)
        for server in (a, b):
            server.process.wait(30)


# ---- kill -9 ----------------------------------------------------------------------------------------------

KILLS = 10


def visible_chunks(settings, quiet: bool) -> dict[tuple[str, int], str]:
    """{(path, ordinal): text} of what readers see; asserts each note is whole and nothing is there twice.
    `quiet` (no ingest running, the last one finished): no leftover row or pending intent either."""
    index = MilvusIndex(settings.index_path, milvus_location(settings.index_path))
    try:
        if not index.exists():  # a --rebuild killed after it dropped the old index: empty until the next ingest
            assert not quiet
            return {}
        files = {row["path"]: row for row in index.file_rows()}
        rows = index.query(index.names["chunks"], "", ["id", "path", "gen", "ordinal", "text"])
        shown = [r for r in rows if r["path"] in files and files[r["path"]]["gen"] == r["gen"]]
        chunks = {(r["path"], r["ordinal"]): r["text"] for r in shown}
        assert len(chunks) == len(shown), "a passage is there twice"
        for path, row in files.items():
            ordinals = sorted(o for p, o in chunks if p == path)
            assert ordinals == list(range(row["record"]["chunks"] if row["status"] == "indexed" else 0)), path
        if quiet:
            assert len(rows) == len(shown), "rows of an unfinished batch are left"
            assert not [k for k in index.manifest() if k.startswith("pending.")]
        return chunks
    finally:
        index.close()


def test_kill_9_at_random_moments_never_shows_a_half_written_note_and_the_next_ingest_finishes(
        tmp_path, milvus, minilm):
    notes, shelves, rng = tmp_path / "notes", 45, random.Random(28)
    write_shelves(notes, shelves, version=0)
    config = settings_dict(tmp_path, notes, milvus, "crash")
    settings = make_settings(tmp_path, notes, **{k: v for k, v in config.items() if k != "notes_dir"})
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "RAGQA_EMBEDDING__MODEL": "all-MiniLM-L6-v2", "RAGQA_LLM__PROVIDER": "none",
           "RAGQA_EMBEDDING__CACHE_DIR": str(tmp_path / "cache"), "RAGQA_CHUNKING__CHUNK_TOKENS": "48",
           "RAGQA_CHUNKING__OVERLAP_TOKENS": "8", "RAGQA_STORE__BACKEND": "milvus",
           "RAGQA_STORE__MILVUS_HOLDS": "everything", "RAGQA_STORE__MILVUS_URI": milvus,
           "RAGQA_STORE__MILVUS_COLLECTION": "crash"}
    env.pop("RAGQA_CONFIG", None)
    started = []

    def start(rebuild: bool) -> forked_cli.ForkedCli:
        args = ["ingest", str(notes), "--index", str(settings.index_path)] + (["--rebuild"] if rebuild else [])
        started.append(forked_cli.start(args, tmp_path, env, tmp_path / f"ingest-{len(started) + 1}.log"))
        return started[-1]

    def writing(proc) -> None:
        lock = settings.index_path / LOCK_NAME
        while proc.poll() is None:
            try:
                if lock.read_text() == f"pid {proc.pid}":
                    return
            except OSError:
                pass
            time.sleep(0.01)

    begun = time.monotonic()
    first = start(rebuild=False)
    writing(first)
    assert first.wait(timeout=600) == 0, first.log.read_text()
    full = time.monotonic() - begun
    with write_lock(settings.index_path):
        clean = visible_chunks(settings, quiet=True)
    assert len(clean) > 150
    kills, took = 0, {True: full, False: full / 3}  # how long a rebuild and an incremental run take
    while kills < KILLS:
        rebuild = rng.random() < 0.5
        proc = start(rebuild=rebuild)
        writing(proc)
        time.sleep(rng.uniform(0, 0.9 * took[rebuild]))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        else:  # it ended before its kill time: aim earlier next time
            took[rebuild] *= 0.7
        assert proc.wait(timeout=600) in (0, -signal.SIGKILL), proc.log.read_text()
        with write_lock(settings.index_path):
            visible_chunks(settings, quiet=False)
            for shelf in rng.sample(range(shelves), 8):  # work for the next run: edits and deletions
                path = notes / "shelf" / f"s{shelf:02d}" / "note.md"
                if rng.random() < 0.2:
                    path.unlink(missing_ok=True)
                else:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(note_text(shelf, rng.randrange(1, 999)), encoding="utf-8")
    write_shelves(notes, shelves, version=0)
    final = start(rebuild=False)
    assert final.wait(timeout=600) == 0, final.log.read_text()
    with write_lock(settings.index_path):
        assert visible_chunks(settings, quiet=True) == clean
    hits = Searcher(settings, minilm).search("shelf 7 part 2", k=3)
    assert hits and versions(h.chunk.text for h in hits) == {"000"}
    print(f"\n{kills} kills, {len(started)} ingests, a full ingest {full:.1f} s, {len(clean)} passages, "
          f"{time.monotonic() - begun:.0f} s in all")
