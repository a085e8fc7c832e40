"""Names for topics: the words that set a topic's notes apart, or an LLM's short name for them.

`distinctive_terms` is class-based TF-IDF (as in BERTopic): a word scores high for a
topic when many of the topic's notes use it and few notes elsewhere do. `llm_names`
asks the configured chat model for a short name from sample titles, and keeps the
term-based name for any topic it does not answer for.
"""
from __future__ import annotations

import math
import re
from collections import Counter

from ragqa.errors import RagqaError
from ragqa.text import STOPWORDS as CONTENTLESS

_WORD = re.compile(r"[a-z][a-z0-9+#]*(?:['-][a-z0-9]+)*")
_MARKUP = re.compile(r"\\[A-Za-z]+|\$\$?|`[^`\n]*`")  # LaTeX commands (\frac, \mathbf), $ signs, inline code
# A topic is named by what sets its notes apart, so beyond the words that carry no topic at all it drops
# words common in any prose (quantifiers, prepositions, negations, everyday verbs such as "use" and "make")
# and link parts. A question keeps those ("how do I use X" is about using X), and BM25 was measured with
# the smaller list (docs/QUALITY.md).
STOPWORDS = CONTENTLESS | frozenset("""
about above after again against all any aren't because before below between both can't cannot couldn't didn't
doesn't doing don't down during each even few further get gets got hadn't hasn't haven't here hers herself
himself however isn't itself just let let's like make makes many more most much mustn't myself need new nor now
off often once one only other ought ours ourselves out over own really same see shouldn't since some still
that's theirs themselves there's those through thus too two under until up upon us use used uses using very via
wasn't way well weren't while within without won't wouldn't yet yours yourself yourselves
http https www com org html md
""".split())
LLM_GROUPS_PER_REQUEST = 12
SAMPLE_TITLES = 8
MAX_NAME_WORDS = 6


def words(text: str) -> list[str]:
    """Lower-cased words worth naming a topic by (no stop words, numbers or single letters).

    >>> words("The C++ borrow-checker, 2024: it's strict! $\\\\frac{a}{b}$")
    ['c++', 'borrow-checker', 'strict']
    """
    return [w for w in _WORD.findall(_MARKUP.sub(" ", text).lower()) if len(w) > 1 and w not in STOPWORDS]


def distinctive_terms(topics: list[list[tuple[str, str]]], n_terms: int = 3) -> list[list[str]]:
    """For each topic, given as [(title, text), ...] per note, its n most distinctive words.

    A note counts a word once (1.5 times when it is in the title), so one long note
    cannot name a topic on its own.

    >>> distinctive_terms([[("Rust traits", "traits and generics"), ("Rust lifetimes", "borrow")],
    ...                    [("Sourdough", "flour water starter"), ("Baguette", "flour oven")]], 1)
    [['rust'], ['flour']]
    """
    per_topic: list[Counter] = []
    for notes in topics:
        counts: Counter = Counter()
        for title, text in notes:
            title_words = set(words(title))
            counts.update(title_words | set(words(text)))
            counts.update({w: 0.5 for w in title_words})
        per_topic.append(counts)
    overall: Counter = Counter()
    for counts in per_topic:
        overall.update(counts)
    average = sum(overall.values()) / max(len(per_topic), 1)
    names = []
    for counts in per_topic:
        total = sum(counts.values()) or 1
        score = {w: (c / total) * math.log(1 + average / overall[w]) for w, c in counts.items() if c > 1 or total < 4}
        names.append(sorted(score, key=lambda w: (-score[w], w))[:n_terms])
    return names


def term_name(terms: list[str]) -> str:
    return ", ".join(terms) if terms else "misc"


def _prompt(groups: list[list[str]]) -> list[dict]:
    listing = "\n".join(f"{n}. " + "; ".join(titles) for n, titles in enumerate(groups, 1))
    return [
        {"role": "system", "content": "You name groups of notes by their common subject. Reply with one line "
                                      "per group, '<number>. <name>', where the name is 2 to 4 words, for "
                                      "example '1. Home cooking'. No other text."},
        {"role": "user", "content": f"Titles of notes in each group:\n{listing}"},
    ]


def parse_names(reply: str, count: int) -> dict[int, str]:
    """'1. Rust memory\\n2: Baking' -> {0: 'Rust memory', 1: 'Baking'}.

    Numbers outside 1..count are ignored, and so are "names" that are not short: a small
    model often just repeats the titles it was shown.

    >>> parse_names('1. **Rust memory**\\n2: "Baking"\\n7. nope\\n3. Rust traits; Rust lifetimes; Cargo', 3)
    {0: 'Rust memory', 1: 'Baking'}
    """
    found = {}
    for line in reply.splitlines():
        match = re.match(r"\s*(?:group\s*)?(\d+)\s*[.:)\-]\s*(.+)", line, re.IGNORECASE)
        if match and 1 <= int(match.group(1)) <= count:
            name = match.group(2).strip().strip("*\"'` ").strip()
            if name and len(name.split()) <= MAX_NAME_WORDS and ";" not in name:
                found[int(match.group(1)) - 1] = name[:60]
    return found


def llm_names(chat_model, sample_titles: list[list[str]], fallback: list[str]) -> tuple[list[str], str | None]:
    """Names from the chat model, or `fallback` for any topic it failed on; also the LLM's error, if any."""
    names = list(fallback)
    for start in range(0, len(sample_titles), LLM_GROUPS_PER_REQUEST):
        groups = [titles[:SAMPLE_TITLES] for titles in sample_titles[start:start + LLM_GROUPS_PER_REQUEST]]
        try:
            reply = chat_model.complete(_prompt(groups), max_tokens=16 * len(groups) + 32)
        except RagqaError as err:  # an LLMError: keep the term names, say why once
            return names, str(err)
        for i, name in parse_names(reply, len(groups)).items():
            names[start + i] = name
    return names, None
