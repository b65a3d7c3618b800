"""The chat agent contract: what a team needs from each participant."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import SerializeAsAny

from salon import CancellationToken

from ..messages import BaseAgentEvent, BaseChatMessage
from ._task import TaskRunner

__all__ = ["ChatAgent", "Response"]


@dataclass(kw_only=True)
class Response:
    """An agent's answer to :meth:`ChatAgent.on_messages`: one chat message, plus what happened on the way."""

    chat_message: SerializeAsAny[BaseChatMessage]
    """The reply the team passes on to the other participants."""

    inner_messages: Sequence[SerializeAsAny[BaseAgentEvent | BaseChatMessage]] | None = None
    """Events and messages the agent produced before the reply (tool calls, thoughts, ...)."""


class ChatAgent(ABC, TaskRunner):
    """A participant of a team: it answers the messages it is given and keeps its own history.

    Callers pass only the *new* messages on each call; the agent remembers earlier ones itself.
    """

    @property
    @abstractmethod
    def name(self) -> str:
        """The agent's name, unique within its team."""

    @property
    @abstractmethod
    def description(self) -> str:
        """What the agent can do; selector-style teams read it to choose the next speaker."""

    @property
    @abstractmethod
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        """The chat message classes :attr:`Response.chat_message` can be."""

    @abstractmethod
    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        """Answer the new messages."""

    @abstractmethod
    def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        """Answer the new messages, yielding inner events and messages as they happen, the :class:`Response` last."""

    @abstractmethod
    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Forget everything and return to the state right after construction."""

    @abstractmethod
    async def on_pause(self, cancellation_token: CancellationToken) -> None:
        """The team paused; the agent may be in the middle of :meth:`on_messages` right now."""

    @abstractmethod
    async def on_resume(self, cancellation_token: CancellationToken) -> None:
        """The team resumed after :meth:`on_pause`."""

    @abstractmethod
    async def save_state(self) -> Mapping[str, Any]:
        """The agent's state as JSON-ready data, for :meth:`load_state` later (maybe in another process)."""

    @abstractmethod
    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`save_state` returned."""

    @abstractmethod
    async def close(self) -> None:
        """Release what the agent holds (connections, processes)."""
