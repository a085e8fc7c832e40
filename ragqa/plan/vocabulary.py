"""Finding the vault's own names in a question: its tags ("my physics notes") and its notes ("[[habit cue]]").

A tag is matched by its full name or its last part, in the ways people write it: `math/LinearAlgebra` as
"math/linearalgebra", "linearalgebra" or "linear algebra"; `mental_health` as "mental health". A note is matched
by its title, an alias or its file name, in any case, or (when the question marks it as a note) by the
closest such name.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from functools import lru_cache

from ragqa.index.catalog import Vocabulary
from ragqa.index.note_rows import fold

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_COMMON = set("""notes note files file stub idea ideas todo draft drafts misc other general all new old the and
    with about from what which this that list show count many""".split())


def tag_forms(written: str) -> set[str]:
    """How a question may name a tag.

    >>> sorted(tag_forms("math/LinearAlgebra"))
    ['linear algebra', 'linearalgebra', 'math/linearalgebra']
    >>> sorted(tag_forms("mental_health"))
    ['mental health', 'mental_health']
    """
    leaf = written.rsplit("/", 1)[-1]
    forms = {fold(written), fold(leaf), fold(re.sub(r"[_\-]+", " ", leaf)), fold(_CAMEL.sub(" ", leaf))}
    return {f for f in forms if len(f) >= 3 and f not in _COMMON}


@lru_cache(maxsize=8)
def _form_index(tags: tuple[tuple[str, str], ...]) -> dict[str, tuple[list[str], list[str]]]:
    """form -> (tags whose full name it is, tags whose last part it is), as written."""
    index: dict[str, tuple[list[str], list[str]]] = {}
    for key, written in tags:
        for form in tag_forms(written):
            whole, leaf = index.setdefault(form, ([], []))
            (whole if form == key else leaf).append(written)
    return index


def match_tags(text: str, vocabulary: Vocabulary, used: list[str], skip: Collection[str] = frozenset()) -> list[str]:
    """The vault's tags a question names without '#', longest name first; a name several tags end with stands
    for all of them, unless it is a tag's full name (whose nested tags it finds anyway).

    >>> vocab = Vocabulary(tags={"physics": ("physics", 13), "math/linearalgebra": ("math/LinearAlgebra", 40)})
    >>> match_tags("How many physics notes do I have?", vocab, []), match_tags("my linear algebra notes", vocab, [])
    (['physics'], ['math/LinearAlgebra'])
    """
    index = _form_index(tuple(sorted((k, w) for k, (w, _) in vocabulary.tags.items())))
    lowered = " " + " ".join(re.sub(r"[^\w/\-]+", " ", text.casefold()).split()) + " "
    found: list[str] = []
    for form in sorted(index, key=len, reverse=True):
        if form in skip:
            continue
        for spelled in {form, form.replace("_", " ")}:
            at = lowered.find(f" {spelled} ")
            if at < 0:
                continue
            whole, leaf = index[form]
            found += [t for t in (whole or leaf) if t not in found]
            used.append(spelled)
            lowered = lowered[:at] + " " * (len(spelled) + 1) + lowered[at + len(spelled) + 1:]
    return found


def tag_named(phrase: str, vocabulary: Vocabulary) -> list[str]:
    """The tags these words are exactly a name of ("mental health" is `mental_health`), [] when none.

    >>> tag_named("Mental Health", Vocabulary(tags={"mental_health": ("mental_health", 5)}))
    ['mental_health']
    """
    index = _form_index(tuple(sorted((k, w) for k, (w, _) in vocabulary.tags.items())))
    whole, leaf = index.get(fold(phrase), ([], []))
    return whole or leaf


def match_note(words: str, vocabulary: Vocabulary, exact_only: bool = False) -> str | None:
    """The path of the note these words name (title, alias or file name), or None.

    >>> vocab = Vocabulary(names={"habit cue": ["Concepts/habit cue.md"], "cue": ["Concepts/habit cue.md"]})
    >>> match_note("Habit Cue", vocab), match_note("habbit cue", vocab), match_note("habbit cue", vocab, True)
    ('Concepts/habit cue.md', 'Concepts/habit cue.md', None)
    """
    name = fold(words)
    if not name:
        return None
    for candidate in (name, name.removesuffix(" note"), name.removesuffix(".md")):
        if candidate in vocabulary.names:
            return min(vocabulary.names[candidate], key=lambda p: (p.count("/"), p))
    if exact_only:
        return None
    close = difflib.get_close_matches(name, list(vocabulary.names), n=1, cutoff=0.85)
    return min(vocabulary.names[close[0]], key=lambda p: (p.count("/"), p)) if close else None


def named_note(text: str, vocabulary: Vocabulary, shortest: int = 4, skip: Collection[str] = frozenset()) -> str | None:
    """The longest note name (title, alias, file name) found whole in the text, or None.

    >>> named_note("What backlinks does Unitary Matrix have?", Vocabulary(names={"unitary matrix": ["u.md"],
    ...                                                                          "matrix": ["m.md"]}))
    'unitary matrix'
    """
    lowered = " " + " ".join(re.sub(r"[^\w/\-']+", " ", text.casefold()).split()) + " "
    found = [name for name in vocabulary.names
             if len(name) >= shortest and name not in skip and f" {name} " in lowered]
    return max(found, key=len) if found else None
