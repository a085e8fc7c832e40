"""OpenAI-shaped `GET /v1/models` and `POST /v1/embeddings` (chat is in chat_routes)."""
from __future__ import annotations

import base64
from typing import Literal

import numpy as np
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from ragqa.api.app import Served, served
from ragqa.api.errors import APIError
from ragqa.tokens import count_tokens

MODEL_ID = "ragqa"

router = APIRouter(tags=["OpenAI-compatible"])


@router.get("/v1/models")
def list_models(served: Served = Depends(served)) -> dict:
    """ragqa, answering from every collection served, and ragqa/<name> for each one."""
    ids = [MODEL_ID, *(f"{MODEL_ID}/{name}" for name in served.collections)]
    return {"object": "list", "data": [{"id": i, "object": "model", "created": 0, "owned_by": "ragqa"} for i in ids]}


def collections_of_model(model: str, served: Served) -> list[str]:
    """The collections a chat `model` id asks: ragqa, every one; ragqa/<name>, that one; else 404."""
    if model == MODEL_ID:
        return list(served.collections)
    name = model.removeprefix(f"{MODEL_ID}/")
    if model.startswith(f"{MODEL_ID}/") and name in served.collections:
        return [name]
    known = ", ".join([MODEL_ID, *(f"{MODEL_ID}/{n}" for n in served.collections)])
    raise APIError(404, f"no model {model!r} here: ragqa serves {known}", "model_not_found")


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # other OpenAI options (user, dimensions…) are ignored

    input: str | list[str] = Field(description="a text, or a list of texts")
    model: str = MODEL_ID
    input_type: Literal["query", "passage"] = Field(
        "query", description="query: a question to search with; passage: text to be found (E5's prompts)")
    encoding_format: Literal["float", "base64"] = "float"  # the openai package asks for base64


def _encoded(vector: np.ndarray, encoding: str):
    if encoding == "base64":
        return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()
    return [float(x) for x in vector]


def _within_limits(texts: list[str], limits) -> int:
    """The texts' tokens in all; 413 over api.max_embedding_texts or api.max_embedding_tokens (checked before
    anything is embedded)."""
    most, budget = limits.max_embedding_texts, limits.max_embedding_tokens
    if len(texts) > most:
        raise APIError(413, f"{len(texts)} texts is over api.max_embedding_texts ({most}) for one request "
                            f"(and {budget} tokens in all): send them in batches, or raise it in config.yaml",
                       "too_many_inputs")
    tokens = 0
    for text in texts:  # counted one by one, so a huge request stops at the first text over the budget
        tokens += count_tokens(text)
        if tokens > budget:
            raise APIError(413, f"the texts are over api.max_embedding_tokens ({budget} tokens per request, at most "
                                f"{most} texts): send them in batches, or raise it in config.yaml", "too_many_tokens")
    return tokens


@router.post("/v1/embeddings")
def embeddings(body: EmbeddingRequest, served: Served = Depends(served)) -> dict:
    """Vectors from ragqa's embedding model, with its query or passage prompt, L2-normalised."""
    texts = [body.input] if isinstance(body.input, str) else body.input
    if not texts or any(not t for t in texts):
        raise APIError(400, "input is empty: give a text or a list of non-empty texts", "bad_request")
    tokens = _within_limits(texts, served.settings.api)
    embedder = served.embedder
    if body.input_type == "passage":
        vectors = list(embedder.embed_passages(texts))
    else:
        vectors = [embedder.embed_query(t) for t in texts]
    return {"object": "list", "model": served.settings.embedding.model,
            "data": [{"object": "embedding", "index": i, "embedding": _encoded(v, body.encoding_format)}
                     for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
