"""ragqa: ask questions of your own notes, offline, with answers that cite them.

The rooms, in the order a question goes through them (ingest/, the write path, is ragqa.ingest: a symlink
in the repo, real files in the wheel; README: Architecture):

    config, errors, records, text, tokens   what every room shares
    index/      the index folder's format: SQLite + vectors, the write lock (the contract with ingest/)
    models/     the embedding model; chat models behind one factory (local llama.cpp, OpenAI-compatible, none)
    retrieve/   search: dense, BM25, hybrid, filters, reranking
    answer/     focus, prompt, follow-ups, the answer loop, citations, the final check
    notes/      related notes, topics, duplicates, the map
    cli/, web/, api/, mcp/, app/   the faces: the only code that sees both ingest/ and the rest of ragqa/
    served      what the long-running faces (api/, mcp/) share: collections, indexes, chat model
    places      where things live with no config file: the user's config and data folders (platformdirs)
"""

__version__ = "0.1.0"  # pyproject.toml reads it from here (`ragqa --version`, the app's footer, /v1/status)
