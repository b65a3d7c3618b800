"""Running the tool calls of one model response: concurrently, streaming what stream tools report.

A failing call never ends the turn: bad JSON, an unknown tool, invalid arguments or an exception in the
tool become a :class:`~salon.models.FunctionExecutionResult` with ``is_error=True`` whose text the model
reads and can act on. Only cancellation ends the turn.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from salon import CancellationToken, FunctionCall
from salon.models import FunctionExecutionResult
from salon.tools import StreamWorkbench, Tool, ToolResult, Workbench

from ..messages import BaseAgentEvent, BaseChatMessage

__all__ = ["ExecutedCall", "Route", "run_tool_calls"]

ExecutedCall = tuple[FunctionCall, FunctionExecutionResult]
"""A tool call with its result."""

Route = tuple[Workbench, bool]
"""The workbench serving a tool name, and whether to call it streaming (for progress events) or plainly."""

StreamedEvent = BaseAgentEvent | BaseChatMessage
"""What a stream tool may report while it runs (an inner agent's messages, for example)."""


def _error(call: FunctionCall, text: str) -> FunctionExecutionResult:
    return FunctionExecutionResult(content=text, call_id=call.id, is_error=True, name=call.name)


def _parse_arguments(call: FunctionCall) -> Mapping[str, Any] | FunctionExecutionResult:
    text = call.arguments
    if not text.strip():  # some models send "" for a tool without parameters
        return {}
    try:
        arguments = json.loads(text)
    except json.JSONDecodeError as e:
        return _error(call, f"Error: the arguments are not valid JSON: {e}")
    if not isinstance(arguments, dict):
        return _error(call, f"Error: the arguments must be a JSON object, got {type(arguments).__name__}.")
    return arguments


def _declared_only(tool: Tool, arguments: Mapping[str, Any]) -> dict[str, Any]:
    # Handoff tools take no arguments, but models often send some (the target, a reason). AutoGen's
    # function tools drop undeclared arguments silently; Salon's refuse them, so drop them here.
    fields = tool.args_type().model_fields
    accepted = {name for name in fields} | {field.alias for field in fields.values() if field.alias}
    return {key: value for key, value in arguments.items() if key in accepted}


async def _run_handoff(
    call: FunctionCall, tool: Tool, arguments: Mapping[str, Any], token: CancellationToken
) -> FunctionExecutionResult:
    try:
        value = await tool.run_json(_declared_only(tool, arguments), token, call_id=call.id)
        text = tool.return_value_as_string(value)
    except Exception as e:
        return _error(call, f"Error: {type(e).__name__}: {e}")
    return FunctionExecutionResult(content=text, call_id=call.id, is_error=False, name=call.name)


def _from_tool_result(call: FunctionCall, result: ToolResult) -> FunctionExecutionResult:
    return FunctionExecutionResult(content=result.to_text(), call_id=call.id, is_error=result.is_error, name=call.name)


async def _run_one(
    call: FunctionCall,
    routes: Mapping[str, Route],
    handoff_tools: Mapping[str, Tool],
    token: CancellationToken,
) -> AsyncGenerator[StreamedEvent | FunctionExecutionResult, None]:
    """Run one call; yield the events a stream tool reports, then the call's result (always last)."""
    arguments = _parse_arguments(call)
    if isinstance(arguments, FunctionExecutionResult):
        yield arguments
        return
    handoff_tool = handoff_tools.get(call.name)
    if handoff_tool is not None:
        yield await _run_handoff(call, handoff_tool, arguments, token)
        return
    route = routes.get(call.name)
    if route is None:
        yield _error(call, f"Error: tool '{call.name}' not found in any workbench")
        return
    workbench, streams = route
    try:
        if streams and isinstance(workbench, StreamWorkbench):
            result: ToolResult | None = None
            async for item in workbench.call_tool_stream(
                name=call.name, arguments=arguments, cancellation_token=token, call_id=call.id
            ):
                if isinstance(item, ToolResult):
                    result = item
                elif isinstance(item, BaseAgentEvent | BaseChatMessage):
                    yield item
                else:
                    warnings.warn(
                        f"Tool {call.name!r} streamed a {type(item).__name__}, which an agent cannot show; only "
                        "AgentChat messages and events are passed on.",
                        UserWarning,
                        stacklevel=2,
                    )
            if result is None:
                yield _error(call, f"Error: the workbench streamed no result for tool '{call.name}'.")
                return
        else:
            result = await workbench.call_tool(
                name=call.name, arguments=arguments, cancellation_token=token, call_id=call.id
            )
    except Exception as e:  # a workbench should return error results, but a broken one must not end the turn
        yield _error(call, f"Error: {type(e).__name__}: {e}")
        return
    yield _from_tool_result(call, result)


async def _collect(
    call: FunctionCall,
    routes: Mapping[str, Route],
    handoff_tools: Mapping[str, Tool],
    token: CancellationToken,
    queue: asyncio.Queue[StreamedEvent | None],
) -> FunctionExecutionResult:
    result: FunctionExecutionResult | None = None
    async for item in _run_one(call, routes, handoff_tools, token):
        if isinstance(item, FunctionExecutionResult):
            result = item
        else:
            queue.put_nowait(item)
    assert result is not None  # _run_one always ends with the result
    return result


async def run_tool_calls(
    calls: Sequence[FunctionCall],
    routes: Mapping[str, Route],
    handoff_tools: Mapping[str, Tool],
    token: CancellationToken,
) -> AsyncGenerator[StreamedEvent | list[ExecutedCall], None]:
    """Run ``calls`` concurrently; yield streamed events as they come, then the results in call order.

    The last item is the list of ``(call, result)`` pairs. A single call runs in the caller's own task,
    which spares the task and queue that concurrency needs.

    Raises:
        asyncio.CancelledError: The token was cancelled while a tool ran.
    """
    if len(calls) == 1:
        call = calls[0]
        async for item in _run_one(call, routes, handoff_tools, token):
            if isinstance(item, FunctionExecutionResult):
                yield [(call, item)]
            else:
                yield item
        return

    queue: asyncio.Queue[StreamedEvent | None] = asyncio.Queue()

    async def run_all() -> list[FunctionExecutionResult]:
        try:
            return list(await asyncio.gather(*(_collect(c, routes, handoff_tools, token, queue) for c in calls)))
        finally:
            queue.put_nowait(None)

    task = asyncio.ensure_future(run_all())
    try:
        while (event := await queue.get()) is not None:
            yield event
        results = await task
    finally:
        if not task.done():  # the caller stopped listening or was cancelled: stop the tools too
            task.cancel()
    yield list(zip(calls, results, strict=True))
