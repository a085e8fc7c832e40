"""Notes are shown, never executed: HTML in a note reaches the page as text, in the real app (AppTest)."""
from __future__ import annotations

import pytest
from test_app import ask

from ragqa.ingest.pipeline import ingest_folder

from helpers.app import open_app
from helpers.settings import make_settings

HOSTILE = ("# Oven\n\nThe oven heats to 250 degrees for bread. <script>alert('pwned')</script> "
           "<img src=x onerror=\"alert('img')\"> <b>bold html</b>\n")


@pytest.mark.slow
def test_html_in_a_note_is_never_rendered_as_html(app_env, notes, minilm):
    (notes / "oven.md").write_text(HOSTILE, encoding="utf-8")
    ingest_folder(make_settings(app_env, notes), minilm)
    at = open_app()
    ask(at, "How hot does the oven get for bread?")
    answer = at.main.chat_message[1]
    shown = [m for m in at.markdown] + [m for e in answer.expander for m in e.markdown]
    assert any("alert('pwned')" in m.value for m in shown), "the note's text is shown"
    assert not [m.value for m in shown if m.proto.allow_html], "no Markdown element may render HTML"
    assert not at.get("html"), "st.html is never used for note text"
