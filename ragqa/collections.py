"""Collections: several notes folders, each with its own index, used one at a time or together.

config.yaml's `collections:` maps a short name to `{notes_dir, include?, exclude?, index_dir?, embedding_model?}`.
The top-level `notes_dir` is the collection named "default" when there are no collections, or when config.yaml
(or RAGQA_NOTES_DIR) sets it; its index stays at `index_dir` itself, so an index made before collections existed
is read as it is, without a re-ingest. Every other collection's index is `<index_dir>/<name>` unless it sets its
own `index_dir`. Each collection is handed to the rest of ragqa as an ordinary `Settings` with its own folder,
index and model, so everything that works on one folder works on one collection unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragqa.config import Settings
from ragqa.errors import ConfigError
from ragqa.index.schema import is_index

DEFAULT = "default"
ALL = "all"
COLLECTION_VARIABLE = "RAGQA_APP_COLLECTION"  # which collection the browser app (and `ragqa serve`) opens


@dataclass(frozen=True)
class Collection:
    name: str
    settings: Settings  # this collection's notes folder, index folder, include/exclude and embedding model


def collections(settings: Settings) -> dict[str, Collection]:
    """Every configured collection by name, "default" first when there is one."""
    found: dict[str, Collection] = {}
    if not settings.collections or ("notes_dir" in settings.model_fields_set and DEFAULT not in settings.collections):
        found[DEFAULT] = Collection(DEFAULT, settings.as_collection(DEFAULT, collections={}))
    for name, own in settings.collections.items():
        update: dict[str, Any] = {
            "notes_dir": own.notes_dir,
            "index_dir": own.index_dir or str(settings.index_path / name),
            "include": settings.include if own.include is None else own.include,
            "exclude": settings.exclude if own.exclude is None else own.exclude,
            "collections": {},
        }
        if own.embedding_model:
            update["embedding"] = settings.embedding.model_copy(update={"model": own.embedding_model})
        found[name] = Collection(name, settings.as_collection(name, **update))
    _one_index_each(found)
    return found


def _one_index_each(found: dict[str, Collection]) -> None:
    owners: dict[Path, str] = {}
    for name, collection in found.items():
        index = collection.settings.index_path
        if index in owners:
            raise ConfigError(f"collections '{owners[index]}' and '{name}' would share the index folder {index}: "
                              "give one of them its own index_dir")
        owners[index] = name


def choose(settings: Settings, spec: str | None) -> list[Collection]:
    """The collections `--collection` names: "NAME[,NAME…]" or "all"; without it, "default" if there is one,
    else all of them.

    >>> s = Settings(collections={"work": {"notes_dir": "w"}, "papers": {"notes_dir": "p"}})
    >>> [c.name for c in choose(s, None)], [c.name for c in choose(s, "papers")]
    (['work', 'papers'], ['papers'])
    """
    found = collections(settings)
    if spec is None:
        return [found[DEFAULT]] if DEFAULT in found else list(found.values())
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if names == [ALL]:
        return list(found.values())
    unknown = [n for n in names if n not in found]
    if unknown or not names:
        known = ", ".join(found) or "none"
        raise ConfigError(f"no collection named {unknown[0] if unknown else repr(spec)!r}: config.yaml has {known} "
                          f"(or '{ALL}' for every one)")
    return [found[n] for n in dict.fromkeys(names)]


def leftover_indexes(settings: Settings) -> dict[str, Path]:
    """Index folders under index_dir whose collection is no longer in config.yaml, by name."""
    configured = {c.settings.index_path for c in collections(settings).values()}
    root = settings.index_path
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir())
            if is_index(p) and p.resolve() not in configured}


def labelled(path: str, collection: str | None) -> str:
    """A path as shown to a person: with its collection, unless that is the default one.

    >>> labelled("a.md", "papers"), labelled("a.md", "default"), labelled("a.md", "")
    ('papers: a.md', 'a.md', 'a.md')
    """
    return f"{collection}: {path}" if collection and collection != DEFAULT else path


def app_settings(settings: Settings, name: str | None) -> Settings:
    """The one collection a long-running face opens: NAME, else "default" if there is one, else the first."""
    if name and ("," in name or name.strip() == ALL):
        raise ConfigError("the app and the API open one collection at a time: --collection NAME")
    return choose(settings, name or None)[0].settings
