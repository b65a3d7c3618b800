"""Helpers for salon-mcp's tests: run the demo MCP server over stdio, SSE or streamable HTTP.

HTTP servers are real uvicorn processes on 127.0.0.1, on a free port, started and stopped by the test
(a process, not a thread, so a tool can kill it mid-call). Imported by the tests as a plain module
(pytest puts this directory on ``sys.path``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal

from salon_mcp import SseServerParams, StdioServerParams, StreamableHttpServerParams

HERE = Path(__file__).resolve().parent
DEMO_SERVER = HERE / "servers" / "demo_server.py"

Transport = Literal["stdio", "sse", "streamable-http"]
TRANSPORTS: tuple[Transport, ...] = ("stdio", "sse", "streamable-http")

_START_TIMEOUT = 20.0


def demo_stdio_params(**fields: object) -> StdioServerParams:
    """Parameters that start the demo server over stdio with this Python."""
    return StdioServerParams(command=sys.executable, args=[str(DEMO_SERVER), "stdio"], **fields)  # type: ignore[arg-type]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HttpDemoServer:
    """The demo server as a uvicorn process speaking SSE or streamable HTTP on 127.0.0.1."""

    def __init__(self, transport: Literal["sse", "streamable-http"]) -> None:
        self.transport = transport
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The MCP endpoint."""
        path = "/sse" if self.transport == "sse" else "/mcp"
        return f"http://127.0.0.1:{self.port}{path}"

    def params(self, **fields: object) -> SseServerParams | StreamableHttpServerParams:
        """Client parameters for this server."""
        if self.transport == "sse":
            return SseServerParams(url=self.url, **fields)  # type: ignore[arg-type]
        return StreamableHttpServerParams(url=self.url, **fields)  # type: ignore[arg-type]

    def start(self) -> HttpDemoServer:
        """Start the process and wait until it accepts connections (fails the test if it never does)."""
        self.process = subprocess.Popen(
            [sys.executable, str(DEMO_SERVER), self.transport, str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"the demo {self.transport} server exited with {self.process.returncode}: {err}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"the demo {self.transport} server did not listen on port {self.port} in time")

    def wait_exit(self, timeout: float = 10.0) -> int:
        """Wait for the process to end by itself (after a crash); its exit code."""
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL)."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr is not None:
            process.stderr.close()


THIRD_PARTY_INSTALL_HINT = (
    "Run `bash plugins/mcp/scripts/install-test-servers.sh` and export SALON_MCP_THIRD_PARTY_DIR to the "
    "directory it prints (CI does both in .ci/run, section 3)."
)


def third_party_bin() -> Path:
    """The ``bin`` directory of the venv holding the third-party MCP servers (failing, never skipping).

    Found through ``SALON_MCP_THIRD_PARTY_DIR``, else in the install script's default cache directory.
    """
    import pytest

    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "salon-ci" / "mcp-servers"
    bin_dir = Path(os.environ.get("SALON_MCP_THIRD_PARTY_DIR") or default) / "venv" / "bin"
    for name in ("mcp-server-time", "mcp-server-fetch"):
        if not (bin_dir / name).is_file():
            pytest.fail(
                f"{bin_dir / name} is missing: the third-party MCP servers are not installed. "
                f"{THIRD_PARTY_INSTALL_HINT}",
                pytrace=False,
            )
    return bin_dir


@contextlib.contextmanager
def served_page(path: str, html: str) -> Iterator[str]:
    """Serve ``html`` at ``path`` on 127.0.0.1 (for ``mcp-server-fetch`` to read); yield its URL."""
    body = html.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{path}"
    finally:
        server.shutdown()
        server.server_close()
