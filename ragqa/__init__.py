"""ragqa: ask questions of your own notes, offline, with answers that cite them.

The rooms, in the order a question goes through them (ingest/, beside this package, is the write path):

    config, errors, records, text, tokens   what every room shares
    index/      the index folder's format: SQLite + vectors, the write lock (the contract with ingest/)
    models/     the embedding model; chat models behind one factory (local llama.cpp, OpenAI-compatible, none)
    retrieve/   search: dense, BM25, hybrid, filters, reranking
    answer/     focus, prompt, follow-ups, the answer loop, citations, the final check
    notes/      related notes, topics, duplicates, the map
    cli/, web/, api/, mcp/   the faces (with app.py): the only code that sees both ingest/ and ragqa/
    served      what the long-running faces (api/, mcp/) share: collections, indexes, chat model
"""
