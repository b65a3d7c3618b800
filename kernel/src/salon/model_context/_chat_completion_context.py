"""The model-context contract: what an agent stores its conversation in, and what it sends to the model."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from ..models import LLMMessage

__all__ = ["ChatCompletionContext", "ChatCompletionContextState"]


class ChatCompletionContext(ABC):
    """Stores an agent's conversation and decides which part of it the model sees.

    :meth:`add_message` keeps every message; :meth:`get_messages` returns the *view* sent to the model,
    which subclasses shorten by their own rule. Every view Salon's contexts return keeps tool calls and
    their results together (see ``docs/models.md``, "Windowing"), and is a new list the caller may change.

    Subclasses implement :meth:`get_messages` and may read ``self._messages`` (the full history, oldest
    first), as in AutoGen.

    Args:
        initial_messages: Messages the context starts with. :meth:`clear` removes them too, as in AutoGen.
    """

    def __init__(self, initial_messages: list[LLMMessage] | None = None) -> None:
        self._messages: list[LLMMessage] = list(initial_messages) if initial_messages is not None else []
        self._initial_messages = initial_messages

    async def add_message(self, message: LLMMessage) -> None:
        """Append ``message`` to the history."""
        self._messages.append(message)

    @abstractmethod
    async def get_messages(self) -> list[LLMMessage]:
        """Return the messages to send to the model, oldest first, as a new list."""

    async def clear(self) -> None:
        """Forget every message."""
        self._messages = []

    async def save_state(self) -> Mapping[str, Any]:
        """Return the whole history as JSON-compatible data (for agent and runtime state)."""
        return ChatCompletionContextState(messages=self._messages).model_dump(mode="json")

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Replace the history with one saved by :meth:`save_state`.

        Raises:
            pydantic.ValidationError: ``state`` is not a saved context state.
        """
        self._messages = ChatCompletionContextState.model_validate(state).messages


class ChatCompletionContextState(BaseModel):
    """The saved form of a context: its full history."""

    messages: list[LLMMessage] = Field(default_factory=list)
