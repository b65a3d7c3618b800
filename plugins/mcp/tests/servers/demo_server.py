"""Salon's own MCP test server, written with the mcp SDK's ``MCPServer``.

It serves the workbench conformance tools (``add``, ``echo``, ``greet``, ``ping``, ``fail``, ``wait``) plus
tools that exercise the client: ``crash`` (the process dies mid-call), ``sample`` (asks the client's model
through MCP sampling), ``picture`` (returns an image), ``counter`` (state kept by the server process), and
a prompt, a resource and a resource template.

Run it as ``python demo_server.py stdio`` or ``python demo_server.py sse|streamable-http PORT``.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from typing import Annotated

from pydantic import Field

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ImageContent, SamplingMessage, TextContent

# A 1x1 transparent PNG.
PIXEL_PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000105"
        "7e1d7b6e0000000049454e44ae426082"
    )
).decode()

server = MCPServer("salon-demo", instructions="Test server for salon-mcp.", log_level="CRITICAL")
_count = 0


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
    raise RuntimeError(reason)


@server.tool(description="Wait for a number of seconds.")
async def wait(seconds: Annotated[float, Field(description="How long to wait")]) -> str:
    await asyncio.sleep(seconds)
    return "done"


@server.tool(description="Kill this server process in the middle of the call.")
def crash() -> str:
    sys.stderr.write("demo server: crashing on purpose\n")
    sys.stderr.flush()
    os._exit(3)


@server.tool(description="Count calls in this server process.")
def counter() -> int:
    global _count
    _count += 1
    return _count


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
