"""EchoAgent: answers a text message with the same text behind a prefix."""

from __future__ import annotations

from salon import MessageContext, RoutedAgent, message_handler

__all__ = ["EchoAgent"]


class EchoAgent(RoutedAgent):
    """Answers every ``str`` it receives with ``prefix + text``.

    A plain :class:`~salon.RoutedAgent`: the runtime routes a message to :meth:`on_text` because the
    handler's annotation says it takes a ``str``. Any other message type is refused
    (``CantHandleException`` at the caller of ``send_message``).

    Args:
        prefix: Put before every answer.
        description: What the agent does, for people and for selector strategies.
    """

    def __init__(self, prefix: str = "echo: ", description: str = "Echoes text back with a prefix.") -> None:
        super().__init__(description)
        self._prefix = prefix

    @property
    def prefix(self) -> str:
        """What the agent puts before the text."""
        return self._prefix

    @message_handler
    async def on_text(self, message: str, ctx: MessageContext) -> str:
        """Return the text behind the prefix; the value travels back to the caller of ``send_message``."""
        return f"{self._prefix}{message}"
