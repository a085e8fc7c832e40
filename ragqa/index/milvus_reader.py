"""IndexReader's interface over an all-Milvus index: dense, BM25 and hybrid search inside Milvus, filters as
Milvus expressions, and only committed versions of files (ragqa.index.milvus_state.visible).

Search asks for a few more rows than wanted and drops those of files being written; should that leave too few,
it asks again for more, so the k best visible passages always come back. Hybrid search is Milvus's own
`hybrid_search`: dense and BM25 requests `depth` deep, fused by reciprocal rank at ragqa's `search.rrf_k`.
"""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ragqa.errors import IndexMismatchError
from ragqa.index.identity import mismatch
from ragqa.index.milvus_filters import Selection, both, expression
from ragqa.index.milvus_layout import CHUNK_FIELDS, chunk_from_row
from ragqa.index.milvus_state import MilvusIndex, said
from ragqa.index.milvus_terms import query_text
from ragqa.index.milvus_vectors import MAX_K
from ragqa.index.schema import FileRecord
from ragqa.records import Chunk, Hit

SLACK = 32  # rows asked for beyond k: a batch being written rarely shows more in a top list


class MilvusReader:
    """A read-only view of an all-Milvus index, for search."""

    def __init__(self, folder: Path, location, identity: dict | None = None):
        self.folder = Path(folder)
        self.index = MilvusIndex(folder, location)
        self.manifest = self.index.require()
        problem = mismatch(self.manifest, identity) if identity else None
        if problem:
            self.index.close()
            raise IndexMismatchError(f"the index in Milvus at {location.uri} does not match the config ({problem}); "
                                     "re-ingest with `ragqa ingest --rebuild`")
        self.generation = int(self.manifest.get("generation", 0))
        self.has_notes = True
        self.chunks_name = self.index.names["chunks"]

    def is_stale(self) -> bool:
        return self.index.manifest(["generation"]).get("generation", self.generation) != self.generation

    def chunks(self, ids) -> dict[int, Chunk]:
        return {row["id"]: chunk_from_row(row) for row in self.index.chunk_rows(ids, CHUNK_FIELDS)}

    def stored_vectors(self, ids: list[int]) -> np.ndarray:
        rows = {row["id"]: row["dense"] for row in self.index.chunk_rows(ids, ["dense"])}
        dim = int(self.manifest.get("dim") or 1)
        return np.vstack([np.asarray(rows[i], np.float32) if i in rows else np.zeros(dim, np.float32)
                          for i in map(int, ids)])

    def ids_matching(self, **conditions) -> Selection:
        return Selection(expression(**conditions))

    def dense(self, query_vector: np.ndarray, k: int, allowed: Selection | None = None) -> list[tuple[int, float]]:
        vector = [float(x) for x in np.asarray(query_vector, np.float32).reshape(-1)]
        return self._top(k, lambda limit: self._search(vector, "dense", "IP", limit, allowed))

    def bm25(self, terms: list[str], k: int, allowed: Selection | None = None) -> list[tuple[int, float]]:
        text = query_text(terms)
        if text is None:
            return []
        return self._top(k, lambda limit: self._search(text, "sparse", "BM25", limit, allowed))

    def hybrid(self, terms: list[str], query_vector: np.ndarray, k: int, depth: int, rrf_k: int,
               allowed: Selection | None = None) -> list[tuple[int, float]]:
        """Dense and BM25 fused by reciprocal rank inside Milvus (`hybrid_search` with RRFRanker(rrf_k))."""
        from pymilvus import AnnSearchRequest, RRFRanker

        text = query_text(terms)
        if text is None:  # no word to match: the dense ranking alone, scored as the fusion scores it
            return [(i, 1.0 / (rrf_k + rank)) for rank, (i, _) in enumerate(self.dense(query_vector, k, allowed), 1)]
        vector = [float(x) for x in np.asarray(query_vector, np.float32).reshape(-1)]
        where = _where(allowed)

        def search(limit: int) -> list[dict]:
            requests = [AnnSearchRequest([vector], "dense", {"metric_type": "IP"}, max(depth, limit), expr=where),
                        AnnSearchRequest([text], "sparse", {"metric_type": "BM25"}, max(depth, limit), expr=where)]
            with said(self.index.location):
                (found,) = self.index.client.hybrid_search(self.chunks_name, requests, RRFRanker(rrf_k), limit=limit,
                                                           output_fields=["path", "gen"])
            return found
        return self._top(k, search)

    def _search(self, data, field: str, metric: str, limit: int, allowed: Selection | None) -> list[dict]:
        with said(self.index.location):
            (found,) = self.index.client.search(self.chunks_name, [data], anns_field=field, limit=limit,
                                                filter=_where(allowed), output_fields=["path", "gen"],
                                                search_params={"metric_type": metric})
        return found

    def _top(self, k: int, search) -> list[tuple[int, float]]:
        """The k best visible (id, score), asking for more rows while those of files being written crowd them out.
        Scores are made "higher is better" (Milvus Lite gives BM25 as a negative distance)."""
        if k <= 0:
            return []
        limit = min(k + SLACK, MAX_K)
        while True:
            found = search(limit)
            rows = [{"id": hit["id"], "score": hit["distance"], **hit["entity"]} for hit in found]
            shown = self.index.visible(rows)
            if len(shown) >= k or len(found) < limit or limit >= MAX_K:
                return [(int(r["id"]), abs(float(r["score"]))) for r in shown[:k]]
            limit = min(limit * 4, MAX_K)

    def hits(self, scored: list[tuple[int, float]]) -> list[Hit]:
        rows = self.chunks(i for i, _ in scored)
        return [Hit(i, s, rows[i]) for i, s in scored if i in rows]

    def files(self) -> list[FileRecord]:
        return sorted(self.index.records().values(), key=lambda r: r.path)

    def stats(self) -> dict:
        records = [r for r in self.index.records().values() if r.status == "indexed"]
        types: dict[str, int] = {}
        for record in records:
            types[record.kind] = types.get(record.kind, 0) + 1
        last = self.index.manifest(["last_ingest"]).get("last_ingest") or {}
        when = datetime.fromtimestamp(last["at"], UTC).isoformat(timespec="seconds") if "at" in last else None
        lite = Path(self.index.location.uri)
        size = sum(p.stat().st_size for p in lite.rglob("*") if p.is_file()) if self.index.location.is_lite_file \
            and lite.is_dir() else 0
        return {"files": len(records), "types": dict(sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))),
                "chunks": sum(r.chunks for r in records), "model": self.manifest.get("model"),
                "dim": self.manifest.get("dim"), "bytes": size, "last_ingest": when,
                "notes_dir": last.get("notes_dir")}

    def close(self) -> None:
        self.index.close()


def _where(allowed: Selection | None) -> str:
    return both(allowed.expression if allowed is not None else "")
