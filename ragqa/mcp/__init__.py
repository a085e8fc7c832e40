"""The MCP face of ragqa (`ragqa mcp`): the notes as tools, resources and a prompt for any AI assistant that
speaks the Model Context Protocol. Like the CLI it is a face: it may see both the write path and the read path.

    transports.py   stdio and Streamable HTTP (`serve_stdio`, `serve_http`)
    server.py       the SDK's low-level Server: tools, paged resources, the prompt
    catalog.py      what the calling model reads: tool descriptions, instructions, the prompt's text
    schemas.py      each tool's arguments (pydantic), hence its JSON schema
    tools.py        what each tool does, over `ragqa.served.Served` (shared with the HTTP API)
    notes.py        one note's text, and the list of indexed notes
    paths.py        which note a client's path or URI means (the only place that decides)
    warmup.py       the embedding model, loaded in the background
"""
