"""Which store holds the index of an index folder: SQLite in the folder (the default), or all of it in Milvus.

The index folder names an index everywhere in ragqa (`read_snapshot(index_dir)`, `read_catalog(index_dir)`,
`IndexReader`…). With `store.milvus_holds: everything` the index lives in Milvus instead, and the folder keeps
only what belongs to this machine (the write lock, saved chats, caches). Settings say which: each time a
Settings' `index_path` is taken (ragqa.config), the folder is located here, so whoever reads that folder later in
the process finds the right store from the folder alone (ragqa.index.stores.open_store).

    locate(Path("/idx"), settings.store, "default")
    milvus_location(Path("/idx"))   # MilvusLocation(uri=..., prefix="ragqa_chunks", ...) or None
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MilvusLocation:
    """Where an all-Milvus index lives: a Milvus (`uri`, a Lite folder `*.db` or `http://HOST:PORT`) and the
    prefix of its three collections (`<prefix>` chunks, `<prefix>_files`, `<prefix>_manifest`)."""

    uri: str
    prefix: str
    token_env: str | None = None

    @property
    def is_lite_file(self) -> bool:
        return "://" not in self.uri


_WHERE: dict[str, MilvusLocation] = {}


def _key(folder: Path) -> str:
    return os.path.abspath(os.path.expanduser(str(folder)))


def collection_prefix(base: str, collection: str) -> str:
    """The collections' prefix for one of ragqa's collections: the configured name, with the collection's name
    after it unless it is the default one (Milvus names allow letters, digits and '_').

    >>> collection_prefix("ragqa_chunks", "default"), collection_prefix("ragqa_chunks", "work-notes")
    ('ragqa_chunks', 'ragqa_chunks_work_notes')
    """
    name = base if collection in ("", "default") else f"{base}_{collection}"
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def locate(folder: Path, store, collection: str = "default") -> None:
    """Record which store `folder`'s index is in, from the `store` settings (ragqa.config_sections.StoreSettings)."""
    key = _key(folder)
    if store.backend == "milvus" and store.milvus_holds == "everything":
        uri = store.milvus_uri if "://" in store.milvus_uri else str(Path(key) / store.milvus_uri)
        prefix = collection_prefix(store.milvus_collection, collection)
        _WHERE[key] = MilvusLocation(uri, prefix, store.milvus_token_env)
    else:
        _WHERE.pop(key, None)


def milvus_location(folder: Path) -> MilvusLocation | None:
    """The Milvus that holds `folder`'s index, or None when the index is SQLite in the folder."""
    return _WHERE.get(_key(folder))
