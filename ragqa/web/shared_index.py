"""What the page reads about the shared index (ragqa.retrieve.shared): whether it can be searched yet, and
the folders and tags to filter by."""
from __future__ import annotations

from ragqa.errors import IndexMissingError, RagqaError
from ragqa.retrieve.shared import SharedIndex


def index_status(index: SharedIndex) -> tuple[dict | None, str | None]:
    """(stats, None) when the index can be searched; (None, why not) otherwise; (None, None): no index."""
    try:
        return index.stats(), None
    except IndexMissingError:
        return None, None
    except RagqaError as err:  # IndexChangingError says "The index is being created."
        return None, str(err)


def filter_choices(index: SharedIndex) -> tuple[list[str], list[str]]:
    try:
        return index.choices()
    except RagqaError:  # the index changed under us; the next redraw has them
        return [], []
