"""The context that keeps the last ``buffer_size`` messages."""

from __future__ import annotations

from ..models import LLMMessage
from ._chat_completion_context import ChatCompletionContext
from ._pairing import flatten, newest_within

__all__ = ["BufferedChatCompletionContext"]


class BufferedChatCompletionContext(ChatCompletionContext):
    """Sends the model the most recent messages, at most ``buffer_size`` of them.

    The window is the longest run of newest units that fits in ``buffer_size`` messages: where the plain
    cut would fall inside a tool call and its results, the window *shrinks* to start after that unit, so
    it never begins with orphaned results (AutoGen drops one leading result message; Salon drops the whole
    unit, however many result messages it has). One exception: the newest unit is kept whole even when it
    alone is larger than ``buffer_size``, so the latest turn always reaches the model. Finding the window
    reads only the newest messages, not the whole history.

    Args:
        buffer_size: The most messages to send (a positive number).
        initial_messages: Messages the context starts with.

    Raises:
        ValueError: ``buffer_size`` is not positive.
    """

    def __init__(self, buffer_size: int, initial_messages: list[LLMMessage] | None = None) -> None:
        super().__init__(initial_messages)
        if buffer_size <= 0:
            raise ValueError(f"buffer_size must be greater than 0, got {buffer_size}.")
        self._buffer_size = buffer_size

    async def get_messages(self) -> list[LLMMessage]:
        """Return at most ``buffer_size`` recent messages, never splitting a tool call from its results."""
        messages = self._messages
        return flatten(messages, newest_within(messages, self._buffer_size))
