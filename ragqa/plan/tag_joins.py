"""How a question joins its tags: "tagged #cuda and #vulkan" asks for the notes with every one of them, "#cuda or
#vulkan" (or a list with commas) for the notes with any."""
from __future__ import annotations

import re

_OR = re.compile(r"\bor\b", re.I)
_ANY_OF = re.compile(r"\b(?:either|any\s+of)\b", re.I)
_AND = re.compile(r"\band\b|&", re.I)
_BOTH = re.compile(r"\b(?:both|all\s+of|all\s+the(?:se)?\s+tags|each\s+of)\b", re.I)


def every_tag_asked(text: str, tags: list[str], used: list[str]) -> bool:
    """Whether the question wants the notes with all of its tags: "tagged #cuda and #vulkan", "both the cuda
    and vulkan tags" (any of them when it says "or", "either", "any", or only lists them with commas).

    >>> every_tag_asked("notes tagged #cuda and #vulkan", ["cuda", "vulkan"], ["#cuda", "#vulkan"])
    True
    >>> every_tag_asked("notes tagged #cuda or #vulkan and from 2024", ["cuda", "vulkan"], ["#cuda", "#vulkan"])
    False
    >>> every_tag_asked("notes tagged #cuda, #vulkan", ["cuda", "vulkan"], ["#cuda", "#vulkan"])
    False
    """
    if len(tags) < 2:
        return False
    places = [(text.find(words), text.find(words) + len(words)) for words in used[:len(tags)] if words in text]
    between = text[min(p[0] for p in places):max(p[1] for p in places)] if places else text
    if _OR.search(between) or _ANY_OF.search(text):
        return False
    return bool(_AND.search(between) or _BOTH.search(text))
