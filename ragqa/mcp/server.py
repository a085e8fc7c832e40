"""The MCP server object: the tools, every indexed note as a `ragqa://COLLECTION/PATH` resource (listed a page at
a time), and the one prompt, on the SDK's low-level `Server` (ragqa/mcp/__init__.py says why not MCPServer).

A tool's result is one text block holding exactly the JSON the CLI command prints; a problem is a result with
`isError` and one line. Tools run in worker threads, so a long answer never stalls the protocol.
"""
from __future__ import annotations

import base64
import json
import logging

import anyio.to_thread
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from ragqa.errors import RagqaError
from ragqa.mcp import catalog, notes, paths
from ragqa.mcp.schemas import input_schema, problem_line
from ragqa.mcp.tools import Shared

log = logging.getLogger(__name__)

PAGE_SIZE = 200  # resources per resources/list page


def _text(value) -> list[types.ContentBlock]:
    return [types.TextContent(type="text", text=value if isinstance(value, str) else json.dumps(value,
                                                                                                ensure_ascii=False))]


def _refused(line: str) -> types.CallToolResult:
    return types.CallToolResult(content=_text(line), is_error=True)


def _tool_listing(spec: catalog.ToolSpec) -> types.Tool:
    hints = types.ToolAnnotations(title=spec.title, read_only_hint=spec.read_only, destructive_hint=False,
                                  idempotent_hint=spec.read_only, open_world_hint=False)
    return types.Tool(name=spec.name, title=spec.title, description=" ".join(spec.description.split()),
                      input_schema=input_schema(spec.args), annotations=hints)


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"notes:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, _, offset = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "notes" and offset.isdigit():
            return int(offset)
    except (ValueError, UnicodeError):
        pass
    raise MCPError(code=types.INVALID_PARAMS, message="bad cursor: pass back the nextCursor of resources/list")


def make_server(shared: Shared, version: str = "") -> Server:
    """The server over `shared.served` (tools listed once: ingest_notes only when `served.ingest` is set)."""
    specs = catalog.tool_specs(allow_ingest=shared.served.ingest is not None)
    listing = [_tool_listing(spec) for spec in specs.values()]
    schemas = {tool.name: tool.input_schema for tool in listing}

    async def list_tools(ctx, params) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listing)

    async def call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        spec = specs.get(params.name)
        if spec is None:
            return _refused(f"no tool named {params.name!r}: the tools are {', '.join(specs)}")
        try:
            args = spec.args.model_validate(params.arguments or {})
        except ValidationError as err:
            return _refused(problem_line(err))
        try:
            result = await anyio.to_thread.run_sync(spec.run, shared, args)
        except RagqaError as err:
            return _refused(str(err))
        except Exception as err:  # a bug: one line to the client, the traceback to stderr
            log.exception("ragqa mcp: %s failed", params.name)
            return _refused(f"ragqa failed: {type(err).__name__}: {err}")
        return types.CallToolResult(content=_text(result))

    async def list_resources(ctx, params) -> types.ListResourcesResult:
        start = _offset(params.cursor if params else None)
        every = await anyio.to_thread.run_sync(notes.indexed_notes, shared.served.collections)
        page = every[start:start + PAGE_SIZE]
        more = start + PAGE_SIZE < len(every)
        return types.ListResourcesResult(resources=[types.Resource(**row) for row in page],
                                         next_cursor=_cursor(start + PAGE_SIZE) if more else None)

    async def list_templates(ctx, params) -> types.ListResourceTemplatesResult:
        template = types.ResourceTemplate(name="note", title="A note",
                                          uri_template=f"{paths.SCHEME}://{{collection}}/{{+path}}",
                                          description="one indexed note, by collection and path (as search_notes "
                                                      "gives them)")
        return types.ListResourceTemplatesResult(resource_templates=[template])

    async def read_resource(ctx, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        def read() -> dict:
            collection, path = paths.from_uri(params.uri)
            if collection not in shared.served.collections:
                raise RagqaError(f"no collection named {collection!r}: this server has "
                                 f"{', '.join(shared.served.collections)}")
            return notes.note_json(shared.served.collections[collection], path)

        try:
            note = await anyio.to_thread.run_sync(read)
        except RagqaError as err:
            raise MCPError(code=types.INVALID_PARAMS, message=str(err), data={"uri": params.uri}) from None
        mime = notes.MIME.get(note["kind"], "text/plain")
        return types.ReadResourceResult(contents=[types.TextResourceContents(uri=params.uri, text=note["text"],
                                                                             mime_type=mime)])

    async def list_prompts(ctx, params) -> types.ListPromptsResult:
        question = types.PromptArgument(name="question", description="what to ask your notes", required=True)
        return types.ListPromptsResult(prompts=[types.Prompt(name=catalog.PROMPT_NAME, title=catalog.PROMPT_TITLE,
                                                             description=catalog.PROMPT_DESCRIPTION,
                                                             arguments=[question])])

    async def get_prompt(ctx, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        if params.name != catalog.PROMPT_NAME:
            raise MCPError(code=types.INVALID_PARAMS, message=f"no prompt named {params.name!r}: there is "
                                                              f"{catalog.PROMPT_NAME}")
        question = (params.arguments or {}).get("question", "").strip()
        if not question:
            raise MCPError(code=types.INVALID_PARAMS, message="the prompt needs a question")
        message = types.PromptMessage(role="user", content=types.TextContent(type="text",
                                                                             text=catalog.prompt_text(question)))
        return types.GetPromptResult(description=catalog.PROMPT_TITLE, messages=[message])

    return Server("ragqa", version=version, title="ragqa: your notes", instructions=catalog.INSTRUCTIONS,
                  get_tool_input_schema=schemas.get, on_list_tools=list_tools, on_call_tool=call_tool,
                  on_list_resources=list_resources, on_list_resource_templates=list_templates,
                  on_read_resource=read_resource, on_list_prompts=list_prompts, on_get_prompt=get_prompt)
