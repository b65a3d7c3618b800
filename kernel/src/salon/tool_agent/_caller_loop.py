"""The loop that alternates between a model and a :class:`ToolAgent` until the model stops calling tools."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from .._agent_id import AgentId
from .._agent_runtime import AgentRuntime
from .._base_agent import BaseAgent
from .._cancellation_token import CancellationToken
from ..models import (
    AssistantMessage,
    ChatCompletionClient,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
)
from ..tools import Tool, ToolSchema
from ._tool_agent import ToolException

__all__ = ["tool_agent_caller_loop"]


async def tool_agent_caller_loop(
    caller: BaseAgent | AgentRuntime,
    tool_agent_id: AgentId,
    model_client: ChatCompletionClient,
    input_messages: list[LLMMessage],
    tool_schema: Sequence[ToolSchema] | Sequence[Tool],
    cancellation_token: CancellationToken | None = None,
    caller_source: str = "assistant",
) -> list[LLMMessage]:
    """Call the model, run the tools it asks for on a tool agent, and repeat until it answers in text.

    The calls of one model response run concurrently (one message to the tool agent each). A failed call
    (:class:`ToolException`) becomes an error result the model reads, so it can correct itself; any other
    error ends the loop and is raised.

    Args:
        caller: The agent (or runtime) that sends the calls to the tool agent.
        tool_agent_id: The :class:`ToolAgent` that runs the tools.
        model_client: The model.
        input_messages: The conversation so far; it is not modified.
        tool_schema: The tools the model may call (tools or their schemas).
        cancellation_token: Cancels the model calls and the tool calls.
        caller_source: The ``source`` of the assistant messages the loop creates.

    Returns:
        The messages the loop produced, in order: each model response, each batch of tool results, ending
        with the model's text response.
    """
    generated: list[LLMMessage] = []
    tools: list[Tool | ToolSchema] = list(tool_schema)
    response = await model_client.create(input_messages, tools=tools, cancellation_token=cancellation_token)
    generated.append(AssistantMessage(content=response.content, thought=response.thought, source=caller_source))
    while isinstance(response.content, list):
        outcomes = await asyncio.gather(
            *(
                caller.send_message(call, tool_agent_id, cancellation_token=cancellation_token)
                for call in response.content
            ),
            return_exceptions=True,
        )
        results: list[FunctionExecutionResult] = []
        for outcome in outcomes:
            if isinstance(outcome, FunctionExecutionResult):
                results.append(outcome)
            elif isinstance(outcome, ToolException):
                results.append(
                    FunctionExecutionResult(
                        content=outcome.content, call_id=outcome.call_id, is_error=True, name=outcome.name
                    )
                )
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                raise TypeError(
                    f"The tool agent {tool_agent_id} answered a FunctionCall with {type(outcome).__name__}; "
                    "expected a FunctionExecutionResult."
                )
        generated.append(FunctionExecutionResultMessage(content=results))
        response = await model_client.create(
            [*input_messages, *generated], tools=tools, cancellation_token=cancellation_token
        )
        generated.append(AssistantMessage(content=response.content, thought=response.thought, source=caller_source))
    return generated
