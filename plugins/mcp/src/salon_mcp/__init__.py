"""salon-mcp: MCP for Salon: McpWorkbench, mcp_server_tools and server params for stdio, SSE and streamable HTTP."""

from __future__ import annotations

__version__ = "0.1.0"

__all__: list[str] = []
