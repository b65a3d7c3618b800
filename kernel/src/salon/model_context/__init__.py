"""Model contexts: what part of an agent's conversation the model sees (``autogen_core.model_context``).

Every context here keeps a tool call and its results together: a view never holds a tool-call message
without the results that follow it, nor results without their call (see ``docs/models.md``).
"""

from ._buffered_chat_completion_context import BufferedChatCompletionContext
from ._chat_completion_context import ChatCompletionContext, ChatCompletionContextState
from ._head_and_tail_chat_completion_context import HeadAndTailChatCompletionContext
from ._token_limited_chat_completion_context import TokenLimitedChatCompletionContext
from ._unbounded_chat_completion_context import UnboundedChatCompletionContext

__all__ = [
    "BufferedChatCompletionContext",
    "ChatCompletionContext",
    "ChatCompletionContextState",
    "HeadAndTailChatCompletionContext",
    "TokenLimitedChatCompletionContext",
    "UnboundedChatCompletionContext",
]
