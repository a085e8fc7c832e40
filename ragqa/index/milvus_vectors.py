"""The Milvus vector store: one collection keyed by chunk id, in Milvus Lite or on a Milvus server.

Same contract as FaissVectors: SQLite holds the truth, the collection mirrors its
vectors (int64 primary key = chunk id, inner product on normalised vectors, exact
FLAT index) and `save` records the generation it matches in the collection's
properties, so `load` tells a collection in step with SQLite from a stale one.

`milvus_uri` ending in `.db` is Milvus Lite: a folder beside index.sqlite, served
inside this process. Only ONE process at a time may hold it (the app, or an
ingest, or a search), a second one gets IndexBusyError. `http://HOST:19530` is a
Milvus server, same code, any number of processes.

Unlike a FAISS file, a collection is shared by every process that opens it
(`shared = True`), so ragqa.index.vectors only rebuilds it under the write lock.
"""
from __future__ import annotations

import fcntl
import logging
import threading
from contextlib import contextmanager, nullcontext
from functools import cache
from pathlib import Path

import numpy as np

from ragqa.errors import ConfigError, IndexBusyError, RagqaError
from ragqa.secrets import secret


class MilvusMissingError(RagqaError, ImportError):
    """pymilvus (with Milvus Lite) is not installed."""


try:
    from pymilvus import DataType, MilvusClient
    from pymilvus.exceptions import MilvusException
    from threadpoolctl import ThreadpoolController
except ImportError:
    raise MilvusMissingError(
        "store.backend: milvus needs pymilvus and Milvus Lite: pip install -c constraints.txt -e '.[milvus]' "
        "in the ragqa folder, or set store.backend: faiss"
    ) from None

INDEX = {"index_type": "FLAT", "metric_type": "IP"}  # exact, like FaissVectors, so both rank alike
GENERATION, OWNER = "ragqa.generation", "ragqa.index"  # collection properties written by save()
BATCH = 5_000  # rows per insert: 384-d float32 is ~8 MB of gRPC, far below its 64 MB cap
FILTER_IDS = 10_000  # ids per `id in [...]` expression; longer allow-lists are searched in parts
MAX_K = 16_384  # Milvus's largest limit (topk)
# pymilvus pings every 10 s even when idle; Milvus Lite's gRPC server allows that only every 5 min and
# answers GOAWAY "too_many_pings" (logged to stderr). In-process, keepalive is useless: turn it off.
_LITE_GRPC = {"grpc.keepalive_time_ms": 2**31 - 1, "grpc.keepalive_permit_without_calls": 0}
# A server: `python -m milvus_lite server` has the same 5-minute rule (an idle reader waiting for an ingest was cut
# off, then failed to reconnect); a Milvus standalone or cluster is content with pings that far apart too.
_SERVER_GRPC = {"grpc.keepalive_time_ms": 310_000, "grpc.keepalive_permit_without_calls": 0}
_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


def _resolve(folder: Path, uri: str) -> str:
    return uri if "://" in uri else str(Path(folder) / uri)  # a relative Lite file lives in the index folder


def connect(uri: str, token_env: str | None = None) -> MilvusClient:
    """A client for Milvus Lite (`*.db`) or a server (`http://HOST:19530`); errors say what to do."""
    lite = "://" not in uri
    if lite and not uri.endswith(".db"):
        raise ConfigError(f"store.milvus_uri {uri!r} must be a file ending in .db (Milvus Lite) or http://HOST:19530")
    token = ""
    if token_env:
        found = secret(token_env)
        if found is None:
            raise ConfigError(f"store.milvus_token_env names {token_env}, which is not set: export {token_env}=<token>")
        token = found.get_secret_value()
    if lite:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        with _quiet("milvus_lite.server_manager"):  # it logs a traceback before pymilvus raises
            return MilvusClient(uri=uri, token=token, timeout=10, grpc_options=_LITE_GRPC if lite else _SERVER_GRPC)
    except MilvusException as err:
        if lite and _held_elsewhere(Path(uri)):
            raise IndexBusyError(
                f"{uri} is open in another process (Milvus Lite allows one at a time): stop the other ragqa "
                f"(app, ingest or search) and retry, or use a Milvus server (docs/SCALING.md)"
            ) from None
        raise ConfigError(
            f"cannot open Milvus at {uri}: {err.message}; check store.milvus_uri and that it is running"
        ) from None


@contextmanager
def _quiet(logger_name: str):
    logger = logging.getLogger(logger_name)
    was, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = was


_BLAS_LIMIT = threading.Lock()


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


@contextmanager
def _one_blas_thread():
    """Milvus Lite searches with numpy's BLAS in a thread of this process. Left at 2 threads, a BLAS
    thread spins on after each search and slows the next query embedding 1.5-2x (MiniLM on 2 cores:
    126-173 ms CPU instead of ~80). One thread is as fast for one query vector (as FaissVectors does with
    OpenMP). The limit is process-wide, so searches take turns: two overlapping ones could otherwise
    restore each other's limit and leave BLAS at one thread for good."""
    with _BLAS_LIMIT, _blas().limit(limits=1, user_api="blas"):
        yield


def _held_elsewhere(data_dir: Path) -> bool:
    """True when another process holds Milvus Lite's lock on this folder (we failed to open it)."""
    try:
        with open(data_dir / "LOCK", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False  # closing the handle released our probe


class MilvusVectors:
    """VectorStore backed by a Milvus collection; the generation is a collection property."""

    name = "milvus"
    shared = True  # one collection for every process: rebuilt only under the index's write lock

    def __init__(self, folder: Path, dim: int, uri: str = "milvus.db", collection: str = "ragqa_chunks",
                 token_env: str | None = None, _client: MilvusClient | None = None):
        """A new, empty collection (dropping a stale one), unless `_client` attaches to an existing one."""
        self.folder, self.dim, self.collection = Path(folder), dim, collection
        self.uri = _resolve(self.folder, uri)
        self.client = _client or connect(self.uri, token_env)
        self._searching = _one_blas_thread if "://" not in self.uri else nullcontext  # Lite runs in-process
        if _client is None:
            self._recreate()

    @classmethod
    def load(cls, folder: Path, dim: int, generation: int | None, uri: str = "milvus.db",
             collection: str = "ragqa_chunks", token_env: str | None = None) -> MilvusVectors | None:
        """The collection if it holds exactly this generation of this index (any generation if None), else None."""
        client = connect(_resolve(Path(folder), uri), token_env)
        if not client.has_collection(collection):
            return None
        info = client.describe_collection(collection)
        props = info.get("properties") or {}
        dims = [f.get("params", {}).get("dim") for f in info["fields"] if f["name"] == "vector"]
        if dims != [dim] or props.get(OWNER, str(Path(folder).resolve())) != str(Path(folder).resolve()):
            return None
        if generation is not None and props.get(GENERATION) != str(generation):
            return None
        client.load_collection(collection)
        return cls(folder, dim, uri, collection, token_env, _client=client)

    def _recreate(self) -> None:
        if self.client.has_collection(self.collection):
            self.client.drop_collection(self.collection)
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)  # the SQLite chunk id
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        index = self.client.prepare_index_params()
        index.add_index("vector", **INDEX)
        # Strong: a search right after an insert sees it (a server's default, Bounded, may not).
        self.client.create_collection(self.collection, schema=schema, consistency_level="Strong")
        # An empty collection's index has nothing to build: sync=False skips pymilvus's fixed 0.5 s wait for it.
        self.client.create_index(self.collection, index, sync=False)
        self.client.load_collection(self.collection)

    def count(self) -> int:
        rows = self.client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def ids(self) -> np.ndarray:
        """Every id in the collection, ascending."""
        found: list[int] = []
        with _quiet("pymilvus.client.iterator.query_iterator"):  # Milvus Lite: "failed to get mvccTs", harmless
            iterator = self.client.query_iterator(self.collection, batch_size=MAX_K, filter="", output_fields=["id"])
            while batch := iterator.next():
                found.extend(row["id"] for row in batch)
            iterator.close()
        return np.sort(np.asarray(found, dtype=np.int64))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        for start in range(0, len(ids), BATCH):
            rows = [{"id": int(i), "vector": v}
                    for i, v in zip(ids[start:start + BATCH], vectors[start:start + BATCH], strict=True)]
            self.client.insert(self.collection, rows)

    def remove(self, ids: np.ndarray) -> None:
        numbers = [int(i) for i in ids]
        for start in range(0, len(numbers), FILTER_IDS):
            self.client.delete(self.collection, ids=numbers[start:start + FILTER_IDS])

    def search(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None):
        """Top-k (ids, scores) by inner product; `allowed_ids` restricts the search (filters)."""
        if k <= 0 or (allowed_ids is not None and len(allowed_ids) == 0):
            return _EMPTY
        queries = [np.asarray(query, dtype=np.float32).reshape(-1)]
        k = min(k, MAX_K)
        filters = [""] if allowed_ids is None else [
            f"id in [{','.join(str(int(i)) for i in allowed_ids[s:s + FILTER_IDS])}]"
            for s in range(0, len(allowed_ids), FILTER_IDS)
        ]
        hits: list[tuple[int, float]] = []
        for expression in filters:  # each part's top-k, merged: still the exact top-k of the whole list
            with self._searching():
                (found,) = self.client.search(self.collection, queries, limit=k, filter=expression,
                                              output_fields=["id"], search_params={"metric_type": "IP"})
            hits.extend((hit["id"], hit["distance"]) for hit in found)
        if not hits:
            return _EMPTY
        hits.sort(key=lambda h: -h[1])
        hits = hits[:k]
        return np.asarray([h[0] for h in hits], dtype=np.int64), np.asarray([h[1] for h in hits], dtype=np.float32)

    def save(self, generation: int) -> None:
        """Make the rows durable, then stamp the generation (a crash in between leaves the old stamp)."""
        self.client.flush(self.collection)
        self.client.alter_collection_properties(
            self.collection, properties={GENERATION: str(generation), OWNER: str(self.folder.resolve())})

    def detach(self) -> None:
        """Close this store's client (e.g. when the IndexReader that opened it closes). pymilvus shares one
        connection per address between clients, and the process's other stores keep it and the Lite server."""
        self.client.close()

    def close(self) -> None:
        """Hand a Milvus Lite file over to another process (every store of this process on it stops working)."""
        self.client.close()
        if "://" not in self.uri:
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(self.uri)

    def is_saved(self, generation: int) -> bool:
        props = self.client.describe_collection(self.collection).get("properties") or {}
        return props.get(GENERATION) == str(generation)
