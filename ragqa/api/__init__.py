"""The HTTP face of ragqa (`ragqa serve`): OpenAI-compatible chat and embeddings, plus search, status,
ingest and related notes, each returning the same JSON as the CLI's `--json`.

Like the CLI it is a face: it may see both the write path (ingest/) and the read path.
"""
from ragqa.api.app import create_app

__all__ = ["create_app"]
