"""The context that keeps as many recent messages as fit in a token budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models import ChatCompletionClient, LLMMessage
from ._chat_completion_context import ChatCompletionContext
from ._pairing import Span, flatten, units

if TYPE_CHECKING:
    from ..tools import ToolSchema

__all__ = ["TokenLimitedChatCompletionContext"]


class TokenLimitedChatCompletionContext(ChatCompletionContext):
    """Sends the model the newest messages that fit in a token budget, counted by a model client.

    The view is the longest run of newest units (a tool call and its results are one unit) whose token
    count, with the tool schemas, is within the budget: at most ``token_limit`` by
    :meth:`~salon.models.ChatCompletionClient.count_tokens`, or, without ``token_limit``, a
    non-negative :meth:`~salon.models.ChatCompletionClient.remaining_tokens` of ``model_client``. The
    budget is a hard limit (a request over it is rejected by the provider), so the window *shrinks* to a
    unit boundary; only the newest unit is kept even when it alone is over the budget, so that the
    model still sees the latest turn rather than nothing.

    This differs from AutoGen on purpose: AutoGen removes messages from the *middle* one at a time, which
    separates tool calls from their results and, near the limit, drops the newest message before the
    oldest. Salon counts the whole conversation once when it fits, and otherwise finds the window with a
    binary search over unit boundaries (O(log n) counts instead of one per removed message); this
    assumes, as every tokenizer does, that fewer messages never count as more tokens.

    Args:
        model_client: Counts tokens; not called for completions.
        token_limit: The budget in tokens, or ``None`` to use the client's own context window.
        tool_schema: Schemas of the tools that will be sent with the messages (they use tokens too).
        initial_messages: Messages the context starts with.

    Raises:
        ValueError: ``token_limit`` is not positive.
    """

    def __init__(
        self,
        model_client: ChatCompletionClient,
        *,
        token_limit: int | None = None,
        tool_schema: list[ToolSchema] | None = None,
        initial_messages: list[LLMMessage] | None = None,
    ) -> None:
        super().__init__(initial_messages)
        if token_limit is not None and token_limit <= 0:
            raise ValueError(f"token_limit must be greater than 0 (or None for the model's limit), got {token_limit}.")
        self._model_client = model_client
        self._token_limit = token_limit
        self._tool_schema: list[ToolSchema] = list(tool_schema) if tool_schema else []

    def _fits(self, view: list[LLMMessage]) -> bool:
        if self._token_limit is None:
            return self._model_client.remaining_tokens(view, tools=self._tool_schema) >= 0
        return self._model_client.count_tokens(view, tools=self._tool_schema) <= self._token_limit

    async def get_messages(self) -> list[LLMMessage]:
        """Return the newest whole units that fit in the token budget, oldest first."""
        messages = self._messages
        spans: list[Span] = list(units(messages))
        view = flatten(messages, spans)
        if len(spans) <= 1 or self._fits(view):
            return view
        # Smallest start index whose suffix fits; the newest unit alone (index len - 1) is always accepted.
        low, high = 1, len(spans) - 1
        while low < high:
            middle = (low + high) // 2
            if self._fits(flatten(messages, spans[middle:])):
                high = middle
            else:
                low = middle + 1
        return flatten(messages, spans[low:])
