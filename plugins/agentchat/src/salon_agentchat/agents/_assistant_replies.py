"""The final message of an :class:`AssistantAgent` turn: text, structured output, a tool summary or a handoff."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

from pydantic import BaseModel

from salon import FunctionCall
from salon.models import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    RequestUsage,
)

from ..base import Handoff
from ..messages import (
    BaseChatMessage,
    HandoffMessage,
    StructuredMessageFactory,
    TextMessage,
    ToolCallSummaryMessage,
)
from ._assistant_tool_calls import ExecutedCall

__all__ = ["SummaryFormatter", "final_message", "handoff_message", "tool_call_summary"]

SummaryFormatter = Callable[[FunctionCall, FunctionExecutionResult], str]
"""Renders one tool call and its result as a line of a :class:`ToolCallSummaryMessage`."""


def final_message(
    content: str,
    *,
    source: str,
    usage: RequestUsage,
    message_id: str,
    structured: StructuredMessageFactory | None,
) -> BaseChatMessage:
    """Return the model's text as the turn's message: a :class:`TextMessage`, or a structured message.

    Raises:
        pydantic.ValidationError: Structured output was asked for and the text is not valid JSON for the
            content model. The model's answer stays in the agent's context, so a retry can show it the error.
    """
    if structured is None:
        return TextMessage(content=content, source=source, models_usage=usage, id=message_id)
    model: type[BaseModel] = structured.ContentModel
    parsed = model.model_validate_json(content)
    message: BaseChatMessage = structured.StructuredMessage(
        content=parsed,
        source=source,
        models_usage=usage,
        format_string=structured.format_string,
        id=message_id,
    )
    return message


def tool_call_summary(
    executed: Sequence[ExecutedCall],
    *,
    source: str,
    handoffs: Mapping[str, Handoff],
    summary_format: str,
    formatter: SummaryFormatter | None,
) -> ToolCallSummaryMessage:
    """Summarise the last round of tool calls (handoff calls left out) as one message, a line per call."""
    calls = [(call, result) for call, result in executed if call.name not in handoffs]
    if formatter is None:
        lines = [
            summary_format.format(
                tool_name=call.name, arguments=call.arguments, result=result.content, is_error=result.is_error
            )
            for call, result in calls
        ]
    else:
        lines = [formatter(call, result) for call, result in calls]
    return ToolCallSummaryMessage(
        content="\n".join(lines),
        source=source,
        tool_calls=[call for call, _ in calls],
        results=[result for _, result in calls],
    )


def handoff_message(
    model_result: CreateResult,
    executed: Sequence[ExecutedCall],
    *,
    source: str,
    handoffs: Mapping[str, Handoff],
) -> HandoffMessage | None:
    """Return the handoff the model asked for, or ``None`` if it called no handoff tool.

    The message's ``context`` carries what led to the handoff, so the next agent sees it: the other tool
    calls of the same response with their results, or, when there were none, the model's thought.
    """
    assert isinstance(model_result.content, list)
    requested = [call for call in model_result.content if call.name in handoffs]
    if not requested:
        return None
    handoff = handoffs[requested[0].name]
    if len(requested) > 1:
        warnings.warn(
            f"Multiple handoffs detected. Only the first is executed: {[handoffs[c.name].name for c in requested]}. "
            "Disable parallel tool calls in the model client to avoid this warning.",
            stacklevel=2,
        )
    content = handoff.message
    other_calls: list[FunctionCall] = []
    other_results: list[FunctionExecutionResult] = []
    for call, result in executed:
        if call.name not in handoffs:
            other_calls.append(call)
            other_results.append(result)
        elif call.name == handoff.name:
            content = result.content
    context: list[LLMMessage] = []
    if other_calls:
        context.append(AssistantMessage(content=other_calls, source=source, thought=model_result.thought))
        context.append(FunctionExecutionResultMessage(content=other_results))
    elif model_result.thought:
        context.append(AssistantMessage(content=model_result.thought, source=source))
    return HandoffMessage(content=content, target=handoff.target, source=source, context=context)
