"""Salon's LLM messages and tools as OpenAI chat-completions request data (plain dicts, as sent)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from salon.models import (
    AssistantMessage,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
    UserMessage,
)
from salon.tools import ToolSchema

__all__ = ["image_part", "normalize_name", "to_openai_messages", "tool_param", "tool_schema_of"]

_VALID_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_INVALID_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


def normalize_name(name: str) -> str:
    """A message ``name`` OpenAI accepts: invalid characters become ``_``, at most 64 characters."""
    return _INVALID_CHARS.sub("_", name)[:64] or "_"


def image_part(part: Any) -> dict[str, Any]:
    """An image inside a :class:`~salon.models.UserMessage` as an OpenAI ``image_url`` content part.

    Accepted: an object with ``to_openai_format()`` (AutoGen's and Salon's ``Image``), an object with a
    ``data_uri`` or ``url`` attribute, or an ``image_url`` part dict already in OpenAI's format.

    Raises:
        ValueError: ``part`` is none of these.
    """
    if isinstance(part, Mapping) and part.get("type") == "image_url":
        return dict(part)
    to_openai_format = getattr(part, "to_openai_format", None)
    if callable(to_openai_format):
        formatted = to_openai_format()
        if isinstance(formatted, Mapping):
            return dict(formatted)
    for attribute in ("data_uri", "url"):
        value = getattr(part, attribute, None)
        if isinstance(value, str):
            return {"type": "image_url", "image_url": {"url": value}}
    raise ValueError(
        f"Cannot send a {type(part).__name__} as part of a UserMessage: a part must be a str or an image "
        "(salon.Image, an object with to_openai_format() or data_uri, or an OpenAI image_url dict)."
    )


def _has_image(message: LLMMessage) -> bool:
    return (
        isinstance(message, UserMessage)
        and not isinstance(message.content, str)
        and any(not isinstance(part, str) for part in message.content)
    )


def to_openai_messages(
    messages: Sequence[LLMMessage],
    *,
    vision: bool,
    include_name_in_message: bool = True,
    add_name_prefixes: bool = False,
) -> list[dict[str, Any]]:
    """Convert a conversation to OpenAI's message dicts (one ``tool`` message per function result).

    Raises:
        ValueError: an image is sent to a model without vision, or a message is of an unknown type.
    """
    converted: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            converted.append({"role": "system", "content": message.content})
        elif isinstance(message, UserMessage):
            if _has_image(message) and not vision:
                raise ValueError(
                    "The messages contain an image but the model has no vision (model_info['vision'] is False); "
                    "remove the image or use a vision model."
                )
            prefix = f"{message.source} said:\n" if add_name_prefixes else ""
            item: dict[str, Any] = {"role": "user"}
            if isinstance(message.content, str):
                item["content"] = prefix + message.content
            else:
                parts: list[dict[str, Any]] = []
                for index, part in enumerate(message.content):
                    if isinstance(part, str):
                        parts.append({"type": "text", "text": (prefix if index == 0 else "") + part})
                    else:
                        parts.append(image_part(part))
                item["content"] = parts
            if include_name_in_message:
                item["name"] = normalize_name(message.source)
            converted.append(item)
        elif isinstance(message, AssistantMessage):
            item = {"role": "assistant"}
            if isinstance(message.content, str):
                item["content"] = message.content
            else:
                item["content"] = message.thought
                item["tool_calls"] = [
                    {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
                    for call in message.content
                ]
            if include_name_in_message:
                item["name"] = normalize_name(message.source)
            converted.append(item)
        elif isinstance(message, FunctionExecutionResultMessage):
            converted.extend(
                {"role": "tool", "tool_call_id": result.call_id, "content": result.content}
                for result in message.content
            )
        else:
            raise ValueError(f"Unknown message type {type(message).__name__}; expected an LLMMessage.")
    return converted


def tool_schema_of(tool: Any) -> ToolSchema:
    """The :class:`~salon.tools.ToolSchema` of a tool, or the schema itself when given one."""
    if isinstance(tool, Mapping):
        return tool  # type: ignore[return-value]
    schema: ToolSchema = tool.schema
    return schema


def tool_param(tool: Any) -> dict[str, Any]:
    """A tool as an OpenAI ``tools`` entry (``{"type": "function", "function": {...}}``).

    Raises:
        ValueError: the tool's name is not 1-64 letters, digits, ``_`` or ``-`` (OpenAI's rule).
    """
    schema = tool_schema_of(tool)
    name = schema["name"]
    if not _VALID_NAME.match(name):
        raise ValueError(
            f"Invalid tool name {name!r}: OpenAI accepts 1-64 characters from letters, digits, '_' and '-'."
        )
    function: dict[str, Any] = {"name": name}
    if schema.get("description"):
        function["description"] = schema["description"]
    parameters = schema.get("parameters")
    function["parameters"] = (
        dict(parameters) if parameters is not None else {"type": "object", "properties": {}, "required": []}
    )
    if schema.get("strict"):
        function["strict"] = True
    return {"type": "function", "function": function}
