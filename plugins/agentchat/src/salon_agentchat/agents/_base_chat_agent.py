"""The base class of chat agents: run/run_stream, state and lifecycle defaults over :meth:`on_messages`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from salon import CancellationToken

from ..base import ChatAgent, Response, TaskResult
from ..messages import BaseAgentEvent, BaseChatMessage, ModelClientStreamingChunkEvent, TextMessage
from ..state import BaseState

__all__ = ["BaseChatAgent"]

_Task = str | BaseChatMessage | Sequence[BaseChatMessage] | None


def _task_messages(task: _Task) -> list[BaseChatMessage]:
    """The messages a task stands for: text becomes a ``TextMessage`` from ``"user"``."""
    if task is None:
        return []
    if isinstance(task, str):
        return [TextMessage(content=task, source="user")]
    if isinstance(task, BaseChatMessage):
        return [task]
    if not task:
        raise ValueError("Task list cannot be empty: pass task=None to continue without new messages.")
    for message in task:
        if not isinstance(message, BaseChatMessage):
            raise ValueError(
                f"Invalid message type in sequence: {type(message)}. A task list holds chat messages "
                "(TextMessage, MultiModalMessage, ...), not events."
            )
    return list(task)


class BaseChatAgent(ChatAgent, ABC):
    """A chat agent with everything but the answering done, for subclasses to fill in.

    Implement :meth:`on_messages`, :meth:`on_reset` and :attr:`produced_message_types` (and
    :meth:`on_messages_stream` to stream).

    The agent is stateful: each call receives only the messages that are new since the previous call,
    and the agent keeps what it needs of earlier ones. Pause, resume and close do nothing by default;
    the default state is an empty :class:`~salon_agentchat.state.BaseState`, right for stateless agents.

    Args:
        name: A Python identifier, unique within the agent's team (it becomes part of runtime ids).
        description: What the agent does, for teams that choose speakers by description.

    Raises:
        ValueError: ``name`` is not a valid identifier.
    """

    def __init__(self, name: str, description: str) -> None:
        if not name.isidentifier():
            raise ValueError(
                f"The agent name must be a valid Python identifier, got {name!r} "
                "(use letters, digits and underscores, not starting with a digit)."
            )
        self._name = name
        self._description = description

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str:
        return self._description

    @property
    @abstractmethod
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        """The chat message classes :attr:`Response.chat_message` can be."""

    @abstractmethod
    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        """Answer the new messages (only those since the previous call)."""

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        """Answer through :meth:`on_messages`, then yield its inner messages and the response.

        Override it for agents that can report progress while they work.
        """
        response = await self.on_messages(messages, cancellation_token)
        for inner_message in response.inner_messages or []:
            yield inner_message
        yield response

    async def run(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> TaskResult:
        """Run the agent on a task by itself (no team) and return what it produced.

        Args:
            task: Text (a ``TextMessage`` from ``"user"``), a chat message, a non-empty list of chat
                messages, or None to answer with no new input.
            cancellation_token: Passed to :meth:`on_messages`; a fresh one when not given.
            output_task_messages: Put the task's messages first in the result.

        Raises:
            ValueError: the task is an empty list or holds something other than chat messages.
        """
        if cancellation_token is None:
            cancellation_token = CancellationToken()
        input_messages = _task_messages(task)
        output_messages: list[BaseAgentEvent | BaseChatMessage] = list(input_messages) if output_task_messages else []
        response = await self.on_messages(input_messages, cancellation_token)
        if response.inner_messages is not None:
            output_messages.extend(response.inner_messages)
        output_messages.append(response.chat_message)
        return TaskResult(messages=output_messages)

    async def run_stream(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | TaskResult, None]:
        """Like :meth:`run`, but yield each message as it comes, and the :class:`TaskResult` last.

        The task's messages come first, then everything :meth:`on_messages_stream` yields.

        Streaming chunks are yielded but left out of the result, which holds the complete message instead.
        """
        if cancellation_token is None:
            cancellation_token = CancellationToken()
        input_messages = _task_messages(task)
        output_messages: list[BaseAgentEvent | BaseChatMessage] = []
        if output_task_messages:
            for message in input_messages:
                output_messages.append(message)
                yield message
        async for item in self.on_messages_stream(input_messages, cancellation_token):
            if isinstance(item, Response):
                yield item.chat_message
                output_messages.append(item.chat_message)
                yield TaskResult(messages=output_messages)
            else:
                yield item
                if not isinstance(item, ModelClientStreamingChunkEvent):
                    output_messages.append(item)

    @abstractmethod
    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Return to the state right after construction."""

    async def on_pause(self, cancellation_token: CancellationToken) -> None:
        """Does nothing; override to pause work in progress."""

    async def on_resume(self, cancellation_token: CancellationToken) -> None:
        """Does nothing; override to resume work paused by :meth:`on_pause`."""

    async def save_state(self) -> Mapping[str, Any]:
        """An empty :class:`~salon_agentchat.state.BaseState` (stateless agents have nothing to save)."""
        return BaseState().model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Check that ``state`` is a state at all; a stateless agent has nothing to restore.

        Raises:
            pydantic.ValidationError: ``state`` is not shaped like a saved state.
        """
        BaseState.model_validate(state)

    async def close(self) -> None:
        """Does nothing; override to release resources."""
