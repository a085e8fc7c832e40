"""`ingest.engine: ray`: the changed files read and chunked as Ray tasks, embedded by a pool of Ray actors that
each hold the model once, and committed to the store by this process as the batches come back.

    ragqa ingest --engine ray                          # a Ray started on this machine for this ingest
    ragqa ingest --engine ray --ray-address HOST:6379  # a running cluster (or "auto", or ray://HOST:10001)

What stays as in the local engine: the scan, the hashes and the incremental plan (ragqa.ingest.pipeline); each file's
reading and chunking (ragqa.ingest.pipeline.prepare_file, with the embedding model's own length check); the writer and
its per-file crash safety (a batch is committed as one apply, exactly as locally). So the same files give the same
chunks and, on an all-Milvus store, the same chunk ids; vectors agree to float rounding (batches differ).
Every node must see the notes folder at the same path (a shared or synced folder) and have ragqa installed.
"""
from __future__ import annotations

import logging
import os

from ragqa.errors import ConfigError

try:
    import ray
    from ray.util import ActorPool
except ImportError:
    raise ConfigError("ingest.engine: ray needs Ray: pip install -c constraints.txt -e '.[ray]' in the ragqa folder, "
                      "or use the local engine (ingest.engine: local, no --engine ray)") from None

BATCH_CHUNKS = 256  # chunks per embedding call and per commit, as in the local engine
IN_FLIGHT = 64  # files being read at once


def connect(address: str | None) -> bool:
    """Join the cluster at `address`, or start a Ray on this machine; True when this call started it."""
    if ray.is_initialized():
        return False
    # A Ray this call starts runs its workers at the ingest's own priority (Ray's default is nice 15: on a busy
    # machine the embedding actors then wait behind everything else).
    os.environ.setdefault("RAY_worker_niceness", "0")
    ray.init(address=address or None, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False,
             ignore_reinit_error=True)
    return True


_MODELS: dict = {}  # per worker process: the embedder whose tokenizer checks each passage's length


def _model(embedding: dict):
    from ragqa.config_sections import EmbeddingSettings
    from ragqa.models.embedder import load_embedder

    key = repr(sorted(embedding.items()))
    if key not in _MODELS:
        _MODELS[key] = load_embedder(EmbeddingSettings(**embedding))
    return _MODELS[key]


_READERS: dict = {}  # per worker process: the isolated document reader (a child process), started on first use


def _prepare(item, sha: str, settings_json: str):
    """A Ray task: ragqa.ingest.pipeline.prepare_file on a worker."""
    from ragqa.config import Settings
    from ragqa.ingest.loaders import read_options
    from ragqa.ingest.pipeline import prepare_file
    from ragqa.ingest.worker import DocumentWorker

    settings = Settings.model_validate_json(settings_json)
    key = (settings.pdf.timeout_seconds, repr(read_options(settings)))
    if key not in _READERS:
        _READERS[key] = DocumentWorker(settings.pdf.timeout_seconds, read_options(settings))
    fits = _model(settings.embedding.model_dump()).fits
    return prepare_file(item, sha, settings, fits, _READERS[key])


class _Embedder:
    """A Ray actor: one model, loaded once; `embed` a batch of passages."""

    def __init__(self, embedding: dict, threads: int):
        import torch

        torch.set_num_threads(max(1, threads))
        self.model = _model(embedding)

    def embed(self, batch_id: int, texts: list[str]):
        return batch_id, self.model.embed_passages(texts)


def load_and_commit_on_ray(to_load, known, settings, embedder, writer, report, progress) -> None:
    """The local engine's _load_and_commit, spread over Ray (see the module's docstring)."""
    from ragqa.ingest.pipeline import commit_embedded

    if not to_load:
        return
    options = settings.ingest
    started = connect(options.ray_address)
    actors = []
    try:
        spare = ray.cluster_resources().get("CPU", 0) - options.ray_actors * options.ray_cpus_per_actor
        if spare < 1:
            raise ConfigError(f"ingest.ray_actors x ingest.ray_cpus_per_actor leaves {max(spare, 0):g} of the "
                              f"cluster's CPUs for reading files (at least 1 is needed): lower them")
        prepare = ray.remote(num_cpus=1)(_prepare)
        actor_class = ray.remote(num_cpus=options.ray_cpus_per_actor, num_gpus=options.ray_gpus_per_actor)(_Embedder)
        actors = [actor_class.remote(settings.embedding.model_dump(), int(options.ray_cpus_per_actor))
                  for _ in range(options.ray_actors)]
        pool = ActorPool(actors)
        settings_json = settings.model_dump_json()
        waiting = list(to_load)
        reading = [prepare.remote(item, sha, settings_json) for item, sha in waiting[:IN_FLIGHT]]
        waiting = waiting[IN_FLIGHT:]
        batches: dict[int, list] = {}
        batch: list = []
        done = [0]

        def send(files: list) -> None:
            batches[len(batches)] = files
            texts = [c.embed_text for _, chunks in files for c in chunks]
            pool.submit(lambda actor, job: actor.embed.remote(*job), (len(batches) - 1, texts))

        def commit(block: bool) -> None:
            while pool.has_next():
                try:
                    batch_id, vectors = pool.get_next_unordered(timeout=None if block else 0)
                except TimeoutError:
                    return
                files = batches.pop(batch_id)
                done[0] += commit_embedded(files, vectors, known, writer, report)
                if progress:
                    progress(done[0], len(to_load), report.chunks)

        while reading:
            ready, reading = ray.wait(reading, num_returns=1)
            record, chunks, warnings = ray.get(ready[0])
            if waiting:
                item, sha = waiting.pop(0)
                reading.append(prepare.remote(item, sha, settings_json))
            report.warnings.extend({"path": record.path, "warning": w} for w in warnings)
            batch.append((record, chunks))
            if sum(len(c) for _, c in batch) >= BATCH_CHUNKS:
                send(batch)
                batch = []
            commit(block=False)
        if batch:
            send(batch)
        commit(block=True)
    finally:
        for actor in actors:
            ray.kill(actor)
        if started:
            ray.shutdown()
