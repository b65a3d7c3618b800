"""McpSessionActor: one long-lived MCP session, owned by a background task, shared by many callers.

anyio's transports and ``ClientSession`` must be entered and left by the same task, and they live as long
as the connection does. So one background task opens them and waits; callers use the session from their
own tasks (each request is independent on the wire), and ``close()`` asks the owner to leave. When the
server goes away (a stdio server's stdout closes, a request finds the connection closed) the actor
reports itself dead and its owner (the workbench) starts a new one on the next call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

import anyio
import mcp_types
from mcp import ClientSession
from mcp.client.session import ElicitationFnT
from mcp.shared.exceptions import MCPError

from salon.models import ChatCompletionClient

from ._config import McpServerParams, StdioServerParams, describe_server
from ._errors import McpConnectionError, McpServerStartError
from ._sampling import sampling_callback_for
from ._session import Connection, open_connection, roots_callback_for

__all__ = ["McpSessionActor", "is_connection_failure", "unwrap_exception"]

_logger = logging.getLogger(__name__)

_EXIT_WAIT_SECONDS = 2.0


def unwrap_exception(error: BaseException) -> BaseException:
    """The meaningful exception inside anyio's task-group wrappers (groups of one, nested)."""
    while isinstance(error, BaseExceptionGroup):
        found = [e for e in error.exceptions if isinstance(e, McpConnectionError)]
        if found:
            return found[0]
        if len(error.exceptions) != 1:
            return error
        error = error.exceptions[0]
    return error


def is_connection_failure(error: BaseException) -> bool:
    """Whether a request failed because the connection broke (as opposed to the server refusing it)."""
    if isinstance(error, MCPError):
        return error.error.code == mcp_types.CONNECTION_CLOSED
    return isinstance(error, OSError | McpConnectionError) or not isinstance(error, Exception)


class McpSessionActor:
    """Owns one MCP session to one server for as long as it runs.

    Args:
        server_params: Where the server is.
        model_client: Answers the server's sampling requests; without one they are refused.
        elicitation_callback: Answers the server's elicitation requests (Salon addition).
        roots: Directories (paths or ``file://`` URIs) offered to the server as roots (Salon addition).
    """

    def __init__(
        self,
        server_params: McpServerParams,
        model_client: ChatCompletionClient | None = None,
        *,
        elicitation_callback: ElicitationFnT | None = None,
        roots: Sequence[str] | None = None,
    ) -> None:
        self.server_params = server_params
        self.name = "mcp_session_actor"
        self.description = "Owns one MCP client session."
        self._model_client = model_client
        self._elicitation_callback = elicitation_callback
        self._roots = list(roots) if roots is not None else None
        self._connection: Connection | None = None
        self._initialize_result: mcp_types.InitializeResult | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._broken = False

    @property
    def initialize_result(self) -> mcp_types.InitializeResult | None:
        """What the server answered to ``initialize``: its name, version, capabilities and instructions."""
        return self._initialize_result

    @property
    def is_alive(self) -> bool:
        """Whether the session is up and usable from the running event loop."""
        if self._connection is None or self._broken or self._task is None or self._task.done():
            return False
        stdio = self._connection.stdio
        if stdio is not None and (stdio.stdout_closed.is_set() or stdio.exit_code is not None):
            return False
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    @property
    def session(self) -> ClientSession:
        """The live session.

        Raises:
            McpConnectionError: The actor is not running, or the server has gone away.
        """
        if self._connection is None or not self.is_alive:
            raise McpConnectionError(self.describe_death(), server=describe_server(self.server_params))
        return self._connection.session

    def mark_broken(self) -> None:
        """Record that the connection failed under a request, so the owner replaces the actor."""
        self._broken = True

    async def settle(self, seconds: float = 1.0) -> None:
        """Give a dying stdio server a moment to exit, so its exit code can be reported."""
        stdio = self._connection.stdio if self._connection is not None else None
        if stdio is not None:
            await stdio.wait_exit(seconds)

    def describe_death(self) -> str:
        """Why the session is not usable, with the server's exit code and stderr when it is a process."""
        server = describe_server(self.server_params)
        stdio = self._connection.stdio if self._connection is not None else None
        if stdio is None:
            if self._task is None:
                return f"The MCP session to {server} is not started: call start() first."
            return f"The connection to the MCP server {server} was lost."
        text = f"The MCP server {server} stopped"
        if stdio.exit_code is not None:
            text += f" with exit code {stdio.exit_code}"
        stderr = stdio.stderr_text().strip()
        if stderr:
            text += ". Its stderr ends with:\n" + stderr[-2000:]
        return text

    async def initialize(self) -> None:
        """Start the server (stdio) or connect to it (HTTP), and complete the MCP handshake.

        Raises:
            McpServerStartError: The server would not start or answer; the message has its command line,
                exit code and stderr (stdio) or its URL and the connection error (HTTP).
        """
        if self._task is not None and not self._task.done():
            return
        self._broken = False
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        ready: asyncio.Future[None] = self._loop.create_future()
        self._task = asyncio.create_task(self._run(ready, self._stop), name=f"mcp session {self.server_params.type}")
        try:
            await ready
        except BaseException:
            with contextlib.suppress(BaseException):
                await self._task
            raise

    async def close(self) -> None:
        """End the session (and stop a stdio server's process). Harmless if not running."""
        task, stop = self._task, self._stop
        if task is None or stop is None:
            return
        if self._loop is not None and self._loop is not asyncio.get_running_loop():
            # The loop that owned the session is gone or elsewhere; its task cannot be awaited from here.
            self._task = None
            self._connection = None
            return
        stop.set()
        with contextlib.suppress(BaseException):
            await task
        self._task = None
        self._connection = None

    def call(self, type: str, args: Mapping[str, Any] | None = None) -> Awaitable[Any]:
        """Send one request by name (AutoGen's actor interface), returning an awaitable for its result.

        ``type`` is one of ``list_tools``, ``call_tool`` (``args``: ``name``, ``kargs``), ``list_prompts``,
        ``get_prompt`` (``name``, ``kargs.arguments``), ``list_resources``, ``list_resource_templates``,
        ``read_resource`` (``kargs.uri``).
        """
        session = self.session
        args = args or {}
        kwargs = dict(args.get("kargs") or {})
        if type == "list_tools":
            return session.list_tools()
        if type == "call_tool":
            return session.call_tool(str(args["name"]), kwargs)
        if type == "list_prompts":
            return session.list_prompts()
        if type == "get_prompt":
            return session.get_prompt(str(args["name"]), kwargs.get("arguments"))
        if type == "list_resources":
            return session.list_resources()
        if type == "list_resource_templates":
            return session.list_resource_templates()
        if type == "read_resource":
            return session.read_resource(str(kwargs["uri"]))
        raise ValueError(f"Unknown MCP actor command {type!r}.")

    async def _run(self, ready: asyncio.Future[None], stop: asyncio.Event) -> None:
        try:
            async with open_connection(
                self.server_params,
                sampling_callback=sampling_callback_for(self._model_client),
                elicitation_callback=self._elicitation_callback,
                list_roots_callback=roots_callback_for(self._roots),
            ) as connection:
                try:
                    self._initialize_result = await connection.session.initialize()
                except Exception as e:
                    raise await self._start_error(e, connection) from e
                self._connection = connection
                ready.set_result(None)
                await self._wait_until_done(connection, stop)
        except BaseException as e:
            error = unwrap_exception(e)
            if not ready.done():
                if not isinstance(error, McpConnectionError):
                    stdio = isinstance(self.server_params, StdioServerParams)
                    error = McpServerStartError(
                        f"{type(error).__name__}: {error}",
                        command_line=describe_server(self.server_params),
                        what="failed to start" if stdio else "could not be reached",
                    )
                ready.set_exception(error)
            elif not isinstance(e, asyncio.CancelledError):
                _logger.warning("The MCP session to %s ended with an error", describe_server(self.server_params))
        finally:
            self._broken = True

    async def _wait_until_done(self, connection: Connection, stop: asyncio.Event) -> None:
        async with anyio.create_task_group() as tasks:

            async def server_gone() -> None:
                assert connection.stdio is not None
                await connection.stdio.stdout_closed.wait()
                self._broken = True
                tasks.cancel_scope.cancel()

            if connection.stdio is not None:
                tasks.start_soon(server_gone)
            await stop.wait()
            tasks.cancel_scope.cancel()

    async def _start_error(self, error: Exception, connection: Connection) -> McpServerStartError:
        error = unwrap_exception(error)  # type: ignore[assignment]
        stdio = connection.stdio
        if stdio is None or not isinstance(self.server_params, StdioServerParams):
            return McpServerStartError(
                f"{type(error).__name__}: {error}",
                command_line=describe_server(self.server_params),
                what="could not be reached or did not complete the MCP handshake",
            )
        exit_code = await stdio.wait_exit(_EXIT_WAIT_SECONDS)
        reason = (
            "it exited before completing the MCP handshake"
            if exit_code is not None
            else f"the MCP handshake failed ({type(error).__name__}: {error}); is this an MCP server speaking stdio?"
        )
        return McpServerStartError(
            reason, command_line=describe_server(self.server_params), exit_code=exit_code, stderr=stdio.stderr_text()
        )
