"""A saved conversation as Markdown (ragqa.answer.export): what a notes app shows of it."""
from __future__ import annotations

import yaml

from ragqa.answer.export import conversation_markdown
from ragqa.index.history import Conversation, Turn

PESTS = {"n": 2, "path": "garden/tomatoes.md", "heading": "Growing tomatoes > Pests", "page": None,
         "text": "Aphids and hornworms attack tomato plants;\npick hornworms off by hand.", "collection": None}
PAPER = {"n": 4, "path": "papers/blight.pdf", "heading": "Blight", "page": 3,
         "text": "Late blight spreads in wet weather.", "collection": "papers"}
CONVERSATION = Conversation("3f9a2c1b7e", 'Tomato "trouble"', "2026-12-02T07:00:00+00:00",
                            "2026-12-02T07:05:00+00:00", 2)
TURNS = [Turn("What attacks tomatoes?", "Hornworms [2], and blight in wet weather [4][2].", "What attacks tomatoes?",
              [PESTS, PAPER], model="smollm2-135m (local)", seconds=2.04),
         Turn("and in  winter?", "*Retrieval only*\n\n- Nothing.", "What attacks tomatoes? and in winter?",
              model="retrieval only", seconds=0.5)]


def test_each_question_is_a_heading_and_each_answer_keeps_its_markers_matching_its_numbered_sources():
    markdown = conversation_markdown(CONVERSATION, TURNS)
    first = markdown.split("## What attacks tomatoes?\n", 1)[1].split("## and in winter?")[0]
    assert "Hornworms [1], and blight in wet weather [2][1]." in first  # numbered as the list below shows them
    assert "1. [[garden/tomatoes.md#Pests]]\n   > Aphids and hornworms attack tomato plants;\n" \
           "   > pick hornworms off by hand.\n" in first  # the passage quoted, line by line, as it was
    assert "2. [[papers/blight.pdf#page=3]] (papers)\n   > Late blight spreads in wet weather.\n" in first
    assert "*smollm2-135m (local) · 2.0 s*" in first


def test_a_turn_without_citations_has_no_sources_and_says_what_was_searched():
    second = conversation_markdown(CONVERSATION, TURNS).split("## and in winter?\n", 1)[1]
    assert "**Sources**" not in second
    assert "searched for: What attacks tomatoes? and in winter?" in second


def test_the_front_matter_is_yaml_a_notes_app_reads():
    markdown = conversation_markdown(CONVERSATION, TURNS)
    front = yaml.safe_load(markdown.split("---\n")[1])
    assert front["title"] == 'Tomato "trouble"' and front["ragqa-conversation"] == "3f9a2c1b7e"
    assert front["tags"] == ["ragqa-chat"]
    assert '\n# Tomato "trouble"\n' in markdown
