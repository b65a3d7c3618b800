"""The two families of AgentChat messages: chat messages agents answer, and events people watch.

Every message is a pydantic model with a ``type`` field naming its class, so a conversation saved as
JSON (agent state, a team's thread, a message sent to another process) can be read back into the same
classes. Construction is on the hot path of every team turn, so these models carry no validators
beyond their field types.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Self

from pydantic import BaseModel, Field

from salon.models import RequestUsage, UserMessage

__all__ = ["BaseAgentEvent", "BaseChatMessage", "BaseMessage", "BaseTextChatMessage"]


def _new_id() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(UTC)


class BaseMessage(BaseModel, ABC):
    """Anything an agent or team emits: the root of :class:`BaseChatMessage` and :class:`BaseAgentEvent`.

    New message types should subclass one of those two, because teams treat them differently: chat
    messages are passed on to other agents, events are only shown to the caller.
    """

    @abstractmethod
    def to_text(self) -> str:
        """The message as plain text for people (Console) and for text-matching conditions.

        Not what a model reads: for that, chat messages have :meth:`BaseChatMessage.to_model_text`.
        """

    def dump(self) -> Mapping[str, Any]:
        """The message as JSON-ready data (datetimes as ISO strings), with its ``type`` field.

        Override together with :meth:`load` if a subclass needs a custom wire format.
        """
        return self.model_dump(mode="json")

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild a message of this class from what :meth:`dump` returned."""
        return cls.model_validate(data)


class BaseChatMessage(BaseMessage, ABC):
    """A message agents exchange: teams deliver it to the other participants, who answer it.

    Subclass it for new agent-to-agent message types, or use :class:`StructuredMessage` when the
    content is a pydantic model.
    """

    id: str = Field(default_factory=_new_id)
    """A unique id (a UUID4 string)."""

    source: str
    """The name of the agent (or ``"user"``) that sent it."""

    models_usage: RequestUsage | None = None
    """The tokens the model calls behind this message used, if any."""

    metadata: dict[str, str] = {}
    """Free-form string annotations."""

    created_at: datetime = Field(default_factory=_now)
    """When the message was made (UTC)."""

    @abstractmethod
    def to_model_text(self) -> str:
        """The content as text for a model, used when an agent folds messages into one prompt.

        :meth:`to_model_message` builds a whole model message instead; this builds a part of one.
        """

    @abstractmethod
    def to_model_message(self) -> UserMessage:
        """The message as a :class:`~salon.models.UserMessage` a model client can read."""


class BaseTextChatMessage(BaseChatMessage, ABC):
    """A chat message whose content is one string; the text methods all return that string."""

    content: str
    """The text."""

    def to_text(self) -> str:
        return self.content

    def to_model_text(self) -> str:
        return self.content

    def to_model_message(self) -> UserMessage:
        return UserMessage(content=self.content, source=self.source)


class BaseAgentEvent(BaseMessage, ABC):
    """Something an agent or team did or thought, shown to the caller and never answered by agents.

    Subclass it for new observable events (override :meth:`to_text` for how Console shows them).
    """

    id: str = Field(default_factory=_new_id)
    """A unique id (a UUID4 string)."""

    source: str
    """The name of the agent that emitted it."""

    models_usage: RequestUsage | None = None
    """The tokens the model calls behind this event used, if any."""

    metadata: dict[str, str] = {}
    """Free-form string annotations."""

    created_at: datetime = Field(default_factory=_now)
    """When the event was made (UTC)."""
