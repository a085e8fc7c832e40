"""ragqa's own endpoints. Each returns exactly what the CLI's `--json` prints, made by the same function."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ragqa.api.app import Served, served
from ragqa.api.date_filters import DateFilters
from ragqa.api.errors import APIError
from ragqa.contracts import related_json, search_json, status_json
from ragqa.errors import RagqaError
from ragqa.filetypes import KINDS
from ragqa.retrieve.search import Filters

router = APIRouter(tags=["ragqa"])


def checked_folders(folders: list[str]) -> list[str]:
    """Folder filters as paths inside the notes folder (ragqa.note_paths): '..', '/etc' and the like are 400."""
    from ragqa.note_paths import relative_note_path

    try:
        return [relative_note_path(f, "a folder of the notes") for f in folders]
    except RagqaError as err:
        raise ValueError(str(err)) from None


def _as_list(value):
    """A filter given once or as a list.

    >>> _as_list("recipes"), _as_list(["a", "b"])
    (['recipes'], ['a', 'b'])
    """
    return [value] if isinstance(value, str) else value


class SearchRequest(DateFilters):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1)
    k: int | None = Field(None, ge=1, le=200, description="how many results (default search.top_k)")
    mode: Literal["dense", "bm25", "hybrid"] | None = None
    folder: list[str] = Field(default_factory=list, description="only notes under this folder (or these)")
    tag: list[str] = Field(default_factory=list, description="only notes with this tag, or one nested under it")
    type: list[str] = Field(default_factory=list, description=f"only these kinds of file: {', '.join(KINDS)}")
    collections: list[str] = Field(default_factory=list,
                                   description="search these collections (or 'all'); default: 'default' if "
                                               "there is one, else all")

    @field_validator("folder", "tag", "type", "collections", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return _as_list(value)

    @field_validator("folder")
    @classmethod
    def _folders_inside(cls, folders):
        return checked_folders(folders)

    @field_validator("type")
    @classmethod
    def _known_kinds(cls, kinds):
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise ValueError(f"unknown type {unknown[0]!r}: choose from {', '.join(KINDS)}")
        return kinds


@router.post("/v1/search")
def search(body: SearchRequest, served: Served = Depends(served)) -> list[dict]:
    """The passages that best match the query: `ragqa search --json`."""
    filters = Filters(folders=body.folder, tags=body.tag, kinds=body.type, **body.date_ranges())
    names = body.collections or served.default_names
    if names == ["all"]:
        names = list(served.collections)
    unknown = [n for n in names if n not in served.collections]
    if unknown:
        raise APIError(400, f"no collection named {unknown[0]!r}: this server has "
                            f"{', '.join(served.collections)} (or 'all')", "unknown_collection")
    return search_json(served.searcher(list(dict.fromkeys(names))), body.query, k=body.k, mode=body.mode,
                       filters=filters)


@router.get("/v1/status")
def status(served: Served = Depends(served)) -> dict:
    """What the index holds: `ragqa status --json`."""
    return status_json(served.settings.index_path, served.settings)


class IngestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wait: float = Field(0.0, ge=0, le=3600, description="seconds to wait for a running ingest; then 409")


@router.post("/v1/ingest")
def ingest(body: IngestRequest | None = Body(None), served: Served = Depends(served)) -> dict:
    """Bring the index in step with the notes folder (incremental): `ragqa ingest --json`.
    409 if another ingest still holds the index after `wait` seconds."""
    if served.ingest is None:
        raise APIError(501, "this server was started without the write path: run `ragqa serve` to ingest",
                       "not_implemented")
    wait = body.wait if body else 0.0
    return served.ingest(served.settings, served.embedder, lock_wait=wait).summary()


@router.get("/v1/related")
def related(path: str = Query(description="a note, relative to the notes folder, as `ragqa search` shows it"),
            k: int = Query(10, ge=1, le=1000), served: Served = Depends(served)) -> list[dict]:
    """The notes most similar to a note: `ragqa related --json`. Looked up in the index only: 400 for a path
    that is not a note's (absolute, '..'), 404 for a note not in the index."""
    return related_json(served.settings, served.settings.index_path, path, k=k, index_only=True)[1]
