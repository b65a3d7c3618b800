"""Fixtures: the demo MCP server over each transport, and the third-party servers CI installs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import salon_mcp_test_servers
from salon_mcp import McpServerParams
from salon_mcp_test_servers import TRANSPORTS, HttpDemoServer, Transport, demo_stdio_params


@pytest.fixture
def sse_server() -> Iterator[HttpDemoServer]:
    """A fresh demo server speaking SSE, stopped after the test."""
    server = HttpDemoServer("sse").start()
    yield server
    server.stop()


@pytest.fixture
def http_server() -> Iterator[HttpDemoServer]:
    """A fresh demo server speaking streamable HTTP, stopped after the test."""
    server = HttpDemoServer("streamable-http").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def shared_sse_server() -> Iterator[HttpDemoServer]:
    """One demo server speaking SSE for the whole run (tests that crash a server start their own)."""
    server = HttpDemoServer("sse").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def shared_http_server() -> Iterator[HttpDemoServer]:
    """One demo server speaking streamable HTTP for the whole run."""
    server = HttpDemoServer("streamable-http").start()
    yield server
    server.stop()


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> Transport:
    """Each transport in turn."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def server_params(transport: Transport, request: pytest.FixtureRequest) -> McpServerParams:
    """Parameters for the demo server over ``transport``: a new process (stdio) or a new HTTP session."""
    if transport == "stdio":
        return demo_stdio_params()
    fixture = "shared_sse_server" if transport == "sse" else "shared_http_server"
    server: HttpDemoServer = request.getfixturevalue(fixture)
    return server.params()


@pytest.fixture(scope="session")
def third_party_bin() -> Path:
    """The ``bin`` directory of the third-party MCP servers' venv (failing, never skipping)."""
    return salon_mcp_test_servers.third_party_bin()
