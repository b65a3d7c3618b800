"""Opening an MCP client session over any of the three transports."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import httpx2
import mcp_types
from mcp import ClientSession
from mcp.client.session import ElicitationFnT, ListRootsFnT, SamplingFnT
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from ._config import McpServerParams, SseServerParams, StdioServerParams, StreamableHttpServerParams
from ._stdio_transport import StdioConnection, open_stdio_transport

__all__ = ["Connection", "create_mcp_server_session", "list_all_tools", "open_connection", "roots_callback_for"]

CLIENT_INFO = mcp_types.Implementation(name="salon-mcp", version="0.1.0")


@dataclass
class Connection:
    """An open, not yet initialized session and, for a stdio server, its process."""

    session: ClientSession
    stdio: StdioConnection | None = None


async def list_all_tools(session: ClientSession) -> list[mcp_types.Tool]:
    """Every tool of the server, following ``next_cursor`` through all pages."""
    tools: list[mcp_types.Tool] = []
    cursor: str | None = None
    while True:
        page = await session.list_tools(params=mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools


def roots_callback_for(roots: Sequence[str] | None) -> ListRootsFnT | None:
    """A ``roots/list`` answer listing ``roots`` (file URIs or paths), or ``None`` to not offer roots."""
    if roots is None:
        return None
    listed = [mcp_types.Root(uri=root if "://" in root else f"file://{root}") for root in roots]  # type: ignore[arg-type]

    async def list_roots(context: object) -> mcp_types.ListRootsResult:
        return mcp_types.ListRootsResult(roots=listed)

    return list_roots


def _session(
    read: object,
    write: object,
    read_timeout: float,
    sampling_callback: SamplingFnT | None,
    elicitation_callback: ElicitationFnT | None,
    list_roots_callback: ListRootsFnT | None,
) -> ClientSession:
    return ClientSession(
        read,  # type: ignore[arg-type]
        write,  # type: ignore[arg-type]
        read_timeout_seconds=read_timeout,
        sampling_callback=sampling_callback,
        elicitation_callback=elicitation_callback,
        list_roots_callback=list_roots_callback,
        client_info=CLIENT_INFO,
    )


@contextlib.asynccontextmanager
async def open_connection(
    server_params: McpServerParams,
    *,
    sampling_callback: SamplingFnT | None = None,
    elicitation_callback: ElicitationFnT | None = None,
    list_roots_callback: ListRootsFnT | None = None,
) -> AsyncIterator[Connection]:
    """Open the transport and a session on it; both close when the block exits."""
    callbacks = (sampling_callback, elicitation_callback, list_roots_callback)
    if isinstance(server_params, StdioServerParams):
        async with open_stdio_transport(server_params) as stdio:
            session = _session(stdio.read_stream, stdio.write_stream, server_params.read_timeout_seconds, *callbacks)
            async with session:
                yield Connection(session, stdio)
    elif isinstance(server_params, SseServerParams):
        async with (
            sse_client(
                server_params.url,
                headers=server_params.headers,
                timeout=server_params.timeout,
                sse_read_timeout=server_params.sse_read_timeout,
            ) as (read, write),
            _session(read, write, server_params.sse_read_timeout, *callbacks) as session,
        ):
            yield Connection(session)
    elif isinstance(server_params, StreamableHttpServerParams):
        headers = {str(k): str(v) for k, v in (server_params.headers or {}).items()}
        http_timeout = httpx2.Timeout(server_params.timeout, read=server_params.sse_read_timeout)
        terminate = server_params.terminate_on_close
        async with (
            create_mcp_http_client(headers=headers, timeout=http_timeout) as http_client,
            streamable_http_client(server_params.url, http_client=http_client, terminate_on_close=terminate) as (
                read,
                write,
            ),
            _session(read, write, server_params.sse_read_timeout, *callbacks) as session,
        ):
            yield Connection(session)
    else:
        raise TypeError(
            f"Unsupported server params {type(server_params).__name__}: "
            "use StdioServerParams, SseServerParams or StreamableHttpServerParams."
        )


@contextlib.asynccontextmanager
async def create_mcp_server_session(
    server_params: McpServerParams,
    sampling_callback: SamplingFnT | None = None,
    *,
    elicitation_callback: ElicitationFnT | None = None,
    list_roots_callback: ListRootsFnT | None = None,
) -> AsyncIterator[ClientSession]:
    """Open an MCP client session to the server; call ``await session.initialize()`` before using it.

    The session (and, for a stdio server, the server process) lives until the ``async with`` block
    exits. Pass it to :func:`mcp_server_tools` to share it between tools.

    Args:
        server_params: Where the server is.
        sampling_callback: Answers the server's sampling requests (the SDK refuses them without one).
        elicitation_callback: Answers the server's elicitation requests (Salon addition).
        list_roots_callback: Answers the server's ``roots/list`` requests (Salon addition).
    """
    async with open_connection(
        server_params,
        sampling_callback=sampling_callback,
        elicitation_callback=elicitation_callback,
        list_roots_callback=list_roots_callback,
    ) as connection:
        yield connection.session
