"""The messages of AgentChat (the port of ``autogen_agentchat.messages``).

Chat messages (:class:`BaseChatMessage`) go from agent to agent; agent events (:class:`BaseAgentEvent`)
report what an agent did and are only shown to the caller. All are pydantic models with a ``type``
field, so they round-trip through JSON with :meth:`~BaseMessage.dump` / :meth:`~BaseMessage.load` or
a :class:`MessageFactory`, in the same shape AutoGen writes.
"""

from __future__ import annotations

from ._messages_base import BaseAgentEvent, BaseChatMessage, BaseMessage, BaseTextChatMessage
from ._messages_chat import HandoffMessage, MultiModalMessage, StopMessage, TextMessage, ToolCallSummaryMessage
from ._messages_events import (
    CodeExecutionEvent,
    CodeGenerationEvent,
    MemoryQueryEvent,
    ModelClientStreamingChunkEvent,
    SelectorEvent,
    SelectSpeakerEvent,
    ThoughtEvent,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    UserInputRequestedEvent,
)
from ._messages_factory import AgentEvent, ChatMessage, MessageFactory
from ._messages_structured import StructuredContentType, StructuredMessage, StructuredMessageFactory

__all__ = [
    "AgentEvent",
    "BaseAgentEvent",
    "BaseChatMessage",
    "BaseMessage",
    "BaseTextChatMessage",
    "ChatMessage",
    "CodeExecutionEvent",
    "CodeGenerationEvent",
    "HandoffMessage",
    "MemoryQueryEvent",
    "MessageFactory",
    "ModelClientStreamingChunkEvent",
    "MultiModalMessage",
    "SelectSpeakerEvent",
    "SelectorEvent",
    "StopMessage",
    "StructuredContentType",
    "StructuredMessage",
    "StructuredMessageFactory",
    "TextMessage",
    "ThoughtEvent",
    "ToolCallExecutionEvent",
    "ToolCallRequestEvent",
    "ToolCallSummaryMessage",
    "UserInputRequestedEvent",
]
