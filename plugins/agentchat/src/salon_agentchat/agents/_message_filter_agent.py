"""MessageFilterAgent: shows a wrapped agent only part of what its team says.

In looping workflows (a writer and a critic going back and forth) an agent often needs only the task
and the latest word of each peer; everything else costs tokens and distracts the model.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from salon import CancellationToken

from ..base import Response
from ..messages import BaseAgentEvent, BaseChatMessage
from ._base_chat_agent import BaseChatAgent

__all__ = ["MessageFilterAgent", "MessageFilterConfig", "PerSourceFilter"]


class PerSourceFilter(BaseModel):
    """Which messages of one source to keep.

    Attributes:
        source: The sender whose messages this filter keeps (an agent's name, or ``"user"``).
        position: Keep the ``"first"`` or the ``"last"`` ``count`` of them; ``None`` keeps all.
        count: How many to keep at ``position``; ``None`` keeps all.
    """

    source: str
    position: Literal["first", "last"] | None = None
    count: int | None = Field(default=None, ge=1)


class MessageFilterConfig(BaseModel):
    """The filters a :class:`MessageFilterAgent` applies; a source without a filter is dropped entirely."""

    per_source: list[PerSourceFilter]


class MessageFilterAgent(BaseChatAgent):
    """Wraps an agent and passes it only the messages its filter selects.

    For each :class:`PerSourceFilter`, in the order listed, the incoming messages from that source are
    selected (the first or last ``count`` of them, or all), and the selections are concatenated: the
    wrapped agent sees them grouped by filter, not interleaved by time, as in AutoGen. Messages from
    sources no filter names are dropped. The filter applies to each turn's new messages, which is what
    teams deliver, so "last 1 from B" means B's latest message since this agent last spoke.

    Everything else is the wrapped agent's: its produced message types, its events and reply, its
    reset, and its state (unlike AutoGen 0.7.5, where the wrapper saved an empty state and the wrapped
    agent's memory was lost when a team was saved and restored).

    Args:
        name: The wrapper's name, the one the team knows (usually the wrapped agent's name).
        wrapped_agent: The agent that answers.
        filter: Which messages it sees.

    Example::

        critic = MessageFilterAgent(
            "critic",
            wrapped_agent=critic_inner,
            filter=MessageFilterConfig(
                per_source=[
                    PerSourceFilter(source="user", position="first", count=1),
                    PerSourceFilter(source="writer", position="last", count=1),
                ]
            ),
        )
    """

    def __init__(self, name: str, wrapped_agent: BaseChatAgent, filter: MessageFilterConfig) -> None:
        if not isinstance(filter, MessageFilterConfig):
            raise TypeError(
                "filter must be a MessageFilterConfig(per_source=[PerSourceFilter(...), ...]), "
                f"got {type(filter).__name__}."
            )
        super().__init__(name=name, description=f"{wrapped_agent.description} (with message filtering)")
        self._wrapped_agent = wrapped_agent
        self._filter = filter

    @property
    def wrapped_agent(self) -> BaseChatAgent:
        """The agent that answers."""
        return self._wrapped_agent

    @property
    def filter(self) -> MessageFilterConfig:
        """The filters applied to each turn's messages."""
        return self._filter

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        """Whatever the wrapped agent produces."""
        return self._wrapped_agent.produced_message_types

    def _apply_filter(self, messages: Sequence[BaseChatMessage]) -> list[BaseChatMessage]:
        """The messages the wrapped agent should see this turn (see the class docstring for the order)."""
        selected: list[BaseChatMessage] = []
        for rule in self._filter.per_source:
            from_source = [message for message in messages if message.source == rule.source]
            if rule.count is not None and rule.position == "first":
                from_source = from_source[: rule.count]
            elif rule.count is not None and rule.position == "last":
                from_source = from_source[-rule.count :]
            selected.extend(from_source)
        return selected

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        """Pass the selected messages to the wrapped agent and return its reply."""
        return await self._wrapped_agent.on_messages(self._apply_filter(messages), cancellation_token)

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        """Pass the selected messages to the wrapped agent and relay its stream."""
        async for item in self._wrapped_agent.on_messages_stream(self._apply_filter(messages), cancellation_token):
            yield item

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Reset the wrapped agent."""
        await self._wrapped_agent.on_reset(cancellation_token)

    async def on_pause(self, cancellation_token: CancellationToken) -> None:
        """Pause the wrapped agent."""
        await self._wrapped_agent.on_pause(cancellation_token)

    async def on_resume(self, cancellation_token: CancellationToken) -> None:
        """Resume the wrapped agent."""
        await self._wrapped_agent.on_resume(cancellation_token)

    async def save_state(self) -> Mapping[str, Any]:
        """The wrapped agent's state (the filter itself is configuration, not state)."""
        return await self._wrapped_agent.save_state()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore the wrapped agent from :meth:`save_state`'s result."""
        await self._wrapped_agent.load_state(state)

    async def close(self) -> None:
        """Close the wrapped agent."""
        await self._wrapped_agent.close()
