"""A map of the notes: every note as a point in 2-D, near notes near each other.

`project_2d` is PCA in numpy (pure, deterministic, ~0.3 s for 10k notes; see
docs/NOTES-GRAPH.md). `map_points` gives the plot data any face can draw, and
`map_chart` an Altair scatter (hover: title; colour: topic or folder; click: select
a note) that the browser shows with `st.altair_chart(..., on_select="rerun")`.
"""
from __future__ import annotations

import numpy as np

SELECTION = "note"  # name of the chart's click selection; the face reads the path from it


def project_2d(vectors: np.ndarray) -> np.ndarray:
    """The rows of `vectors` on their two principal components: shape (n, 2).

    Signs are fixed (each axis's largest loading is positive), so the map does not
    flip between runs.

    >>> (project_2d(np.array([[1, 0], [-1, 0], [0, 0.5], [0, -0.5]])) + 0).round(3).tolist()
    [[1.0, 0.0], [-1.0, 0.0], [0.0, 0.5], [0.0, -0.5]]
    """
    x = np.asarray(vectors, dtype=np.float32)
    if len(x) == 0:
        return np.zeros((0, 2), dtype=np.float32)
    centred = x - x.mean(axis=0)
    # Eigenvectors of the d x d covariance, not the SVD of the n x d data: the same axes, and at 10k notes
    # 0.3 s instead of 6.5 s (docs/NOTES-GRAPH.md).
    _, eigenvectors = np.linalg.eigh(centred.T @ centred)
    axes = eigenvectors[:, ::-1][:, :2].T
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    points = centred @ (axes * signs[:, None]).T
    if points.shape[1] < 2:  # fewer than two dimensions of data
        points = np.pad(points, ((0, 0), (0, 2 - points.shape[1])))
    return points.astype(np.float32)


def folder_of(path: str) -> str:
    """The top-level folder of a note, or "(top)" for notes at the root.

    >>> folder_of("Concepts/Rust/traits.md"), folder_of("index.md")
    ('Concepts', '(top)')
    """
    return path.split("/", 1)[0] if "/" in path else "(top)"


def map_points(paths: list[str], titles: list[str], vectors: np.ndarray,
               topic_of: dict[str, str] | None = None) -> list[dict]:
    """Plot data: [{"path", "title", "folder", "topic", "x", "y"}], one per note, in the given order."""
    xy = project_2d(vectors)
    topic_of = topic_of or {}
    return [{"path": p, "title": t, "folder": folder_of(p), "topic": topic_of.get(p, ""),
             "x": round(float(x), 5), "y": round(float(y), 5)} for p, t, (x, y) in zip(paths, titles, xy, strict=True)]


def map_chart(points: list[dict], colour: str = "topic", height: int = 560):
    """An Altair scatter of `map_points` output; clicking a point selects its note (selection "note")."""
    import altair as alt
    import pandas as pd

    pick = alt.selection_point(name=SELECTION, fields=["path"], on="click", clear="dblclick")
    return (
        alt.Chart(pd.DataFrame(points, columns=["path", "title", "folder", "topic", "x", "y"]))
        .mark_circle(size=50)
        .encode(
            x=alt.X("x:Q", axis=None),
            y=alt.Y("y:Q", axis=None),
            color=alt.Color(f"{colour}:N", legend=alt.Legend(title=colour, symbolLimit=60)),
            opacity=alt.condition(pick, alt.value(0.9), alt.value(0.35)),
            tooltip=[alt.Tooltip("title:N"), alt.Tooltip("folder:N"), alt.Tooltip("topic:N")],
        )
        .add_params(pick)
        .properties(height=height)
        .interactive()
    )


def picked_path(selection) -> str | None:
    """The note clicked on `map_chart`, from Streamlit's `event.selection`, or None.

    >>> picked_path({"note": [{"path": "a.md"}]}), picked_path({"note": {}}), picked_path(None)
    ('a.md', None, None)
    >>> picked_path({"note": {"path": ["b.md"]}})
    'b.md'
    """
    value = (selection or {}).get(SELECTION)
    items = [value] if isinstance(value, dict) else list(value or [])
    for item in items:
        path = item.get("path") if isinstance(item, dict) else None
        path = path[0] if isinstance(path, list) and path else path
        if isinstance(path, str) and path:
            return path
    return None
