"""Single MCP tools as Salon tools: the adapters that ``mcp_server_tools`` returns."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import mcp_types
from mcp import ClientSession
from pydantic import BaseModel

from salon import CancellationToken
from salon.tools import BaseTool, ToolSchema

from ._actor import McpSessionActor, is_connection_failure, unwrap_exception
from ._args_model import arguments_model
from ._config import (
    McpServerParams,
    SseServerParams,
    StdioServerParams,
    StreamableHttpServerParams,
    describe_server,
)
from ._errors import McpConnectionError
from ._results import tool_schema
from ._session import create_mcp_server_session

__all__ = ["McpToolAdapter", "SseMcpToolAdapter", "StdioMcpToolAdapter", "StreamableHttpMcpToolAdapter"]

ParamsT = TypeVar("ParamsT", StdioServerParams, SseServerParams, StreamableHttpServerParams)

ContentBlock = (
    mcp_types.TextContent
    | mcp_types.ImageContent
    | mcp_types.AudioContent
    | mcp_types.EmbeddedResource
    | mcp_types.ResourceLink
)


def _dump(item: Any) -> Any:
    if isinstance(item, BaseModel):
        return item.model_dump(mode="json", by_alias=True, exclude_none=True)
    return str(item)


class McpToolAdapter(BaseTool[BaseModel, Any], Generic[ParamsT]):
    """One tool of an MCP server as a Salon :class:`~salon.tools.BaseTool`.

    Where the calls go: the ``session`` given (you manage its life), else the shared
    :class:`McpSessionActor` given (what :func:`mcp_server_tools` hands all the tools of one server), else
    a session of the adapter's own, opened on the first call and kept for the next ones. AutoGen 0.7.5
    starts a new session (for stdio: a new server process) for every call made without a session; Salon
    keeps one, so calls are fast and a server's state (a browser page, an open file) survives between
    them. A session of the adapter's own that broke (the server died) is replaced on the next call.

    A call returns the server's content blocks; a call the server reports as failed raises an exception
    carrying the content as JSON, as in AutoGen (a workbench turns it into an error result).

    Args:
        server_params: Where the server is.
        tool: The tool as the server listed it.
        session: An initialized session to use for every call.
        actor: A session owner shared with other adapters (used when ``session`` is not given).
    """

    def __init__(
        self,
        server_params: ParamsT,
        tool: mcp_types.Tool,
        session: ClientSession | None = None,
        *,
        actor: McpSessionActor | None = None,
    ) -> None:
        self._tool = tool
        self._server_params: ParamsT = server_params
        self._session = session
        self._actor = actor
        super().__init__(arguments_model(tool.name, tool.input_schema or {}), object, tool.name, tool.description or "")

    @property
    def server_params(self) -> ParamsT:
        """Where the server is."""
        return self._server_params

    @property
    def tool(self) -> mcp_types.Tool:
        """The tool as the server listed it."""
        return self._tool

    @property
    def schema(self) -> ToolSchema:
        """The server's own input schema (richer than the arguments model built from it)."""
        return tool_schema(self._tool)

    async def _live_session(self) -> ClientSession:
        if self._session is not None:
            return self._session
        if self._actor is None:
            self._actor = McpSessionActor(self._server_params)
        if not self._actor.is_alive:
            await self._actor.close()
            await self._actor.initialize()
        return self._actor.session

    async def run(self, args: BaseModel, cancellation_token: CancellationToken) -> list[ContentBlock]:
        """Call the tool with the arguments the caller set (unset optional ones are not sent).

        Raises:
            Exception: The server reported the call as failed; the message is the content as JSON.
            McpConnectionError: The server went away during the call (its exit code and stderr are in the
                message); the next call opens a new session.
            asyncio.CancelledError: The token was cancelled.
        """
        if cancellation_token.is_cancelled():
            raise asyncio.CancelledError(f"the call to {self.name!r} was cancelled")
        arguments = args.model_dump(exclude_unset=True, by_alias=True)
        session = await self._live_session()
        request = asyncio.ensure_future(session.call_tool(self._tool.name, arguments))
        cancellation_token.link_future(request)
        try:
            result = await request
        except asyncio.CancelledError:
            raise
        except Exception as e:
            actor = self._actor
            if actor is not None and self._session is None and is_connection_failure(unwrap_exception(e)):
                actor.mark_broken()
                await actor.settle()
                raise McpConnectionError(
                    f"The call to {self.name!r} failed because the MCP server went away: {actor.describe_death()}\n"
                    "The next call starts a new session.",
                    server=describe_server(self._server_params),
                ) from e
            raise
        content: list[ContentBlock] = list(result.content)
        if result.is_error:
            raise Exception(self.return_value_as_string(content))
        return content

    def return_value_as_string(self, value: Any) -> str:
        """Content blocks as a JSON list (AutoGen's rendering); anything else with ``str``."""
        if isinstance(value, Sequence) and not isinstance(value, str):
            return json.dumps([_dump(item) for item in value])
        return str(value)

    async def close(self) -> None:
        """Close the session this adapter opened; a shared one closes for every tool sharing it (reopened on use)."""
        if self._actor is not None and self._session is None:
            await self._actor.close()

    @classmethod
    async def from_server_params(cls, server_params: ParamsT, tool_name: str) -> McpToolAdapter[ParamsT]:
        """Look ``tool_name`` up on the server and wrap it.

        Raises:
            ValueError: The server has no such tool; the message lists the ones it has.
        """
        async with create_mcp_server_session(server_params) as session:
            await session.initialize()
            listed = await session.list_tools()
        for tool in listed.tools:
            if tool.name == tool_name:
                return cls(server_params=server_params, tool=tool)
        names = ", ".join(tool.name for tool in listed.tools) or "none"
        raise ValueError(f"Tool {tool_name!r} not found on the MCP server; available tools: {names}.")


class StdioMcpToolAdapter(McpToolAdapter[StdioServerParams]):
    """An MCP tool served by a local process over stdio (see :class:`McpToolAdapter`)."""


class SseMcpToolAdapter(McpToolAdapter[SseServerParams]):
    """An MCP tool served over HTTP+SSE (see :class:`McpToolAdapter`)."""


class StreamableHttpMcpToolAdapter(McpToolAdapter[StreamableHttpServerParams]):
    """An MCP tool served over streamable HTTP (see :class:`McpToolAdapter`)."""


def adapter_class(server_params: McpServerParams) -> type[McpToolAdapter[Any]]:
    """The adapter class for the kind of ``server_params``."""
    if isinstance(server_params, StdioServerParams):
        return StdioMcpToolAdapter
    if isinstance(server_params, SseServerParams):
        return SseMcpToolAdapter
    if isinstance(server_params, StreamableHttpServerParams):
        return StreamableHttpMcpToolAdapter
    raise TypeError(
        f"Unsupported server params {type(server_params).__name__}: "
        "use StdioServerParams, SseServerParams or StreamableHttpServerParams."
    )
