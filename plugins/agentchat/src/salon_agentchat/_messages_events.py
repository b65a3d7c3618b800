"""The built-in agent events: what agents and teams report while they work (tool calls, thoughts, ...)."""

from __future__ import annotations

from typing import Literal

from salon import FunctionCall
from salon.code_executor import CodeBlock, CodeResult
from salon.memory import MemoryContent
from salon.models import FunctionExecutionResult

from ._messages_base import BaseAgentEvent

__all__ = [
    "CodeExecutionEvent",
    "CodeGenerationEvent",
    "MemoryQueryEvent",
    "ModelClientStreamingChunkEvent",
    "SelectSpeakerEvent",
    "SelectorEvent",
    "ThoughtEvent",
    "ToolCallExecutionEvent",
    "ToolCallRequestEvent",
    "UserInputRequestedEvent",
]


class ToolCallRequestEvent(BaseAgentEvent):
    """The model asked for tool calls; they are about to run."""

    content: list[FunctionCall]
    """The requested calls."""

    type: Literal["ToolCallRequestEvent"] = "ToolCallRequestEvent"

    def to_text(self) -> str:
        return str(self.content)


class ToolCallExecutionEvent(BaseAgentEvent):
    """Requested tool calls ran; these are their results."""

    content: list[FunctionExecutionResult]
    """One result per call."""

    type: Literal["ToolCallExecutionEvent"] = "ToolCallExecutionEvent"

    def to_text(self) -> str:
        return str(self.content)


class CodeGenerationEvent(BaseAgentEvent):
    """A code executor agent's model wrote code (attempt ``retry_attempt``, 0 for the first)."""

    retry_attempt: int
    """0 for the first generation, then 1, 2, ... for retries after failed runs."""

    content: str
    """The model's whole reply."""

    code_blocks: list[CodeBlock]
    """The code blocks found in it."""

    type: Literal["CodeGenerationEvent"] = "CodeGenerationEvent"

    def to_text(self) -> str:
        return self.content


class CodeExecutionEvent(BaseAgentEvent):
    """Code blocks ran (attempt ``retry_attempt``); this is what they produced."""

    retry_attempt: int
    """0 for the first run, then 1, 2, ... for retries."""

    result: CodeResult
    """Exit code and output."""

    type: Literal["CodeExecutionEvent"] = "CodeExecutionEvent"

    def to_text(self) -> str:
        return self.result.output


class UserInputRequestedEvent(BaseAgentEvent):
    """A user proxy is about to ask the user for input (emitted before the input function is called)."""

    request_id: str
    """Identifies the request, so a UI can match the answer to it."""

    content: Literal[""] = ""
    """Always empty; present so consumers can read ``content`` from every event."""

    type: Literal["UserInputRequestedEvent"] = "UserInputRequestedEvent"

    def to_text(self) -> str:
        return str(self.content)


class MemoryQueryEvent(BaseAgentEvent):
    """Memories were consulted; these items were added to the model context."""

    content: list[MemoryContent]
    """The memory items found."""

    type: Literal["MemoryQueryEvent"] = "MemoryQueryEvent"

    def to_text(self) -> str:
        return str(self.content)


class ModelClientStreamingChunkEvent(BaseAgentEvent):
    """A piece of a model's reply while it streams."""

    content: str
    """The text of this chunk."""

    full_message_id: str | None = None
    """The id of the complete message that follows the chunks, so a UI can replace them by it."""

    type: Literal["ModelClientStreamingChunkEvent"] = "ModelClientStreamingChunkEvent"

    def to_text(self) -> str:
        return self.content


class ThoughtEvent(BaseAgentEvent):
    """A model's reasoning, or the text it wrote alongside tool calls."""

    content: str
    """The thought."""

    type: Literal["ThoughtEvent"] = "ThoughtEvent"

    def to_text(self) -> str:
        return self.content


class SelectSpeakerEvent(BaseAgentEvent):
    """A team chose who speaks next."""

    content: list[str]
    """The names of the chosen speakers."""

    type: Literal["SelectSpeakerEvent"] = "SelectSpeakerEvent"

    def to_text(self) -> str:
        return str(self.content)


class SelectorEvent(BaseAgentEvent):
    """Something a selector group chat reports about its choice."""

    content: str
    """The report."""

    type: Literal["SelectorEvent"] = "SelectorEvent"

    def to_text(self) -> str:
        return str(self.content)
