"""Which agent's handler is running, for code that needs it without a reference to the agent."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ClassVar

from ._agent_id import AgentId

__all__ = ["MessageHandlerContext"]

_HANDLING_AGENT: ContextVar[AgentId] = ContextVar("salon_message_handler")


class MessageHandlerContext:
    """The id of the agent whose message handler is running (used by :class:`DefaultTopicId`)."""

    def __init__(self) -> None:
        raise RuntimeError("MessageHandlerContext cannot be instantiated; use its class methods.")

    _MESSAGE_HANDLER_CONTEXT: ClassVar[ContextVar[AgentId]] = _HANDLING_AGENT

    @classmethod
    @contextmanager
    def populate_context(cls, ctx: AgentId) -> Generator[None, None, None]:
        """Make ``ctx`` the handling agent for the duration of the ``with`` block."""
        token = _HANDLING_AGENT.set(ctx)
        try:
            yield
        finally:
            _HANDLING_AGENT.reset(token)

    @classmethod
    def agent_id(cls) -> AgentId:
        """The id of the agent whose handler is running.

        Raises:
            RuntimeError: called outside a message handler.
        """
        try:
            return _HANDLING_AGENT.get()
        except LookupError as e:
            raise RuntimeError("MessageHandlerContext.agent_id() was called outside a message handler.") from e

    @classmethod
    def is_in_handler(cls) -> bool:
        """Return whether a message handler is running in this context."""
        return _HANDLING_AGENT.get(None) is not None
