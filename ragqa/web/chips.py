"""The filters the planner understood, as chips above an answer: `tag: math/LinearAlgebra ✕`, `created: 2024 ✕`.

One click takes a chip away and asks the same question again without it (the plan minus that filter, not the
question planned anew). The question and the plan to follow wait in st.session_state.reask for the next run.
"""
from __future__ import annotations

import streamlit as st

from ragqa.plan import Plan
from ragqa.web.markup import plain

KIND_LABELS = {"list": "a list of notes", "count": "a count of notes", "links": "links between notes",
               "summary": "a summary of notes"}


def chips_caption(plan: Plan) -> str:
    """What the chips stand for, for a page that cannot click them (and for the screen reader).

    >>> chips_caption(Plan("count", tags=("physics",)))
    'Understood as a count of notes · tag: physics'
    """
    labels = [c.label for c in plan.chips()]
    kind = KIND_LABELS.get(plan.kind, "a question searched within")
    return " · ".join([f"Understood as {kind}", *labels])


def show_chips(plan: Plan | None, question: str, key: str) -> None:
    """The plan's chips as buttons; a click queues the question again, without that chip, and reruns."""
    if plan is None or plan.is_plain:
        return
    chips = plan.chips()
    st.caption(plain(chips_caption(plan)))
    if not chips:
        return
    for chip, column in zip(chips, st.columns(len(chips)), strict=True):
        if column.button(f"{chip.label} ✕", key=f"chip-{key}-{chip.key}", help="ask again without this filter"):
            st.session_state.reask = (question, plan.without(chip.key))
            st.rerun()
