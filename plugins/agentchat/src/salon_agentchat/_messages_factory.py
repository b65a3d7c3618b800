"""Rebuilding messages from JSON: the ``type`` field picks the class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from ._messages_base import BaseAgentEvent, BaseChatMessage
from ._messages_chat import HandoffMessage, MultiModalMessage, StopMessage, TextMessage, ToolCallSummaryMessage
from ._messages_events import (
    CodeExecutionEvent,
    CodeGenerationEvent,
    MemoryQueryEvent,
    ModelClientStreamingChunkEvent,
    SelectSpeakerEvent,
    ThoughtEvent,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    UserInputRequestedEvent,
)

__all__ = ["AgentEvent", "ChatMessage", "MessageFactory"]

_BUILT_IN: tuple[type[BaseAgentEvent | BaseChatMessage], ...] = (
    TextMessage,
    MultiModalMessage,
    StopMessage,
    ToolCallSummaryMessage,
    HandoffMessage,
    ToolCallRequestEvent,
    ToolCallExecutionEvent,
    MemoryQueryEvent,
    UserInputRequestedEvent,
    ModelClientStreamingChunkEvent,
    ThoughtEvent,
    SelectSpeakerEvent,
    CodeGenerationEvent,
    CodeExecutionEvent,
)


class MessageFactory:
    """Turns dumped messages back into message objects, by the class name in their ``type`` field.

    Knows the built-in messages; teams register the custom types their agents produce (including
    ``StructuredMessage[...]`` classes) so that saved conversations load again.
    """

    def __init__(self) -> None:
        self._message_types: dict[str, type[BaseAgentEvent | BaseChatMessage]] = {
            cls.__name__: cls for cls in _BUILT_IN
        }

    def is_registered(self, message_type: type[BaseAgentEvent | BaseChatMessage]) -> bool:
        """Whether a class of this name is known."""
        return message_type.__name__ in self._message_types

    def register(self, message_type: type[BaseAgentEvent | BaseChatMessage]) -> None:
        """Make ``message_type`` loadable by its class name.

        Raises:
            ValueError: a class of that name is already registered, or it is not a chat message or event.
        """
        if self.is_registered(message_type):
            raise ValueError(f"Message type {message_type} is already registered.")
        if not (isinstance(message_type, type) and issubclass(message_type, (BaseChatMessage, BaseAgentEvent))):
            raise ValueError(f"Message type {message_type} must be a subclass of BaseChatMessage or BaseAgentEvent.")
        self._message_types[message_type.__name__] = message_type

    def create(self, data: Mapping[str, Any]) -> BaseAgentEvent | BaseChatMessage:
        """Rebuild one message from its dump.

        Raises:
            ValueError: ``type`` is missing, not a string, or names an unregistered class.
        """
        message_type = data.get("type")
        if message_type is None:
            raise ValueError("Field 'type' is required in the message data to recover the message type.")
        if not isinstance(message_type, str):
            raise ValueError(f"Message type must be a string, got {type(message_type)}")
        message_class = self._message_types.get(message_type)
        if message_class is None:
            raise ValueError(
                f"Unknown message type: {message_type}. Register the class with MessageFactory.register() "
                f"(teams take it in custom_message_types=[...])."
            )
        return message_class.load(data)


ChatMessage = Annotated[
    TextMessage | MultiModalMessage | StopMessage | ToolCallSummaryMessage | HandoffMessage,
    Field(discriminator="type"),
]
"""Any built-in chat message (not :class:`StructuredMessage`), discriminated by ``type``."""

AgentEvent = Annotated[
    ToolCallRequestEvent
    | ToolCallExecutionEvent
    | MemoryQueryEvent
    | UserInputRequestedEvent
    | ModelClientStreamingChunkEvent
    | ThoughtEvent
    | SelectSpeakerEvent
    | CodeGenerationEvent
    | CodeExecutionEvent,
    Field(discriminator="type"),
]
"""Any built-in agent event, discriminated by ``type``."""
