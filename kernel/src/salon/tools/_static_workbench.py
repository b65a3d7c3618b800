"""StaticWorkbench: a fixed list of tools as a workbench, optionally renamed for the model."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from .._cancellation_token import CancellationToken
from .._constants import TRACE_LOGGER_NAME
from ._base import StreamTool, Tool, ToolOverride
from ._errors import format_tool_error
from ._schema import ToolSchema
from ._workbench import StreamWorkbench, TextResultContent, ToolResult, Workbench

__all__ = ["StaticStreamWorkbench", "StaticWorkbench"]

_logger = logging.getLogger(TRACE_LOGGER_NAME)

_STATE_TYPE = "StaticWorkbenchState"


def _text_result(name: str, text: str, *, is_error: bool) -> ToolResult:
    return ToolResult(name=name, result=[TextResultContent(content=text)], is_error=is_error)


class StaticWorkbench(Workbench):
    """A workbench over a fixed list of tools, each shown under its own name or an override.

    Overrides let one tool appear under a clearer name or description for a particular agent without
    changing the tool. A call may use the name the model sees or, where no other tool took it, the
    tool's own name. Mistakes that would make a tool unreachable are refused when the workbench is
    made: two tools with one name, an override for a tool that is not here, two tools shown under one
    name (AutoGen accepts the first two silently).

    Args:
        tools: The tools, in the order :meth:`list_tools` gives them.
        tool_overrides: New names/descriptions, keyed by the tools' own names.

    Raises:
        ValueError: Duplicate tool names, an override for an unknown tool, or clashing shown names.
    """

    def __init__(self, tools: Sequence[Tool], tool_overrides: Mapping[str, ToolOverride] | None = None) -> None:
        self._tools = list(tools)
        self._tool_overrides = dict(tool_overrides or {})
        self._by_name: dict[str, Tool] = {}
        for tool in self._tools:
            if tool.name in self._by_name:
                raise ValueError(f"Two tools are named {tool.name!r}; tool names in a workbench must be unique.")
            self._by_name[tool.name] = tool
        unknown = [name for name in self._tool_overrides if name not in self._by_name]
        if unknown:
            raise ValueError(
                f"tool_overrides names tools that are not in the workbench: {', '.join(map(repr, unknown))}; "
                f"its tools are: {', '.join(map(repr, self._by_name)) or 'none'}."
            )
        self._shown: dict[str, Tool] = {}
        for tool in self._tools:
            override = self._tool_overrides.get(tool.name)
            shown = override.name if override is not None and override.name is not None else tool.name
            if not shown:
                raise ValueError(f"The override for tool {tool.name!r} gives it an empty name.")
            if shown in self._shown:
                raise ValueError(
                    f"Tools {self._shown[shown].name!r} and {tool.name!r} would both be shown as {shown!r}; "
                    "override names must be unique."
                )
            self._shown[shown] = tool

    def _find(self, name: str) -> Tool | None:
        tool = self._shown.get(name)
        return tool if tool is not None else self._by_name.get(name)

    def _not_found(self, name: str) -> ToolResult:
        available = ", ".join(self._shown) or "none"
        return _text_result(name, f"Tool {name!r} not found. Available tools: {available}.", is_error=True)

    def _failure(self, name: str, error: Exception) -> ToolResult:
        _logger.info("Tool %r failed; the caller gets an error result", name, exc_info=error)
        return _text_result(name, format_tool_error(error), is_error=True)

    async def list_tools(self) -> list[ToolSchema]:
        """Return every tool's schema, with its override applied."""
        schemas: list[ToolSchema] = []
        for shown, tool in self._shown.items():
            schema = tool.schema
            override = self._tool_overrides.get(tool.name)
            if override is not None:
                schema = ToolSchema(**schema)  # a copy: never change the tool's own schema
                schema["name"] = shown
                if override.description is not None:
                    schema["description"] = override.description
            schemas.append(schema)
        return schemas

    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
        call_id: str | None = None,
    ) -> ToolResult:
        """Run the tool; failures become error results that say what went wrong.

        Raises:
            asyncio.CancelledError: ``cancellation_token`` was cancelled during the call.
        """
        tool = self._find(name)
        if tool is None:
            return self._not_found(name)
        token = cancellation_token or CancellationToken()
        try:
            future = asyncio.ensure_future(tool.run_json(arguments or {}, token, call_id=call_id))
            token.link_future(future)
            value = await future
            return _text_result(name, tool.return_value_as_string(value), is_error=False)
        except Exception as e:
            return self._failure(name, e)

    async def start(self) -> None:
        """Nothing to acquire."""

    async def stop(self) -> None:
        """Nothing to release."""

    async def reset(self) -> None:
        """Nothing to reset: the tools keep their state (use :meth:`load_state` to change it)."""

    async def save_state(self) -> Mapping[str, Any]:
        """Return each tool's state, keyed by the tool's own name."""
        return {"type": _STATE_TYPE, "tools": {tool.name: dict(await tool.save_state_json()) for tool in self._tools}}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Give each tool its saved state; tools absent from ``state`` keep theirs.

        Raises:
            ValueError: ``state`` is not what :meth:`save_state` produces.
        """
        tools = state.get("tools") if isinstance(state, Mapping) else None
        if not isinstance(tools, Mapping) or state.get("type", _STATE_TYPE) != _STATE_TYPE:
            expected = f"{{'type': {_STATE_TYPE!r}, 'tools': {{...}}}}"
            raise ValueError(f"Not a StaticWorkbench state: expected {expected}, got {state!r:.200}")
        for tool in self._tools:
            if tool.name in tools:
                await tool.load_state_json(tools[tool.name])


class StaticStreamWorkbench(StaticWorkbench, StreamWorkbench):
    """A :class:`StaticWorkbench` that can also stream: stream tools' progress, then the result."""

    async def call_tool_stream(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
        call_id: str | None = None,
    ) -> AsyncGenerator[Any | ToolResult, None]:
        """Yield a stream tool's values except the last, then a :class:`ToolResult` made from the last.

        A plain tool yields only its :class:`ToolResult`. If the tool fails part-way, the values it
        produced are still yielded, then an error result.

        Raises:
            asyncio.CancelledError: ``cancellation_token`` was cancelled during the call.
        """
        tool = self._find(name)
        if tool is None:
            yield self._not_found(name)
            return
        token = cancellation_token or CancellationToken()
        if not isinstance(tool, StreamTool):
            yield await self.call_tool(name, arguments, token, call_id)
            return
        stream = tool.run_json_stream(arguments or {}, token, call_id=call_id)
        step: asyncio.Future[Any] | None = None

        def cancel_step() -> None:
            if step is not None:
                step.cancel()

        token.add_callback(cancel_step)
        previous: Any = None
        have_previous = False
        try:
            while True:
                # Each step of the stream is a future the token can cancel, so a stream tool stuck
                # waiting is interrupted like a plain tool would be.
                step = asyncio.ensure_future(_next_item(stream))
                if token.is_cancelled():
                    step.cancel()
                try:
                    item = await step
                except StopAsyncIteration:
                    break
                if have_previous:
                    yield previous
                previous, have_previous = item, True
        except Exception as e:
            if have_previous:
                yield previous
            yield self._failure(name, e)
            return
        finally:
            step = None
            await stream.aclose()
        yield _text_result(name, tool.return_value_as_string(previous), is_error=False)


async def _next_item(stream: AsyncGenerator[Any, None]) -> Any:
    return await anext(stream)
