"""Intervention handlers: hooks that see (and may change or drop) every message a runtime routes."""

from __future__ import annotations

from typing import Any, Protocol, final

from ._agent_id import AgentId
from ._message_context import MessageContext

__all__ = ["DropMessage", "InterventionHandler", "DefaultInterventionHandler"]


@final
class DropMessage:
    """Return this class (not an instance) from an intervention handler to drop the message."""


class InterventionHandler(Protocol):
    """Called by the runtime for each message before delivery; returns the message to deliver.

    Returning a different object replaces the message; returning :class:`DropMessage` drops it
    (an RPC caller then gets :class:`~salon.exceptions.MessageDroppedException`).
    Handlers run in registration order, in the dispatcher, so they keep messages in FIFO order.
    """

    async def on_send(
        self, message: Any, *, message_context: MessageContext, recipient: AgentId
    ) -> Any | type[DropMessage]:
        """See a direct message (``send_message``) before it is delivered."""
        ...

    async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any | type[DropMessage]:
        """See a published message before it is delivered to its subscribers."""
        ...

    async def on_response(self, message: Any, *, sender: AgentId, recipient: AgentId | None) -> Any | type[DropMessage]:
        """See an RPC response before it reaches the caller."""
        ...


class DefaultInterventionHandler(InterventionHandler):
    """An intervention handler that passes everything through; subclass it and override what you need."""

    async def on_send(
        self, message: Any, *, message_context: MessageContext, recipient: AgentId
    ) -> Any | type[DropMessage]:
        """Return ``message`` unchanged."""
        return message

    async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any | type[DropMessage]:
        """Return ``message`` unchanged."""
        return message

    async def on_response(self, message: Any, *, sender: AgentId, recipient: AgentId | None) -> Any | type[DropMessage]:
        """Return ``message`` unchanged."""
        return message
