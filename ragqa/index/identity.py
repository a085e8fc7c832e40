"""What makes stored vectors comparable: the index's identity, as recorded in its manifest."""
from __future__ import annotations

from pathlib import Path

from ragqa.store_locations import locate


def index_identity(settings, embedder, index_dir: Path | None = None) -> dict:
    """Everything that makes stored vectors comparable; ingest rebuilds when it changes,
    and search refuses to run against an index built differently. `index_dir`: the index folder
    really used (`--index`), when it is not the configured one."""
    return {**embedder.identity(), "chunk_tokens": settings.chunking.chunk_tokens,
            "overlap_tokens": settings.chunking.overlap_tokens, "chunker": 1,
            "backend": backend_of(settings, index_dir)}


def backend_of(settings, index_dir: Path | None = None) -> dict:
    """The vector backend as recorded in the manifest (never a secret: tokens stay in env vars).
    A Milvus Lite file is relative to the index folder it belongs to, so two index folders never share one."""
    store = settings.store
    locate(Path(index_dir or settings.index_path), store, settings.collection_name)  # e.g. `--index DIR`
    if store.backend == "faiss":
        return {"name": "faiss"}
    uri = store.milvus_uri
    if "://" not in uri:
        uri = str((Path(index_dir or settings.index_path) / uri).resolve())
    found = {"name": "milvus", "uri": uri, "collection": store.milvus_collection, "token_env": store.milvus_token_env}
    if store.milvus_holds == "everything":  # (left out otherwise, so an index of the vectors alone stays as it was)
        found["holds"] = "everything"
    return found


def mismatch(manifest: dict, identity: dict) -> str | None:
    """Describe how an index differs from what the config asks for, or None."""
    for key, wanted in identity.items():
        have = manifest.get(key)
        if have != wanted:
            return f"{key} is {have!r} in the index but {wanted!r} in the config"
    return None
