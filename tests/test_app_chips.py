"""The browser shows what a question about the notes was understood as (chips), and a click takes one away.

Streamlit's AppTest over the real core: MiniLM, a real index of the small notes folder, no LLM.
"""
from __future__ import annotations

import pytest

from ragqa.ingest.pipeline import ingest_folder

from helpers.app import open_app
from helpers.settings import make_settings


@pytest.fixture
def indexed(app_env, notes, minilm):
    (notes / "garden" / "beans.md").write_text("---\ntags: [garden/legumes]\ncreated: 2023-05-02\n---\nBeans climb.\n",
                                               encoding="utf-8")
    ingest_folder(make_settings(app_env, notes), minilm)
    return app_env


def ask(at, question: str):
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def chip_buttons(at) -> list[str]:
    return [b.label for b in at.main.button if b.label.endswith(" ✕")]


@pytest.mark.slow  # the first page load imports torch and loads MiniLM
def test_a_count_shows_its_chips_and_taking_one_away_asks_again_without_it(indexed):
    at = ask(open_app(), "How many notes are tagged #garden from 2023?")
    answer = [m for m in at.main.markdown if "You have" in m.value]
    assert answer and answer[-1].value.startswith("You have 1 note tagged #garden, created in 2023:")
    assert chip_buttons(at) == ["tag: garden ✕", "created: 2023 ✕"]
    assert any("Understood as a count of notes · tag: garden · created: 2023" in c.value for c in at.main.caption)

    [created] = [b for b in at.main.button if b.label == "created: 2023 ✕"]
    created.click().run()
    assert not at.exception, at.exception
    answers = [m.value for m in at.main.markdown if m.value.startswith("You have")]
    assert answers[-1].startswith("You have 2 notes tagged #garden:")  # the same question, without the year
    assert chip_buttons(at)[-1:] == ["tag: garden ✕"]


@pytest.mark.slow
def test_an_ordinary_question_shows_no_chips(indexed):
    at = ask(open_app(), "How often should tomatoes be watered?")
    assert chip_buttons(at) == [] and not any(c.value.startswith("Understood as") for c in at.main.caption)
