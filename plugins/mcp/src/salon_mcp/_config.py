"""Where an MCP server is: a command to start over stdio, or a URL speaking SSE or streamable HTTP."""

from __future__ import annotations

import shlex
from typing import Annotated, Any, Literal

from mcp import StdioServerParameters
from pydantic import BaseModel, Field

__all__ = ["McpServerParams", "SseServerParams", "StdioServerParams", "StreamableHttpServerParams"]


class StdioServerParams(StdioServerParameters):
    """Start an MCP server as a child process and talk to it over its stdin and stdout.

    The fields are the mcp SDK's ``StdioServerParameters`` (``command``, ``args``, ``env``, ``cwd``,
    ``encoding``, ``encoding_error_handler``) plus the two AutoGen adds. ``env`` is merged over a small
    safe subset of this process's environment (``PATH``, ``HOME``...), never the whole of it, so secrets in
    the parent's environment do not leak into the server unless named here.

    Attributes:
        type: Tells the three kinds of parameters apart in configs and JSON.
        read_timeout_seconds: How long any one request (a tool call included) may wait for its answer.
    """

    type: Literal["StdioServerParams"] = "StdioServerParams"
    read_timeout_seconds: float = 5

    def command_line(self) -> str:
        """The command as a shell would show it, for error messages."""
        return shlex.join([self.command, *self.args])


class SseServerParams(BaseModel):
    """Connect to an MCP server over the (older) HTTP+SSE transport.

    Attributes:
        type: Tells the three kinds of parameters apart in configs and JSON.
        url: The SSE endpoint, e.g. ``http://127.0.0.1:8931/sse``.
        headers: Extra HTTP headers on every request (authorization, for instance).
        timeout: Seconds allowed for connecting and for ordinary HTTP operations.
        sse_read_timeout: Seconds to wait for the next event, and for any one request's answer.
    """

    type: Literal["SseServerParams"] = "SseServerParams"
    url: str
    headers: dict[str, Any] | None = None
    timeout: float = 5
    sse_read_timeout: float = 60 * 5


class StreamableHttpServerParams(BaseModel):
    """Connect to an MCP server over the streamable HTTP transport.

    Attributes:
        type: Tells the three kinds of parameters apart in configs and JSON.
        url: The MCP endpoint, e.g. ``http://127.0.0.1:8000/mcp``.
        headers: Extra HTTP headers on every request.
        timeout: Seconds allowed for connecting and for ordinary HTTP operations.
        sse_read_timeout: Seconds to wait on a response stream, and for any one request's answer.
        terminate_on_close: Ask the server to end the MCP session (HTTP ``DELETE``) when disconnecting.
    """

    type: Literal["StreamableHttpServerParams"] = "StreamableHttpServerParams"
    url: str
    headers: dict[str, Any] | None = None
    timeout: float = 30.0
    sse_read_timeout: float = 300.0
    terminate_on_close: bool = True


McpServerParams = Annotated[
    StdioServerParams | SseServerParams | StreamableHttpServerParams, Field(discriminator="type")
]
"""Any of the three, told apart by ``type`` when loaded from a config or JSON."""


def describe_server(params: StdioServerParams | SseServerParams | StreamableHttpServerParams) -> str:
    """A short description of the server for error messages: its command line or its URL."""
    if isinstance(params, StdioServerParams):
        return f"`{params.command_line()}`"
    return params.url
