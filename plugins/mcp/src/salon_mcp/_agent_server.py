"""Serve an AgentChat agent or team as an MCP server: the other direction of :class:`McpWorkbench`.

:class:`AgentMcpServer` wraps anything that runs tasks the AgentChat way (an ``AssistantAgent``, a
``RoundRobinGroupChat``, ...) in an mcp SDK :class:`~mcp.server.mcpserver.MCPServer` with one tool, so
any MCP client (Claude Desktop, an IDE, another Salon agent through :class:`McpWorkbench`) can hand it a
task. The runner is duck-typed -- ``run(task=..., cancellation_token=...)`` returning a result with
``messages`` and ``stop_reason``, optionally ``run_stream`` -- so salon-mcp does not depend on
salon-agentchat.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, TextContent
from pydantic import Field

from salon import CancellationToken

__all__ = ["AgentMcpServer", "agent_mcp_server"]

#: How long a cancelled run may take to wind down (close its stream) before the request ends anyway.
_WIND_DOWN_SECONDS = 5.0
#: Progress messages carry the start of each message's text; a whole essay per notification helps nobody.
_PROGRESS_TEXT_LIMIT = 200
_TOOL_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def _tool_name_of(name: str) -> str:
    """An MCP-safe tool name (letters, digits, ``_``, ``-``, ``.``; 1 to 128 characters)."""
    cleaned = _TOOL_NAME_CHARS.sub("_", name).strip("_")[:128]
    return cleaned or "run_task"


def _text_of(message: Any) -> str:
    to_text = getattr(message, "to_text", None)
    if callable(to_text):
        return str(to_text())
    content = getattr(message, "content", message)
    return content if isinstance(content, str) else str(content)


def _is_chat_message(item: Any) -> bool:
    """Whether a ``run_stream`` item is a chat message (progress is reported per message, not per event).

    AgentChat's chat messages are what a model reads (``to_model_message``); its events (streamed tokens,
    tool-call requests) are not. Checked by shape, so salon-mcp needs no import of salon-agentchat.
    """
    return hasattr(item, "source") and callable(getattr(item, "to_model_message", None))


class AgentMcpServer:
    """An agent or team behind one MCP tool that takes a task and answers with the final message's text.

    Calls are served one at a time (a team cannot run twice at once); a second call waits for the
    first. The tool's result is the text of the run's last message, with ``structuredContent``
    ``{"answer", "source", "stop_reason"}``; each chat message of the run is reported as a
    ``notifications/progress`` when the client asked for progress. A runner that raises gives an error
    result (``isError``) naming the exception, and the server keeps serving. When the client cancels the
    request (``notifications/cancelled``), the run's cancellation token is cancelled.

    Between calls the conversation is kept, as with repeated ``run()`` calls in Python; give
    ``reset_between_calls=True`` to start every task afresh (``reset()`` on a team, ``on_reset()`` on an
    agent).

    Args:
        runner: The agent or team (anything with AgentChat's ``run``; ``run_stream`` is used when present).
        name: The server's name; default: the runner's ``name``.
        tool_name: The tool's name; default: the runner's name, made MCP-safe.
        description: The tool's description; default: the runner's ``description`` plus how to call it.
        reset_between_calls: Reset the runner before each task, so calls do not share a conversation.
        log_level: The mcp SDK's log level (its logs go to stderr).

    Example::

        team = RoundRobinGroupChat([writer, critic], termination_condition=TextMentionTermination("APPROVE"))
        server = AgentMcpServer(team, tool_name="write_poem")
        await server.serve_stdio()  # or: async with server.serving_http(port=0) as url: ...
    """

    def __init__(
        self,
        runner: Any,
        *,
        name: str | None = None,
        tool_name: str | None = None,
        description: str | None = None,
        reset_between_calls: bool = False,
        log_level: LogLevel = "WARNING",
    ) -> None:
        if not callable(getattr(runner, "run", None)):
            raise TypeError(
                f"AgentMcpServer serves an AgentChat agent or team (something with async run(task=...)); "
                f"got {type(runner).__name__}."
            )
        self._runner = runner
        runner_name = str(getattr(runner, "name", "") or type(runner).__name__)
        self._tool_name = tool_name if tool_name is not None else _tool_name_of(runner_name)
        if not self._tool_name or _TOOL_NAME_CHARS.search(self._tool_name):
            raise ValueError(
                f"tool_name {self._tool_name!r} is not a valid MCP tool name: use letters, digits, '_', '-' and '.'."
            )
        self._description = description if description is not None else self._default_description(runner_name)
        self._reset_between_calls = reset_between_calls
        self._lock = asyncio.Lock()
        self._server: MCPServer[Any] = MCPServer(
            name or runner_name, instructions=self._description, log_level=log_level
        )
        self._server.add_tool(self._tool_function(), name=self._tool_name, description=self._description)

    def _default_description(self, runner_name: str) -> str:
        own = str(getattr(self._runner, "description", "") or "").strip()
        what = own or f"The agent {runner_name}."
        if not what.endswith((".", "!", "?")):
            what += "."
        return f"{what} Give it a task as text; it works on it and answers with its final message."

    @property
    def mcp_server(self) -> MCPServer[Any]:
        """The mcp SDK server (to add tools or resources of your own, or to run it some other way)."""
        return self._server

    @property
    def tool_name(self) -> str:
        """The name of the tool that runs a task."""
        return self._tool_name

    @property
    def runner(self) -> Any:
        """The agent or team being served."""
        return self._runner

    def _tool_function(self) -> Any:
        async def run_task(
            task: Annotated[str, Field(description="The task, in plain language.")], ctx: Context
        ) -> CallToolResult:
            return await self.run_task(task, ctx)

        return run_task

    async def run_task(self, task: str, ctx: Context[Any, Any] | None = None) -> CallToolResult:
        """Run ``task`` on the runner and turn the outcome into the tool's result (what the tool calls).

        Raises:
            BaseException: Only cancellation; a runner's exception becomes an error result.
        """
        async with self._lock:
            token = CancellationToken()
            try:
                if self._reset_between_calls:
                    await self._reset()
                result = await self._run(task, token, ctx)
            except Exception as e:
                what = f"{self._tool_name} failed: {type(e).__name__}: {e}"
                return CallToolResult(content=[TextContent(type="text", text=what)], is_error=True)
            except BaseException:  # the client cancelled the request, or the server is shutting down
                token.cancel()
                raise
        return self._result_of(result)

    async def _reset(self) -> None:
        reset = getattr(self._runner, "reset", None)
        if callable(reset):
            await reset()
            return
        on_reset = getattr(self._runner, "on_reset", None)
        if callable(on_reset):
            await on_reset(CancellationToken())

    async def _run(self, task: str, token: CancellationToken, ctx: Context[Any, Any] | None) -> Any:
        run_stream = getattr(self._runner, "run_stream", None)
        if not callable(run_stream):
            return await self._runner.run(task=task, cancellation_token=token)
        stream = run_stream(task=task, cancellation_token=token)
        result: Any = None
        count = 0
        try:
            async for item in stream:
                if hasattr(item, "stop_reason") and hasattr(item, "messages"):
                    result = item
                elif ctx is not None and _is_chat_message(item):
                    count += 1
                    text = f"{getattr(item, 'source', '?')}: {_text_of(item)}"
                    await ctx.report_progress(count, message=text[:_PROGRESS_TEXT_LIMIT])
        except BaseException:
            token.cancel()
            # A cancelled request's scope cancels every await; shield the wind-down so the runner's own
            # clean-up (stopping its runtime) runs, but bound it so a stuck runner cannot hold the request.
            with anyio.CancelScope(shield=True), anyio.move_on_after(_WIND_DOWN_SECONDS):
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    with contextlib.suppress(Exception):  # the original exception is what matters
                        await aclose()
            raise
        if result is None:
            raise RuntimeError("the run's stream ended without a result (no TaskResult)")
        return result

    def _result_of(self, result: Any) -> CallToolResult:
        messages = list(getattr(result, "messages", None) or [])
        final = messages[-1] if messages else None
        answer = _text_of(final) if final is not None else ""
        stop_reason = getattr(result, "stop_reason", None)
        return CallToolResult(
            content=[TextContent(type="text", text=answer)],
            structured_content={
                "answer": answer,
                "source": getattr(final, "source", None),
                "stop_reason": stop_reason,
            },
        )

    # -- serving --------------------------------------------------------------------------------------

    async def serve_stdio(self) -> None:
        """Serve over this process's stdin and stdout until the client closes them."""
        await self._server.run_stdio_async()

    async def serve_http(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        path: str = "/mcp",
        on_listening: Callable[[str], None] | None = None,
    ) -> None:
        """Serve streamable HTTP at ``http://host:port/path`` until interrupted (SIGINT/SIGTERM) or cancelled.

        Args:
            host: The address to listen on; keep the default (this machine only) unless you add auth.
            port: The port; 0 lets the system pick a free one.
            path: The MCP endpoint's path.
            on_listening: Called with the endpoint URL once the socket listens (clients may connect).
        """
        server, sock = self._http_server(host, port, path)
        if on_listening is not None:
            on_listening(f"http://{host}:{sock.getsockname()[1]}{path}")
        try:
            await server.serve(sockets=[sock])
        finally:
            sock.close()

    @asynccontextmanager
    async def serving_http(self, *, host: str = "127.0.0.1", port: int = 0, path: str = "/mcp") -> AsyncIterator[str]:
        """Serve streamable HTTP while the block runs; yields the endpoint URL.

        The socket is bound and listening before the block starts, so a client may connect at once; with
        ``port=0`` the system picks a free port (read it from the URL). Leaving the block stops the server.
        """
        server, sock = self._http_server(host, port, path)
        serving = asyncio.create_task(server.serve(sockets=[sock]), name=f"mcp-http-{sock.getsockname()[1]}")
        try:
            yield f"http://{host}:{sock.getsockname()[1]}{path}"
        finally:
            server.should_exit = True
            try:
                await serving
            finally:
                sock.close()

    def _http_server(self, host: str, port: int, path: str) -> tuple[Any, socket.socket]:
        """A uvicorn server for the streamable HTTP app, and its socket, already listening."""
        import uvicorn

        app = self._server.streamable_http_app(streamable_http_path=path, host=host)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as e:
            sock.close()
            raise OSError(f"cannot serve MCP on {host}:{port}: {e}; choose another port (or 0 for a free one).") from e
        sock.listen(128)
        return uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on")), sock


def agent_mcp_server(runner: Any, **options: Any) -> MCPServer[Any]:
    """The mcp SDK server serving ``runner`` (see :class:`AgentMcpServer` for the options).

    For ``server.run("stdio")`` or mounting ``server.streamable_http_app()`` in an ASGI app of your own.
    """
    return AgentMcpServer(runner, **options).mcp_server
