"""Salon's own MCP test server, written with the mcp SDK's ``MCPServer``.

It serves the workbench conformance tools (``add``, ``echo``, ``greet``, ``ping``, ``fail``, ``wait``) plus
tools that exercise the client: ``crash`` (the process dies mid-call), ``sample`` (asks the client's model
through MCP sampling), ``roots`` (asks the client for its roots), ``ask`` (elicitation), ``picture`` (returns an image),
``counter`` (state kept per client session), ``pid`` (which process answers), and a prompt, a resource
and a resource template.

Run it as ``python demo_server.py stdio`` or ``python demo_server.py sse|streamable-http PORT``.
"""

from __future__ import annotations

import asyncio
import os
import sys
import warnings
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ImageContent, SamplingMessage, TextContent
from pydantic import BaseModel, Field

# A valid one-pixel PNG.
PIXEL_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

# Sampling is deprecated in the 2026 protocol revision but still served; keep stderr for real problems.
warnings.filterwarnings("ignore", message=".*sampling capability is deprecated.*")

server = MCPServer("salon-demo", instructions="Test server for salon-mcp.", log_level="CRITICAL")
_counts: dict[int, tuple[object, int]] = {}  # per client session, so one HTTP server serves many tests


@server.tool(description="Add two integers.")
def add(
    augend: Annotated[int, Field(description="The number to add to")],
    addend: Annotated[int, Field(description="The number to add")],
) -> int:
    return augend + addend


@server.tool(description="Send the text back unchanged.")
async def echo(text: Annotated[str, Field(description="The text to send back")]) -> str:
    return text


@server.tool(description="Greet someone.")
def greet(
    name: Annotated[str, Field(description="Who to greet")],
    punctuation: Annotated[str, Field(description="How to end")] = "!",
) -> str:
    return f"Hello, {name}{punctuation}"


@server.tool(description="Answer pong.")
def ping() -> str:
    return "pong"


@server.tool(description="Fail with the given reason.")
def fail(reason: Annotated[str, Field(description="Why the tool fails")]) -> str:
    raise ToolError(reason)


@server.tool(description="Wait for a number of seconds.")
async def wait(seconds: Annotated[float, Field(description="How long to wait")]) -> str:
    await asyncio.sleep(seconds)
    return "done"


@server.tool(description="Kill this server process in the middle of the call.")
def crash() -> str:
    sys.stderr.write("demo server: crashing on purpose\n")
    sys.stderr.flush()
    os._exit(3)


@server.tool(description="Count this session's calls of this tool.")
def counter(ctx: Context) -> int:
    # The connection's initialize parameters are one object per client session; holding it keeps its id unique.
    params = ctx.session.client_params
    _, count = _counts.get(id(params), (params, 0))
    _counts[id(params)] = (params, count + 1)
    return count + 1


@server.tool(description="Report this server's process id.")
def pid() -> int:
    return os.getpid()


@server.tool(description="Return a one-pixel image and a caption.")
def picture() -> list[TextContent | ImageContent]:
    return [
        TextContent(type="text", text="a pixel"),
        ImageContent(type="image", data=PIXEL_PNG, mime_type="image/png"),
    ]


@server.tool(description="Ask the client's model to complete a prompt (MCP sampling).")
async def sample(prompt: str, ctx: Context) -> str:
    result = await ctx.session.create_message(
        [SamplingMessage(role="user", content=TextContent(type="text", text=prompt))],
        max_tokens=50,
        system_prompt="You are terse.",
    )
    content = result.content
    return f"model {result.model} said: {content.text if isinstance(content, TextContent) else content}"


@server.tool(description="List the roots the client offers.")
async def roots(ctx: Context) -> str:
    listed = await ctx.session.list_roots()
    return "\n".join(str(root.uri) for root in listed.roots)


class Answer(BaseModel):
    colour: str


@server.tool(description="Ask the user a question (MCP elicitation).")
async def ask(ctx: Context) -> str:
    result = await ctx.elicit("What is your favourite colour?", Answer)
    if result.action == "accept":
        return f"the user likes {result.data.colour}"
    return f"the user chose to {result.action}"


@server.prompt(description="A prompt that asks for a code review.")
def review(code: str) -> str:
    return f"Please review this code:\n{code}"


@server.resource("demo://greeting", description="A fixed greeting.", mime_type="text/plain")
def greeting() -> str:
    return "Hello from the demo server"


@server.resource("demo://users/{user_id}", description="A user's profile.", mime_type="text/plain")
def user_profile(user_id: str) -> str:
    return f"profile of {user_id}"


def main() -> None:
    transport = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if transport == "stdio":
        server.run("stdio")
        return
    import uvicorn

    port = int(sys.argv[2])
    if transport == "sse":
        app = server.sse_app()
    elif transport == "streamable-http":
        app = server.streamable_http_app()
    else:
        raise SystemExit(f"unknown transport {transport!r}: use stdio, sse or streamable-http")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
