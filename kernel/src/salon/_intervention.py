"""Intervention handlers: hooks that see (and may change or drop) every message a runtime routes."""

from __future__ import annotations

import warnings
from typing import Any, Protocol, final

from ._agent_id import AgentId
from ._message_context import MessageContext
from .exceptions import MessageDroppedException

__all__ = [
    "DropMessage",
    "InterventionHandler",
    "DefaultInterventionHandler",
    "Dropped",
    "run_interventions",
    "run_response_interventions",
]


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


class Dropped:
    """What :func:`run_interventions` returns when a handler dropped the message."""

    __slots__ = ("by",)

    def __init__(self, by: InterventionHandler) -> None:
        self.by = by

    def error(self, what: str = "Message") -> MessageDroppedException:
        """The exception an RPC caller gets."""
        return MessageDroppedException(f"{what} dropped by intervention handler {type(self.by).__name__}")


def _checked(result: Any, original: Any, handler: InterventionHandler, hook: str) -> Any:
    # AutoGen warns on None and then delivers None; Salon warns and keeps the message (a forgotten
    # `return message` should not turn every message into None).
    if result is None and original is not None:
        warnings.warn(
            f"Intervention handler {type(handler).__name__}.{hook} returned None; the message is kept unchanged. "
            "Return the message (or a replacement), or DropMessage to drop it.",
            RuntimeWarning,
            stacklevel=2,
        )
        return original
    return result


async def run_interventions(
    handlers: list[InterventionHandler], message: Any, ctx: MessageContext, recipient: AgentId | None
) -> Any:
    """Pass ``message`` through ``handlers`` in order: the message to deliver, or :class:`Dropped`.

    ``recipient`` is given for direct messages (``on_send``) and ``None`` for publishes (``on_publish``).
    """
    for handler in handlers:
        if recipient is not None:
            result = _checked(
                await handler.on_send(message, message_context=ctx, recipient=recipient), message, handler, "on_send"
            )
        else:
            result = _checked(await handler.on_publish(message, message_context=ctx), message, handler, "on_publish")
        if result is DropMessage or isinstance(result, DropMessage):
            return Dropped(handler)
        message = result
    return message


async def run_response_interventions(
    handlers: list[InterventionHandler], response: Any, sender: AgentId, recipient: AgentId | None
) -> Any:
    """Pass an RPC response through ``handlers``' ``on_response``: the response, or :class:`Dropped`."""
    for handler in handlers:
        result = await handler.on_response(response, sender=sender, recipient=recipient)
        if result is DropMessage or isinstance(result, DropMessage):
            return Dropped(handler)
        response = result
    return response
