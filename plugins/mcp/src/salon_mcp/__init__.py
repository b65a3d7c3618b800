"""salon-mcp: MCP servers as Salon tools and workbenches (the port of ``autogen_ext.tools.mcp``).

``from salon_mcp import McpWorkbench, StdioServerParams`` replaces
``from autogen_ext.tools.mcp import McpWorkbench, StdioServerParams``; it is built on the mcp SDK 2.x.
In a config::

    workbenches:
      files: {use: mcp, options: {server: {type: StdioServerParams, command: my-mcp-server}}}

Salon imports this module for every ``salon`` command, so the mcp SDK loads only on first use.
See ``docs/plugins/mcp.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from salon.hookspecs import Register, hookimpl

if TYPE_CHECKING:
    from ._actor import McpSessionActor
    from ._adapters import McpToolAdapter, SseMcpToolAdapter, StdioMcpToolAdapter, StreamableHttpMcpToolAdapter
    from ._agent_server import AgentMcpServer, agent_mcp_server
    from ._config import McpServerParams, SseServerParams, StdioServerParams, StreamableHttpServerParams
    from ._errors import McpConnectionError, McpServerStartError
    from ._factory import mcp_server_tools
    from ._options import McpWorkbenchOptions
    from ._session import create_mcp_server_session
    from ._workbench import McpWorkbench, McpWorkbenchState

__version__ = "0.1.0"

__all__ = [
    "AgentMcpServer",
    "McpConnectionError",
    "McpServerParams",
    "McpServerStartError",
    "McpSessionActor",
    "McpToolAdapter",
    "McpWorkbench",
    "McpWorkbenchOptions",
    "McpWorkbenchState",
    "SseMcpToolAdapter",
    "SseServerParams",
    "StdioMcpToolAdapter",
    "StdioServerParams",
    "StreamableHttpMcpToolAdapter",
    "StreamableHttpServerParams",
    "agent_mcp_server",
    "create_mcp_server_session",
    "mcp_server_tools",
    "register_commands",
    "register_workbenches",
]

_LAZY: dict[str, str] = {
    "McpConnectionError": "salon_mcp._errors",
    "McpServerStartError": "salon_mcp._errors",
    "McpServerParams": "salon_mcp._config",
    "SseServerParams": "salon_mcp._config",
    "StdioServerParams": "salon_mcp._config",
    "StreamableHttpServerParams": "salon_mcp._config",
    "McpSessionActor": "salon_mcp._actor",
    "McpToolAdapter": "salon_mcp._adapters",
    "SseMcpToolAdapter": "salon_mcp._adapters",
    "StdioMcpToolAdapter": "salon_mcp._adapters",
    "StreamableHttpMcpToolAdapter": "salon_mcp._adapters",
    "McpWorkbench": "salon_mcp._workbench",
    "McpWorkbenchState": "salon_mcp._workbench",
    "McpWorkbenchOptions": "salon_mcp._options",
    "create_mcp_server_session": "salon_mcp._session",
    "mcp_server_tools": "salon_mcp._factory",
    "AgentMcpServer": "salon_mcp._agent_server",
    "agent_mcp_server": "salon_mcp._agent_server",
}


def __getattr__(name: str) -> Any:
    """Import the public names on first access, so loading the plugin does not import the mcp SDK."""
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'salon_mcp' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _options_model() -> type[McpWorkbenchOptions]:
    from ._options import McpWorkbenchOptions

    return McpWorkbenchOptions


def _make_mcp(**options: Any) -> McpWorkbench:
    """Build the workbench from validated options (it starts on first use or ``start()``).

    Options may arrive as validated models or as their plain-data dump; both are accepted.
    """
    from pydantic import TypeAdapter

    from salon.tools import ToolOverride

    from ._config import McpServerParams
    from ._workbench import McpWorkbench

    server = TypeAdapter(McpServerParams).validate_python(options["server"])
    overrides = {
        name: override if isinstance(override, ToolOverride) else ToolOverride.model_validate(override)
        for name, override in (options.get("tool_overrides") or {}).items()
    }
    return McpWorkbench(
        server,
        tool_overrides=overrides or None,
        model_client=options.get("model_client"),
        roots=options.get("roots"),
    )


@hookimpl
def register_workbenches(register: Register) -> None:
    """Register ``mcp``."""
    register(
        "mcp",
        _make_mcp,
        options=_options_model,
        description="McpWorkbench: the tools, prompts and resources of an MCP server (stdio, SSE, streamable HTTP).",
    )


@hookimpl
def register_commands(cli: Any) -> None:
    """Add ``salon mcp serve``; its module imports only the standard library until the command runs."""
    from ._cli import add_mcp_commands

    add_mcp_commands(cli)
