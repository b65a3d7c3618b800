"""The workbench conformance suite against McpWorkbench, over all three transports.

The suite hands ``make_workbench`` Python tools; an MCP workbench cannot take them, so it is pointed at
the demo server, which serves equivalents under the same names (``servers/demo_server.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import pytest

from salon.testing import WorkbenchConformanceSuite
from salon.tools import Tool, Workbench
from salon_mcp import McpWorkbench
from salon_mcp_test_servers import HttpDemoServer, demo_stdio_params


class TestStdioConformance(WorkbenchConformanceSuite):
    """Every workbench is a new session with its own server process."""

    async def make_workbench(self, tools: Sequence[Tool]) -> Workbench:
        return McpWorkbench(demo_stdio_params())


class TestSseConformance(WorkbenchConformanceSuite):
    """Every workbench is a new SSE session to one server process."""

    server: ClassVar[HttpDemoServer]

    @pytest.fixture(autouse=True)
    def _server(self, shared_sse_server: HttpDemoServer) -> None:
        type(self).server = shared_sse_server

    async def make_workbench(self, tools: Sequence[Tool]) -> Workbench:
        return McpWorkbench(self.server.params())


class TestStreamableHttpConformance(WorkbenchConformanceSuite):
    """Every workbench is a new streamable HTTP session to one server process."""

    server: ClassVar[HttpDemoServer]

    @pytest.fixture(autouse=True)
    def _server(self, shared_http_server: HttpDemoServer) -> None:
        type(self).server = shared_http_server

    async def make_workbench(self, tools: Sequence[Tool]) -> Workbench:
        return McpWorkbench(self.server.params())
