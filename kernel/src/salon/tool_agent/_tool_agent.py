"""An agent that runs tools for other agents: :class:`ToolAgent` and the errors it reports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from .._function_call import FunctionCall
from .._message_context import MessageContext
from .._message_handler import message_handler
from .._routed_agent import RoutedAgent
from ..models import FunctionExecutionResult
from ..tools import Tool, ToolArgumentsError

__all__ = [
    "ToolAgent",
    "ToolException",
    "ToolNotFoundException",
    "InvalidToolArgumentsException",
    "ToolExecutionException",
]


@dataclass(eq=False)
class ToolException(BaseException):
    """A tool call failed; ``content`` is the error text the model should read.

    A :class:`BaseException`, as in AutoGen, so that a tool's own ``except Exception`` cannot swallow the
    report on its way back to the caller. Unlike AutoGen's: ``str(error)`` is ``content`` (AutoGen's is
    empty), the error pickles (it can cross processes), and it compares by identity so it stays hashable.

    Attributes:
        call_id: The id of the failed :class:`~salon.FunctionCall`.
        content: What went wrong, phrased for the model.
        name: The tool's name.
    """

    call_id: str
    content: str
    name: str

    def __post_init__(self) -> None:
        self.args = (self.call_id, self.content, self.name)

    def __str__(self) -> str:
        return self.content


@dataclass(eq=False)
class ToolNotFoundException(ToolException):
    """The model called a tool the agent does not have."""


@dataclass(eq=False)
class InvalidToolArgumentsException(ToolException):
    """The arguments were not a JSON object, or did not match the tool's schema."""


@dataclass(eq=False)
class ToolExecutionException(ToolException):
    """The tool raised while running."""


class ToolAgent(RoutedAgent):
    """Runs tool calls sent to it as :class:`~salon.FunctionCall` messages and answers with the result.

    Send it a ``FunctionCall`` with :meth:`~salon.AgentRuntime.send_message`; the response is a
    :class:`~salon.models.FunctionExecutionResult`. Failures are raised to the sender as
    :class:`ToolException` subclasses carrying the text to show the model, which
    :func:`~salon.tool_agent.tool_agent_caller_loop` turns into error results. Cancelling the sender's
    token cancels the running tool.

    Args:
        description: The agent's description.
        tools: The tools it can run, looked up by name.
    """

    def __init__(self, description: str, tools: Sequence[Tool]) -> None:
        super().__init__(description)
        self._tools: list[Tool] = list(tools)

    @property
    def tools(self) -> list[Tool]:
        """The tools this agent runs."""
        return self._tools

    @message_handler
    async def handle_function_call(self, message: FunctionCall, ctx: MessageContext) -> FunctionExecutionResult:
        """Run the requested tool with the call's arguments and return its output as text.

        Raises:
            ToolNotFoundException: No tool has the call's name.
            InvalidToolArgumentsException: The arguments are not a JSON object or fail the tool's schema.
            ToolExecutionException: The tool raised.
        """
        tool = next((tool for tool in self._tools if tool.name == message.name), None)
        if tool is None:
            available = ", ".join(t.name for t in self._tools) or "none"
            raise ToolNotFoundException(
                call_id=message.id,
                content=f"Error: Tool not found: {message.name} (available: {available})",
                name=message.name,
            )
        try:
            arguments = json.loads(message.arguments) if message.arguments.strip() else {}
        except json.JSONDecodeError as e:
            raise InvalidToolArgumentsException(
                call_id=message.id, content=f"Error: Invalid arguments: {message.arguments}", name=message.name
            ) from e
        if not isinstance(arguments, dict):
            raise InvalidToolArgumentsException(
                call_id=message.id,
                content=f"Error: Invalid arguments: expected a JSON object, got {message.arguments}",
                name=message.name,
            )
        try:
            value = await tool.run_json(arguments, ctx.cancellation_token, call_id=message.id)
            text = tool.return_value_as_string(value)
        except ToolArgumentsError as e:
            raise InvalidToolArgumentsException(
                call_id=message.id, content=f"Error: Invalid arguments: {e}", name=message.name
            ) from e
        except Exception as e:
            raise ToolExecutionException(call_id=message.id, content=f"Error: {e}", name=message.name) from e
        return FunctionExecutionResult(content=text, call_id=message.id, is_error=False, name=message.name)
