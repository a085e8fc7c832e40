"""Collections in the browser (ragqa.collections): which one the sidebar and "Your notes" show (ingest, upload,
browse), and which ones the chat asks (one, several or all).

With one collection (or `ragqa app --collection NAME`), nothing is drawn and the page is as it always was.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ragqa.collections import Collection, choose, collections
from ragqa.retrieve.across import CollectionsSearcher
from ragqa.retrieve.searchers import Searchers
from ragqa.retrieve.shared import SharedIndex
from ragqa.web.resources import get_embedder, get_index, keys
from ragqa.web.shared_index import index_status


@dataclass
class Picked:
    working: Collection  # the sidebar's and "Your notes"'s
    asked: list[Collection]  # the chat's
    many: bool  # more than one collection is configured: sources say which collection they are from


def pick_collections(settings, pinned: str | None) -> Picked:
    """Draw the pickers at the top of the sidebar (when there is a choice) and return what is picked."""
    found = collections(settings)
    if pinned or len(found) == 1:
        [only] = choose(settings, pinned) if pinned else list(found.values())
        return Picked(only, [only], many=False)
    names = list(found)
    default = [c.name for c in choose(settings, None)]
    with st.sidebar:
        working = st.selectbox("Collection", names, key="collection",
                               help="the collection the index panel, uploads and 'Your notes' are about")
        asked = st.multiselect("Ask across", names, default=default, key="ask_across",
                               help="the collections the chat searches; empty: the one above")
    return Picked(found[working], [found[n] for n in asked] or [found[working]], many=True)


def shared_indexes(chosen: list[Collection]) -> Searchers[SharedIndex]:
    """The collections' shared indexes and embedders, each made once per process (ragqa.web.resources)."""
    return Searchers({c.name: c.settings for c in chosen},
                     lambda own, embedder: get_index(own, embedder, keys(own)["index"]),
                     lambda own: get_embedder(own, keys(own)["embedder"]))


def has_passages(index: SharedIndex) -> bool:
    stats, _ = index_status(index)
    return bool(stats and stats["chunks"])


def chat_searcher(picked: Picked) -> SharedIndex | CollectionsSearcher | None:
    """What the chat searches: the asked collections' shared indexes (a collection without an index, or with
    no passage yet, is left out); None when none has a passage."""
    indexes = shared_indexes(picked.asked)
    ready = [c.name for c in picked.asked if has_passages(indexes.of(c.name))]
    return indexes.over(ready, picked.asked[0].settings.search) if ready else None
