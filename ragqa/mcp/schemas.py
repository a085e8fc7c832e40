"""What each tool takes: one pydantic model per tool, whose JSON schema is the tool's input schema. The field
descriptions are written for the model that calls the tool."""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ragqa.api.date_filters import DateFilters
from ragqa.filetypes import KINDS

COLLECTION = ("which collection to use (list_collections names them), or 'all'; default: the default collection "
              "('default' if there is one, else every one)")
NOTE_PATH = ("the note's path relative to its notes folder, exactly as search_notes returns it "
             "(e.g. 'garden/tomatoes.md'); a ragqa:// resource URI works too")

if TYPE_CHECKING:
    Kind = str
else:  # built from the one table of kinds at run time (a type checker cannot follow that): the schema's enum
    Kind = Literal[tuple(KINDS)]


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchArgs(Args, DateFilters):  # and created_after/_before, modified_after/_before, as the HTTP API takes
    query: str = Field(min_length=1, max_length=2000,
                       description="what to look for, in words: a question or a few keywords")
    k: int = Field(5, ge=1, le=50, description="how many passages to return, best first")
    collection: str | None = Field(None, description=COLLECTION)
    folder: str | None = Field(None, description="only notes under this folder of the notes folder, e.g. 'recipes'")
    tag: str | None = Field(None, description="only notes with this tag (front matter or inline #tag); a tag also "
                                              "finds its nested tags ('math' finds 'math/LinearAlgebra')")
    type: Kind | None = Field(None, description="only files of this kind")


class AskArgs(Args):
    question: str = Field(min_length=1, max_length=2000, description="the question, as the user would ask it")
    collection: str | None = Field(None, description=COLLECTION)


class ReadArgs(Args):
    path: str = Field(min_length=1, max_length=1100, description=NOTE_PATH)
    collection: str | None = Field(None, description="the collection the note is in (search_notes gives it); "
                                                     "default: the first collection that has the path")
    page: int | None = Field(None, ge=1, description="for a PDF or another paged document: only this page")


class RelatedArgs(Args):
    path: str = Field(min_length=1, max_length=1100, description=NOTE_PATH)
    k: int = Field(10, ge=1, le=100, description="how many related notes, best first")
    collection: str | None = Field(None, description="the collection the note is in; default: the first that has it")


class NoArgs(Args):
    pass


class IngestArgs(Args):
    collection: str | None = Field(None, description="which collection to bring up to date; default: the default one")
    wait: float = Field(0.0, ge=0, le=600, description="seconds to wait if another ingest is running")


def input_schema(model: type[Args]) -> dict:
    """The model's JSON schema, without pydantic's titles (noise to the model that reads it)."""
    schema = model.model_json_schema()
    schema.pop("title", None)
    for field in schema.get("properties", {}).values():
        field.pop("title", None)
    return schema


def problem_line(err: ValidationError) -> str:
    """The first problem with the arguments, on one line: "bad arguments: k: Input should be less than or equal
    to 50"."""
    first = err.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"bad arguments: {where + ': ' if where else ''}{first.get('msg', 'invalid')}"
