"""McpWorkbench: an MCP server's tools, prompts and resources behind Salon's Workbench interface."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import mcp_types
from mcp.client.session import ElicitationFnT
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel

from salon import CancellationToken
from salon.models import ChatCompletionClient
from salon.tools import TextResultContent, ToolOverride, ToolResult, ToolSchema, Workbench
from salon.tools._errors import format_tool_error

from ._actor import McpSessionActor, is_connection_failure, unwrap_exception
from ._arguments import ArgumentChecker
from ._config import McpServerParams, describe_server
from ._errors import McpConnectionError
from ._results import tool_result, tool_schema
from ._session import list_all_tools

__all__ = ["McpWorkbench", "McpWorkbenchState"]


class McpWorkbenchState(BaseModel):
    """The (empty) saved state of an MCP workbench: the server keeps its own state."""

    type: Literal["McpWorkBenchState"] = "McpWorkBenchState"


def _error(name: str, text: str) -> ToolResult:
    return ToolResult(name=name, result=[TextResultContent(content=text)], is_error=True)


class McpWorkbench(Workbench):
    """The tools of one MCP server, over one persistent session, as a :class:`~salon.tools.Workbench`.

    Start it (or use ``async with``) before use; a workbench used before ``start()`` starts itself, as
    AutoGen's does. Only connect to servers you trust: a stdio server is a program run on this machine.

    Differences from AutoGen 0.7.5, all on purpose: ``start()`` and ``stop()`` may be called twice; when
    the server dies (a stdio process exits, a connection drops) the call that saw it returns an error
    result with the server's exit code and stderr, and the next call starts a new session; arguments are
    checked against the tool's input schema before they are sent, so argument errors name the argument
    whatever the server says; an unknown tool name is an error result listing the tools.

    Args:
        server_params: Where the server is: :class:`StdioServerParams`, :class:`SseServerParams` or
            :class:`StreamableHttpServerParams`.
        tool_overrides: New names and/or descriptions for tools, keyed by the server's tool names.
        model_client: Answers the server's sampling requests (the server asks the client's model to
            generate text); without one they are refused.
        elicitation_callback: Answers the server's elicitation requests (mcp SDK callback; Salon addition).
        roots: Directories offered to the server as roots, as paths or ``file://`` URIs (Salon addition).

    Raises:
        ValueError: Two tools overridden to the same name.
    """

    component_type = "workbench"

    def __init__(
        self,
        server_params: McpServerParams,
        tool_overrides: Mapping[str, ToolOverride] | None = None,
        model_client: ChatCompletionClient | None = None,
        *,
        elicitation_callback: ElicitationFnT | None = None,
        roots: Sequence[str] | None = None,
    ) -> None:
        self._server_params = server_params
        self._tool_overrides = dict(tool_overrides or {})
        self._model_client = model_client
        self._elicitation_callback = elicitation_callback
        self._roots = list(roots) if roots is not None else None
        self._original_names: dict[str, str] = {}
        for original, override in self._tool_overrides.items():
            if override.name is None or override.name == original:
                continue
            if override.name in self._original_names:
                raise ValueError(
                    f"Tool override name {override.name!r} is given to both {self._original_names[override.name]!r} "
                    f"and {original!r}; override names must be unique."
                )
            self._original_names[override.name] = original
        self._actor: McpSessionActor | None = None
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self._tools: dict[str, mcp_types.Tool] = {}
        self._checkers: dict[str, ArgumentChecker] = {}

    @property
    def server_params(self) -> McpServerParams:
        """Where the server is."""
        return self._server_params

    @property
    def initialize_result(self) -> mcp_types.InitializeResult | None:
        """The server's answer to ``initialize`` (name, version, capabilities, instructions), once started."""
        return self._actor.initialize_result if self._actor is not None else None

    # -- lifecycle ---------------------------------------------------------------------------------------

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = asyncio.Lock()
            self._locks = {loop: lock}
        return lock

    async def _live_actor(self) -> McpSessionActor:
        """The running session's actor, starting (or restarting) it when needed."""
        actor = self._actor
        if actor is not None and actor.is_alive:
            return actor
        async with self._lock():
            actor = self._actor
            if actor is not None and actor.is_alive:
                return actor
            if actor is not None:
                await actor.close()
                self._actor = None
            actor = McpSessionActor(
                self._server_params,
                self._model_client,
                elicitation_callback=self._elicitation_callback,
                roots=self._roots,
            )
            await actor.initialize()
            self._actor = actor
            self._tools.clear()
            self._checkers.clear()
            return actor

    async def start(self) -> None:
        """Start the server (stdio) or connect to it, and complete the MCP handshake. Harmless twice.

        Raises:
            McpServerStartError: The server would not start; the message has its command line, exit code
                and stderr (or its URL and the connection error).
        """
        await self._live_actor()

    async def stop(self) -> None:
        """End the session (a stdio server's process is stopped). Harmless when not started."""
        actor, self._actor = self._actor, None
        if actor is not None:
            await actor.close()

    async def reset(self) -> None:
        """Keep the session (the server owns its state, as in AutoGen); replace it only if it has died."""
        if self._actor is not None and not self._actor.is_alive:
            await self._live_actor()

    async def save_state(self) -> Mapping[str, Any]:
        """An empty marker state: nothing of an MCP session can be saved on the client side."""
        return McpWorkbenchState().model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Accept a state from :meth:`save_state` (there is nothing to restore)."""

    # -- tools -------------------------------------------------------------------------------------------

    async def _fetch_tools(self, actor: McpSessionActor) -> list[mcp_types.Tool]:
        tools = await list_all_tools(actor.session)
        self._tools = {tool.name: tool for tool in tools}
        self._checkers = {}
        return tools

    async def list_tools(self) -> list[ToolSchema]:
        """The server's tools, under their override names and descriptions where given."""
        actor = await self._live_actor()
        tools = await self._fetch_tools(actor)
        return [tool_schema(tool, self._tool_overrides.get(tool.name)) for tool in tools]

    def _checker(self, tool: mcp_types.Tool) -> ArgumentChecker:
        checker = self._checkers.get(tool.name)
        if checker is None:
            checker = self._checkers[tool.name] = ArgumentChecker(tool.name, tool.input_schema or {})
        return checker

    def _not_found(self, name: str) -> ToolResult:
        shown = [
            (override.name if (override := self._tool_overrides.get(t)) and override.name else t) for t in self._tools
        ]
        return _error(name, f"Tool {name!r} not found. Available tools: {', '.join(shown) or 'none'}.")

    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
        call_id: str | None = None,
    ) -> ToolResult:
        """Call a tool on the server and return its result; every failure is an error result.

        Args:
            name: The tool's name as :meth:`list_tools` shows it (its override name, if any).
            arguments: The arguments; ``None`` means none.
            cancellation_token: Cancelling it cancels the request (the server is told).
            call_id: The model's id for this call.

        Raises:
            asyncio.CancelledError: The call was cancelled.
        """
        token = cancellation_token or CancellationToken()
        if token.is_cancelled():
            raise asyncio.CancelledError(f"the call to {name!r} was cancelled before it started")
        original = self._original_names.get(name, name)
        args = dict(arguments or {})
        try:
            actor = await self._live_actor()
            tool = self._tools.get(original)
            if tool is None:
                await self._fetch_tools(actor)
                tool = self._tools.get(original)
            if tool is None:
                return self._not_found(name)
            problems = self._checker(tool).check(args)
            if problems is not None:
                return _error(name, str(problems))
            request = asyncio.ensure_future(actor.session.call_tool(original, args))
            token.link_future(request)
            result = await request
        except asyncio.CancelledError:
            raise
        except Exception as e:
            return await self._failure(name, e)
        return tool_result(name, result)

    async def _failure(self, name: str, error: BaseException) -> ToolResult:
        error = unwrap_exception(error)
        actor = self._actor
        if isinstance(error, McpConnectionError):
            return _error(name, str(error))
        if is_connection_failure(error) and actor is not None:
            actor.mark_broken()
            await actor.settle()
            return _error(
                name,
                f"The call to {name!r} failed because the MCP server went away: {actor.describe_death()}\n"
                "The next call starts a new session.",
            )
        if isinstance(error, MCPError):
            return _error(
                name,
                f"The MCP server refused the call to {name!r}: {error.error.message} (error code {error.error.code}).",
            )
        return _error(name, format_tool_error(error))

    # -- prompts and resources ---------------------------------------------------------------------------

    async def list_prompts(self) -> mcp_types.ListPromptsResult:
        """The server's prompt templates."""
        return await (await self._live_actor()).session.list_prompts()

    async def get_prompt(self, name: str, arguments: dict[str, str] | None = None) -> mcp_types.GetPromptResult:
        """Render one of the server's prompts with ``arguments``."""
        return await (await self._live_actor()).session.get_prompt(name, arguments)

    async def list_resources(self) -> mcp_types.ListResourcesResult:
        """The server's resources (documents it can give)."""
        return await (await self._live_actor()).session.list_resources()

    async def list_resource_templates(self) -> mcp_types.ListResourceTemplatesResult:
        """The server's resource templates (URI patterns such as ``users://{id}``)."""
        return await (await self._live_actor()).session.list_resource_templates()

    async def read_resource(self, uri: str) -> mcp_types.ReadResourceResult:
        """Read a resource (or a URI matching a template) from the server."""
        return await (await self._live_actor()).session.read_resource(uri)

    def __repr__(self) -> str:
        return f"McpWorkbench({describe_server(self._server_params)})"
