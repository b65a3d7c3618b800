"""The context that keeps the first and the last messages, with a note about the ones in between."""

from __future__ import annotations

from ..models import LLMMessage, UserMessage
from ._chat_completion_context import ChatCompletionContext
from ._pairing import flatten, units

__all__ = ["HeadAndTailChatCompletionContext"]


class HeadAndTailChatCompletionContext(ChatCompletionContext):
    """Sends the model the first ``head_size`` and the last ``tail_size`` messages.

    The head usually holds the task and the tail the latest turns. Between them the model reads one
    ``UserMessage("Skipped N messages.", source="System")`` where N is the number of messages left out.
    When the whole conversation fits in ``head_size + tail_size`` messages, it is sent unchanged.

    Head and tail are made of whole units (a tool call and its results are kept or left out together):
    each *shrinks* to the nearest unit boundary inside its size, except that the tail always keeps the
    newest unit whole. If head and tail then meet, the whole conversation is sent without a note.

    Args:
        head_size: The most messages to keep from the start (positive).
        tail_size: The most messages to keep from the end (positive).
        initial_messages: Messages the context starts with.

    Raises:
        ValueError: A size is not positive.
    """

    def __init__(self, head_size: int, tail_size: int, initial_messages: list[LLMMessage] | None = None) -> None:
        super().__init__(initial_messages)
        if head_size <= 0:
            raise ValueError(f"head_size must be greater than 0, got {head_size}.")
        if tail_size <= 0:
            raise ValueError(f"tail_size must be greater than 0, got {tail_size}.")
        self._head_size = head_size
        self._tail_size = tail_size

    async def get_messages(self) -> list[LLMMessage]:
        """Return the head, a note saying how many messages were skipped, and the tail."""
        messages = self._messages
        spans = list(units(messages))
        sizes = [end - start for start, end in spans]
        if sum(sizes) <= self._head_size + self._tail_size:
            return flatten(messages, spans)
        head_end, used = 0, 0
        while head_end < len(spans) and used + sizes[head_end] <= self._head_size:
            used += sizes[head_end]
            head_end += 1
        tail_start = len(spans) - 1  # the newest unit is always kept
        used = sizes[tail_start]
        while tail_start > head_end and used + sizes[tail_start - 1] <= self._tail_size:
            tail_start -= 1
            used += sizes[tail_start]
        if tail_start <= head_end:
            return flatten(messages, spans)
        skipped = sum(sizes[head_end:tail_start])
        note: LLMMessage = UserMessage(content=f"Skipped {skipped} messages.", source="System")
        return [*flatten(messages, spans[:head_end]), note, *flatten(messages, spans[tail_start:])]
