"""mcp_server_tools: every tool of an MCP server as a Salon tool, all sharing one session."""

from __future__ import annotations

from mcp import ClientSession

from ._actor import McpSessionActor
from ._adapters import SseMcpToolAdapter, StdioMcpToolAdapter, StreamableHttpMcpToolAdapter, adapter_class
from ._config import McpServerParams
from ._session import list_all_tools

__all__ = ["mcp_server_tools"]


async def mcp_server_tools(
    server_params: McpServerParams,
    session: ClientSession | None = None,
) -> list[StdioMcpToolAdapter | SseMcpToolAdapter | StreamableHttpMcpToolAdapter]:
    """Connect to an MCP server and return an adapter for each of its tools, ready for an agent's ``tools``.

    With ``session`` (an initialized session you manage, see :func:`create_mcp_server_session`) the tools
    call through it. Without one, Salon opens ONE session (for a stdio server: one process) and every
    returned tool shares it; it stays open while the event loop runs and is reopened if the server dies.
    AutoGen 0.7.5 instead lists the tools in a throw-away session and then starts a new one for every
    call. To close the shared session early, ``await tools[0].close()``.

    Only connect to servers you trust: a stdio server is a program run on this machine.

    Args:
        server_params: Where the server is.
        session: An initialized session to share.

    Raises:
        McpServerStartError: The server would not start or could not be reached.
    """
    actor: McpSessionActor | None = None
    if session is None:
        actor = McpSessionActor(server_params)
        await actor.initialize()
        tools = await list_all_tools(actor.session)
    else:
        tools = await list_all_tools(session)
    cls = adapter_class(server_params)
    return [cls(server_params, tool, session, actor=actor) for tool in tools]  # type: ignore[misc]
