"""Turning model-message content into text, for agents that talk to models without vision."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from salon import FunctionCall, Image
from salon.models import FunctionExecutionResult, LLMMessage, UserMessage

__all__ = ["content_to_str", "remove_images"]

_Content = str | BaseModel | Sequence[str | Image] | Sequence[FunctionCall] | Sequence[FunctionExecutionResult]


def content_to_str(content: _Content) -> str:
    """The content of a model message as text: strings as they are, models as JSON, lists one part a line.

    Images become ``<image>``; function calls and results their ``str()``.
    """
    if isinstance(content, str):
        return content
    if isinstance(content, BaseModel):
        return content.model_dump_json()
    lines: list[str] = []
    for part in content:
        if isinstance(part, str):
            lines.append(part)
        elif isinstance(part, Image):
            lines.append("<image>")
        else:
            lines.append(str(part))
    return "\n".join(lines)


def remove_images(messages: list[LLMMessage]) -> list[LLMMessage]:
    """The messages with every multi-part user message flattened to text (images become ``<image>``).

    Other messages are kept as they are (the same objects).
    """
    result: list[LLMMessage] = []
    for message in messages:
        if isinstance(message, UserMessage) and isinstance(message.content, list):
            result.append(UserMessage(content=content_to_str(message.content), source=message.source))
        else:
            result.append(message)
    return result
