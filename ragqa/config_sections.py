"""The sections of config.yaml (embedding, chunking, pdf, ocr, search, store, llm, topics, ui, api, mcp,
history), each a typed model with its defaults; ragqa.config puts them together into Settings and reads the file."""
from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EmbeddingSettings(_Section):
    backend: Literal["sentence-transformers"] = "sentence-transformers"  # ragqa.models.embedding.EMBEDDERS
    model: str = "intfloat/multilingual-e5-small"  # hub id or local folder
    # bfloat16 inference: "auto" turns it on only where the CPU computes bf16 natively (AVX-512 BF16 or
    # AMX): 2.7-2.9x faster there, same SciFact nDCG@10; emulated on AVX2-only CPUs it is ~5x slower.
    bf16: bool | Literal["auto"] = "auto"
    batch_size: int = Field(32, ge=1, le=4096)
    query_prefix: str | None = None  # None: take the model's own prompts
    passage_prefix: str | None = None
    cache_dir: str = "~/.cache/ragqa"  # where the bundled E5 is materialised


class ChunkSettings(_Section):
    chunk_tokens: int = Field(256, ge=16, le=8192)
    overlap_tokens: int = Field(32, ge=0, le=4096)


class PdfSettings(_Section):
    passwords: dict[str, str] = Field(default_factory=dict)  # path or glob -> password
    timeout_seconds: float = Field(60.0, gt=0)  # per file, for every document read in the isolated reader


class OcrSettings(_Section):
    """Text from images and from PDF pages without a text layer (ragqa.ingest.formats.ocr)."""

    enabled: bool = True
    engine: Literal["rapidocr", "tesseract"] = "rapidocr"
    timeout_seconds: float = Field(120.0, gt=0)  # per file: OCR stops there, keeping the pages it read


class SearchSettings(_Section):
    top_k: int = Field(5, ge=1, le=200)
    mode: Literal["dense", "bm25", "hybrid"] = "hybrid"
    # hybrid: how the dense and BM25 lists are combined. Chosen on SciFact and squad-dev (docs/QUALITY.md):
    # reciprocal rank fusion with a small k, each list 300 deep (cheap: only the final k are fetched).
    fusion: Literal["rrf", "scores"] = "rrf"  # scores: weighted sum of min-max scaled scores
    rrf_k: int = Field(5, ge=1)
    candidates: int = Field(300, ge=1, le=2000)
    dense_weight: float = Field(1.0, ge=0)  # hybrid: each list's weight in the fusion
    bm25_weight: float = Field(1.0, ge=0)
    rerank: Literal["none", "mmr", "cross-encoder", "llm"] = "none"
    rerank_model: str = "cross-encoder/ms-marco-MiniLM-L-6-v2"  # hub id (already cached) or local folder
    rerank_depth: int = Field(20, ge=1, le=200)  # how many of the best passages are reranked
    mmr_lambda: float = Field(0.7, ge=0, le=1)  # 1 = relevance only, 0 = diversity only


class StoreSettings(_Section):
    backend: Literal["faiss", "milvus"] = "faiss"
    milvus_uri: str = "milvus.db"  # a file (Milvus Lite, relative to index_dir) or http://HOST:19530
    milvus_collection: str = "ragqa_chunks"
    milvus_token_env: str | None = None  # NAME of the env var holding a Milvus token, if the server needs one
    # backend milvus: "vectors" mirrors the vectors and SQLite holds the rest (one host); "everything" keeps the
    # chunks, their text and metadata, BM25, the file states and the notes' catalog in Milvus (docs/SCALING.md)
    milvus_holds: Literal["vectors", "everything"] = "vectors"

    @model_validator(mode="after")
    def _everything_needs_milvus(self):
        if self.milvus_holds == "everything" and self.backend != "milvus":
            raise ValueError("store.milvus_holds: everything needs store.backend: milvus")
        return self


class IngestSettings(_Section):
    """How `ragqa ingest` runs: in this process, or spread over a Ray cluster (ragqa.ingest.ray_engine)."""

    engine: Literal["local", "ray"] = "local"
    ray_address: str | None = None  # a running cluster ("ray://HOST:10001", "HOST:6379", "auto"); none: a local Ray
    ray_actors: int = Field(2, ge=1, le=4096)  # embedding actors, each holding the model once
    ray_cpus_per_actor: float = Field(1.0, gt=0)
    ray_gpus_per_actor: float = Field(0.0, ge=0)


LOCAL_PASSAGE_TOKENS = 240
# The prompt's rules and worked example alone take ~330 tokens (ragqa.answer.prompt); with less room than
# this beside the answer, no passage would fit.
MIN_PROMPT_TOKENS = 512


class LLMSettings(_Section):
    provider: Literal["local", "openai", "ollama", "none"] = "local"
    base_url: str | None = None  # openai: the endpoint; ollama: default http://127.0.0.1:11434/v1
    model: str | None = None  # openai, ollama: the model the endpoint serves
    api_key_env: str | None = None  # the NAME of the env var holding the key
    # provider local: a bundled name, a path to any .gguf file (relative: from config.yaml's folder), or
    # hf:OWNER/REPO/FILE.gguf (fetched once into the Hugging Face cache); ragqa.models.model_sources
    local_model: str = "qwen2.5-coder-1.5b"
    local_model_sha256: str | None = Field(None, pattern=r"^\s*[0-9a-fA-F]{64}\s*$")  # pins a file or hf: model
    models_dir: str = "~/models"  # where `ragqa models list` looks for .gguf files
    threads: Annotated[int, Field(ge=1, le=512)] | Literal["auto"] = "auto"  # auto: the physical cores
    # layers llama.cpp puts on a GPU; auto: all that fit when its build has a GPU (README: GPU), else 0
    gpu_layers: Annotated[int, Field(ge=0)] | Literal["auto"] = "auto"
    temperature: float = Field(0.0, ge=0, le=2)  # greedy: measured no worse for answers from passages
    max_answer_tokens: int = Field(384, ge=16)
    context_window: int = Field(4096, ge=256)
    timeout_seconds: float = Field(120.0, gt=0)
    max_retries: int = Field(2, ge=0, le=10)
    # provider local: how long the llama.cpp server stays up once no ragqa process uses it (Ollama's
    # keep_alive): seconds, or "30s", "5m", "1h"; 0 stops it as soon as the last one exits.
    keep_alive: float = Field(300.0, ge=0)
    # How a follow-up ("and its price?") becomes a search query: "llm" asks the model to rewrite it,
    # "words" joins it to the previous question (instant); "auto": words for the local model (a rewrite
    # costs it seconds of reading before the answer can start), llm for an endpoint. true/false: llm/words.
    rewrite_followups: Literal["auto", "llm", "words"] = "auto"
    # Stop an answer that runs on: into the prompt's scaffolding (a new "Question:", passage labels) or saying a
    # sentence again (ragqa.answer.runaway). false: the model's words to its end or max_answer_tokens.
    stop_runaway: bool = True

    @field_validator("keep_alive", mode="before")
    @classmethod
    def _duration(cls, value):
        """Seconds, or a duration as Ollama writes it: "90s", "5m", "1h"."""
        if isinstance(value, str):
            found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*", value.lower())
            if not found:
                raise ValueError(f"llm.keep_alive {value!r}: give seconds, or a duration like 30s, 5m, 1h")
            return float(found[1]) * {"s": 1, "m": 60, "h": 3600}[found[2] or "s"]
        return value

    @field_validator("rewrite_followups", mode="before")
    @classmethod
    def _rewrite_from_bool(cls, value):
        if isinstance(value, str) and value.lower() in ("true", "false"):  # from an environment variable
            value = value.lower() == "true"
        return {True: "llm", False: "words"}.get(value, value) if isinstance(value, bool) else value

    @model_validator(mode="after")
    def _room_for_the_prompt(self):
        if self.context_window - self.max_answer_tokens < MIN_PROMPT_TOKENS:
            raise ValueError(
                f"llm.context_window ({self.context_window}) leaves no room for the prompt after "
                f"llm.max_answer_tokens ({self.max_answer_tokens}): make context_window at least "
                f"{self.max_answer_tokens + MIN_PROMPT_TOKENS} or lower max_answer_tokens")
        return self

    def rewrites_with_llm(self) -> bool:
        if self.rewrite_followups == "auto":
            return self.provider == "openai"
        return self.rewrite_followups == "llm"

    @property
    def runs_locally(self) -> bool:
        """A model on this machine (llama.cpp here, or Ollama): its reading time is the user's wait."""
        return self.provider in ("local", "ollama")
    # How many tokens of the retrieved passages the model reads: their sentences that best match the
    # question, with neighbours. "auto": 240 for a model on this machine (local, ollama: reading is most of its
    # wait; chosen by measurement, docs/ANSWERS.md), whole passages for an endpoint; null: whole passages.
    passage_tokens: Annotated[int, Field(ge=16)] | Literal["auto"] | None = "auto"

    def focus_budget(self) -> int | None:
        """The passage_tokens setting made concrete: a token budget, or None for whole passages."""
        if self.passage_tokens == "auto":
            return LOCAL_PASSAGE_TOKENS if self.runs_locally else None
        return self.passage_tokens


class AnswerSettings(_Section):
    """Questions about the notes themselves (ragqa.plan): which notes, how many, what links where."""

    plan: bool = True  # false: every question is searched and answered from passages, as before planning
    list_shown: int = Field(20, ge=1, le=1000)  # notes named in a list's text ("and N more"); --json has all
    max_notes_summarized: int = Field(8, ge=1, le=200)  # "summarize what I wrote about X": notes read, best first
    topic_threshold: float = Field(0.86, ge=0, le=1)  # a note is about a list's topic at this E5 similarity
    # (or when it holds every word of the topic): measured in bench/notes_questions.py --topics


class TopicSettings(_Section):
    k: int | None = Field(None, ge=1, le=500)  # how many topics; null: chosen by silhouette


class UISettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8501, ge=1, le=65535)
    max_upload_mb: int = Field(20, ge=1)
    password_env: str | None = None


class APISettings(_Section):
    # NAME of the env var holding the bearer token `ragqa serve` asks of every request; when that variable
    # is unset or empty, no token is asked, and only a loopback --host is allowed.
    token_env: str | None = "RAGQA_API_TOKEN"  # noqa: S105 - the variable's name, not a token
    max_request_kb: int = Field(1024, ge=1)  # larger request bodies get 413
    # /v1/embeddings: at most this many texts, and this many tokens in all, per request (more: 413)
    max_embedding_texts: int = Field(256, ge=1)
    max_embedding_tokens: int = Field(32768, ge=1)
    cors_origins: list[str] = Field(default_factory=list)  # browser origins allowed to call the API; none: no CORS


class MCPSettings(_Section):
    # `ragqa mcp`: an assistant's tools may change the index only when this is true (an `ingest_notes` tool)
    allow_ingest: bool = False


class HistorySettings(_Section):
    # Conversations are kept in history.sqlite in the index folder (README: Conversations).
    enabled: bool = True
    # Where the app's "Save to notes" writes a conversation's Markdown: a folder inside notes_dir, indexed
    # like any other note.
    save_folder: str = "ragqa-chats/"

    @field_validator("save_folder")
    @classmethod
    def _inside_the_notes(cls, value: str) -> str:
        parts = value.replace("\\", "/").strip("/").split("/")
        if value.startswith(("/", "~")) or ":" in value or ".." in parts or not any(p not in ("", ".") for p in parts):
            raise ValueError(f"history.save_folder ({value!r}) must be a folder inside notes_dir, like 'ragqa-chats/' "
                             "(not absolute, no '..')")
        return value
