"""The context that keeps the whole conversation."""

from __future__ import annotations

from ..models import LLMMessage
from ._chat_completion_context import ChatCompletionContext
from ._pairing import flatten, units

__all__ = ["UnboundedChatCompletionContext"]


class UnboundedChatCompletionContext(ChatCompletionContext):
    """Sends the model every message it holds.

    The only messages left out are broken tool-call units (a call whose results were never added, or
    results without their call), which no provider accepts; in a conversation built the usual way the view
    is the whole history.
    """

    async def get_messages(self) -> list[LLMMessage]:
        """Return every message of every unbroken unit, oldest first."""
        messages = self._messages
        return flatten(messages, list(units(messages)))
