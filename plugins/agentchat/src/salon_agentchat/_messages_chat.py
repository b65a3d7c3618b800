"""The built-in chat messages: what agents say to each other in a team."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from salon import FunctionCall, Image
from salon.models import FunctionExecutionResult, LLMMessage, UserMessage

from ._messages_base import BaseChatMessage, BaseTextChatMessage

__all__ = ["HandoffMessage", "MultiModalMessage", "StopMessage", "TextMessage", "ToolCallSummaryMessage"]


class TextMessage(BaseTextChatMessage):
    """Plain text from an agent or the user."""

    type: Literal["TextMessage"] = "TextMessage"


class MultiModalMessage(BaseChatMessage):
    """Text mixed with images (:class:`salon.Image`), for vision models."""

    content: list[str | Image]
    """Text and image parts, in reading order."""

    type: Literal["MultiModalMessage"] = "MultiModalMessage"

    def to_model_text(self, image_placeholder: str | None = "[image]") -> str:
        """The text parts joined, each image replaced by `` <placeholder>`` (or by its base64 when None).

        Args:
            image_placeholder: What stands for an image; None puts the image's base64 PNG in its place.
        """
        parts: list[str] = []
        for part in self.content:
            if isinstance(part, str):
                parts.append(part)
            elif image_placeholder is not None:
                parts.append(f" {image_placeholder}")
            else:
                parts.append(f" {part.to_base64()}")
        return "".join(parts)

    def to_text(self, iterm: bool = False) -> str:
        """One line per part, an image shown as ``<image>``.

        Args:
            iterm: Draw images inline with iTerm2's terminal image protocol instead.
        """
        lines: list[str] = []
        for part in self.content:
            if isinstance(part, str):
                lines.append(part)
            elif iterm:
                lines.append(f"\033]1337;File=inline=1:{part.to_base64()}\a\n")
            else:
                lines.append("<image>")
        return "\n".join(lines)

    def to_model_message(self) -> UserMessage:
        return UserMessage(content=list(self.content), source=self.source)


class StopMessage(BaseTextChatMessage):
    """A request to end the conversation; termination conditions return one to say why they fired."""

    type: Literal["StopMessage"] = "StopMessage"


class HandoffMessage(BaseTextChatMessage):
    """Passes the conversation to another agent (a Swarm moves the turn to :attr:`target`)."""

    target: str
    """The name of the agent that takes over."""

    context: list[LLMMessage] = Field(default_factory=list)
    """Model messages handed to the target along with the turn (e.g. the tool calls leading here)."""

    type: Literal["HandoffMessage"] = "HandoffMessage"


class ToolCallSummaryMessage(BaseTextChatMessage):
    """An agent's reply made of its tool results (``content``), when it does not reflect on them."""

    type: Literal["ToolCallSummaryMessage"] = "ToolCallSummaryMessage"

    tool_calls: list[FunctionCall]
    """The calls the model asked for."""

    results: list[FunctionExecutionResult]
    """Their results, in the same order."""
