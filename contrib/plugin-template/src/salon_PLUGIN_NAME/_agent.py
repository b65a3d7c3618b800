"""ExampleAgent: the component this plugin provides (replace it with yours)."""

from __future__ import annotations

from salon import MessageContext, RoutedAgent, message_handler

__all__ = ["ExampleAgent"]


class ExampleAgent(RoutedAgent):
    """Answers every ``str`` it receives with ``"<greeting>, <text>!"``.

    An ordinary :class:`~salon.RoutedAgent`, usable without any plugin machinery; the plugin only makes it
    available to config files under the name ``PLUGIN_NAME``.

    Args:
        greeting: Put before the text in every answer.
        description: What the agent does, for people and for selector strategies.
    """

    def __init__(self, greeting: str = "Hello", description: str = "Greets whoever it is sent.") -> None:
        super().__init__(description)
        self._greeting = greeting

    @message_handler
    async def on_text(self, message: str, ctx: MessageContext) -> str:
        """Return the greeting; the value travels back to the caller of ``send_message``."""
        return f"{self._greeting}, {message}!"
