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

Why the SDK's low-level `Server`, not its FastMCP-style `MCPServer` (measured on this server, mcp 2.3.0): the
same six tools, resources and prompt on MCPServer took 86 lines against 210 here (server.py + schemas.py), and
imports cost the same (0.55 s), but MCPServer (1) lists resources in one reply, with no cursor, so paging needs
its private `_lowlevel_server`; (2) answers bad arguments with pydantic's multi-line dump after "Error executing
tool ...", where ragqa's rule is one line that says what to do; (3) returns a list as one text block per item,
not the CLI's JSON; (4) keeps each tool's parameters in its signature, a second copy of the argument models.
"""
