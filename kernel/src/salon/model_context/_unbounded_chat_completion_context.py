"""The context that keeps the whole conversation."""

from __future__ import annotations

from ..models import LLMMessage
from ._chat_completion_context import ChatCompletionContext
from ._pairing import UnitCache

__all__ = ["UnboundedChatCompletionContext"]


class UnboundedChatCompletionContext(ChatCompletionContext):
    """Sends the model every message it holds.

    The only messages left out are broken tool-call units (a call whose results were never added, or
    results without their call), which no provider accepts; in a conversation built the usual way the view
    is the whole history.
    """

    def __init__(self, initial_messages: list[LLMMessage] | None = None) -> None:
        super().__init__(initial_messages)
        self._units = UnitCache()

    async def get_messages(self) -> list[LLMMessage]:
        """Return every message of every unbroken unit, oldest first.

        The units of the settled part of the history are remembered between calls, so a call costs the
        new messages, not the whole conversation.
        """
        return self._units.view(self._messages)
