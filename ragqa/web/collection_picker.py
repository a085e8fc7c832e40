"""Collections in the browser (ragqa.collections): which one the sidebar and "Your notes" show (ingest, upload,
browse), and which ones the chat asks (one, several or all).

With one collection (or `ragqa app --collection NAME`), nothing is drawn and the page is as it always was.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ragqa.collections import Collection, choose, collections
from ragqa.retrieve.across import CollectionsSearcher
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


def chat_searcher(picked: Picked):
    """(what the chat searches, whether any of it has a passage yet): the asked collections' shared indexes
    (a collection without an index is left out)."""
    ready = {}
    for collection in picked.asked:
        own = collection.settings
        index = get_index(own, get_embedder(own, keys(own)["embedder"]), keys(own)["index"])
        stats, _ = index_status(index)
        if stats and stats["chunks"]:
            ready[collection.name] = index
    if not ready:
        return None
    first = picked.asked[0].settings.search
    return CollectionsSearcher(ready, top_k=first.top_k, rrf_k=first.rrf_k)
