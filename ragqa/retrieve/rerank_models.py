"""The model-backed rerankers of ragqa.retrieve.rerank: a CrossEncoder, or the chat model it is handed.

Neither ships with ragqa: a cross-encoder must be a local folder or already in the
Hugging Face cache, and the LLM reranker costs one chat call per question.
"""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from ragqa.errors import LLMError, ModelUnavailableError
from ragqa.models.chat import ChatModel
from ragqa.records import Hit

log = logging.getLogger("ragqa.retrieve.rerank")
PASSAGE_CHARS = 700  # of each passage shown to the LLM reranker


def find_cross_encoder(name: str) -> Path:
    """The model's folder, found without the network, or a one-line error naming what to download."""
    local = Path(os.path.expanduser(name))
    if local.is_dir():
        return local
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception:  # noqa: BLE001 - not cached, or not a hub name: either way it is not here
        raise ModelUnavailableError(
            f"cross-encoder '{name}' is not a local folder nor in the Hugging Face cache: download it once "
            f"with network access (huggingface-cli download {name}), set search.rerank_model to a local "
            f"folder, or set search.rerank: none"
        ) from None


class CrossEncoderReranker:
    name = "cross-encoder"

    def __init__(self, model: str, depth: int = 20):
        from sentence_transformers import CrossEncoder

        self.model = CrossEncoder(str(find_cross_encoder(model)), device="cpu", local_files_only=True)
        self.depth = depth

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        head, tail = hits[: self.depth], hits[self.depth:]
        if not head:
            return hits
        scores = self.model.predict([(query, h.chunk.embed_text) for h in head], show_progress_bar=False)
        ranked = sorted(zip(head, map(float, scores), strict=True), key=lambda pair: -pair[1])
        return [Hit(h.chunk_id, s, h.chunk) for h, s in ranked] + tail


def ranking_prompt(query: str, hits: list[Hit]) -> list[dict]:
    passages = "\n".join(f"[{n}] {' '.join(h.chunk.embed_text.split())[:PASSAGE_CHARS]}" for n, h in enumerate(hits, 1))
    return [
        {"role": "system", "content": "You rank passages by how well they answer a question. "
                                      "Reply with passage numbers only, best first, separated by commas."},
        {"role": "user", "content": f"Question: {query}\n\nPassages:\n{passages}\n\nRanking:"},
    ]


def parse_ranking(reply: str, n: int) -> list[int]:
    """0-based positions in the order the reply names them; unnamed ones follow in their old order.

    >>> parse_ranking("3, 1, 3, 9, then 2", 4)
    [2, 0, 1, 3]
    >>> parse_ranking("I cannot tell.", 3)
    [0, 1, 2]
    """
    named = [int(m) - 1 for m in re.findall(r"\d+", reply) if 1 <= int(m) <= n]
    named = list(dict.fromkeys(named))
    return named + [i for i in range(n) if i not in named]


class LLMReranker:
    """Listwise: one chat call orders the top passages. If the LLM fails, the first stage's order stands
    (also when it is a NoChatModel for a configured model that could not be started)."""

    name = "llm"

    def __init__(self, chat_model: ChatModel, depth: int = 20):
        self.chat_model, self.depth = chat_model, depth

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        head, tail = hits[: self.depth], hits[self.depth:]
        if len(head) < 2:
            return hits
        try:
            reply = self.chat_model.complete(ranking_prompt(query, head), max_tokens=4 * len(head) + 8)
        except LLMError as err:
            log.warning("LLM reranking skipped: %s", err)
            return hits
        order = parse_ranking(reply, len(head))
        return [Hit(head[i].chunk_id, float(len(head) - rank), head[i].chunk) for rank, i in enumerate(order)] + tail
