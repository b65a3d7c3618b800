"""The stdio transport: an MCP server as a child process, newline-delimited JSON-RPC on its pipes.

The mcp SDK has its own ``stdio_client``; Salon uses this one because it keeps the process in reach:
its exit code and stderr go into the error when the server fails to start or dies, and the workbench
can tell a dead server from a slow one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import IO

import anyio
import anyio.abc
import mcp_types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from anyio.streams.text import TextReceiveStream
from mcp.client.stdio import get_default_environment
from mcp.shared.message import SessionMessage

from ._config import StdioServerParams
from ._errors import McpServerStartError

__all__ = ["StdioConnection", "open_stdio_transport"]

_EXIT_GRACE_SECONDS = 2.0
_TERM_GRACE_SECONDS = 2.0


@dataclass
class StdioConnection:
    """A running server process and the streams the MCP session reads and writes."""

    params: StdioServerParams
    process: anyio.abc.Process
    stderr_file: IO[str]
    read_stream: MemoryObjectReceiveStream[SessionMessage | Exception]
    write_stream: MemoryObjectSendStream[SessionMessage]
    stdout_closed: anyio.Event = field(default_factory=anyio.Event)

    @property
    def exit_code(self) -> int | None:
        """The process's exit status, ``None`` while it runs."""
        return self.process.returncode

    def stderr_text(self) -> str:
        """Everything the server has written on stderr so far."""
        with contextlib.suppress(OSError, ValueError):
            self.stderr_file.flush()
            self.stderr_file.seek(0)
            return self.stderr_file.read()
        return ""

    async def wait_exit(self, seconds: float) -> int | None:
        """Wait up to ``seconds`` for the process to exit; its exit code, or ``None`` if it still runs."""
        with anyio.move_on_after(seconds):
            while self.process.returncode is None:  # noqa: ASYNC110 - asyncio's wait() also waits for pipe EOF
                await anyio.sleep(0.01)
        return self.process.returncode


def _kill_group(process: anyio.abc.Process, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


async def _stop(connection: StdioConnection) -> None:
    """Close stdin, give the server a moment to exit, then SIGTERM and SIGKILL its process group."""
    process = connection.process
    if process.stdin is not None:
        with contextlib.suppress(Exception):
            await process.stdin.aclose()
    if await connection.wait_exit(_EXIT_GRACE_SECONDS) is None:
        _kill_group(process, signal.SIGTERM)
        if await connection.wait_exit(_TERM_GRACE_SECONDS) is None:
            _kill_group(process, signal.SIGKILL)
            await connection.wait_exit(_TERM_GRACE_SECONDS)
    # A grandchild may still hold the pipes open; the group kill above reaches it too.
    _kill_group(process, signal.SIGKILL)
    with contextlib.suppress(Exception):
        await process.aclose()


@contextlib.asynccontextmanager
async def open_stdio_transport(params: StdioServerParams) -> AsyncIterator[StdioConnection]:
    """Start the server process and bridge its pipes to memory streams for ``ClientSession``.

    Raises:
        McpServerStartError: The command could not be run (not found, not executable, bad directory).
    """
    env = get_default_environment() | (params.env or {})
    stderr_file = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")  # noqa: SIM115
    try:
        process = await anyio.open_process(
            [params.command, *params.args],
            env=env,
            cwd=params.cwd,
            stderr=stderr_file,
            start_new_session=True,
        )
    except OSError as e:
        stderr_file.close()
        raise McpServerStartError(
            f"{type(e).__name__}: {e}. Check that the command is installed and on PATH "
            "(the server gets only a small safe subset of this environment; pass more with `env`).",
            command_line=f"`{params.command_line()}`",
        ) from e

    incoming_send, incoming_recv = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    outgoing_send, outgoing_recv = anyio.create_memory_object_stream[SessionMessage](0)
    connection = StdioConnection(params, process, stderr_file, incoming_recv, outgoing_send)

    async def read_stdout() -> None:
        assert process.stdout is not None
        buffered = ""
        try:
            async with incoming_send:
                chunks = TextReceiveStream(
                    process.stdout, encoding=params.encoding, errors=params.encoding_error_handler
                )
                async for chunk in chunks:
                    *lines, buffered = (buffered + chunk).split("\n")
                    for line in lines:
                        if not line.strip():
                            continue
                        try:
                            message: SessionMessage | Exception = SessionMessage(
                                mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False)
                            )
                        except ValueError as e:
                            message = e
                        await incoming_send.send(message)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            pass
        finally:
            connection.stdout_closed.set()

    async def write_stdin() -> None:
        assert process.stdin is not None
        try:
            async with outgoing_recv:
                async for message in outgoing_recv:
                    data = message.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
                    await process.stdin.send(data.encode(params.encoding, errors=params.encoding_error_handler))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            # The server stopped reading (it died): end the session's view of the connection too.
            await incoming_send.aclose()

    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(read_stdout)
            tasks.start_soon(write_stdin)
            try:
                yield connection
            finally:
                with anyio.CancelScope(shield=True):
                    outgoing_send.close()
                    incoming_recv.close()
                    await _stop(connection)
                tasks.cancel_scope.cancel()
    finally:
        stderr_file.close()
