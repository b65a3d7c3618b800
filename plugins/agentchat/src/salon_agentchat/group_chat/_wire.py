"""Pydantic field types that let the group-chat events cross a process boundary.

The events carry messages typed as their abstract bases (``BaseChatMessage``, ``BaseAgentEvent``). In one
process pydantic keeps the concrete instance it is given (no copy, no re-validation), which is what the hot
path wants. On the wire, though, a JSON object has to be turned back into the right concrete class; pydantic
cannot do that for an abstract base, so these validators look the class up by the message's ``type`` field,
among the built-in messages and every subclass imported in the receiving process (custom messages and
``StructuredMessage[...]`` included).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import BeforeValidator, SerializeAsAny

from ..base import Response, TaskResult
from ..messages import BaseAgentEvent, BaseChatMessage

__all__ = [
    "AnyMessageField",
    "ChatMessageField",
    "ResponseField",
    "TaskResultField",
    "message_class_for",
    "message_from_data",
]

_classes: dict[str, type[BaseAgentEvent | BaseChatMessage]] = {}


def _scan(root: type[Any]) -> None:
    pending = [root]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        _classes.setdefault(cls.__name__, cls)


def message_class_for(type_name: str) -> type[BaseAgentEvent | BaseChatMessage]:
    """Return the message class a wire ``type`` names.

    Raises:
        ValueError: no message class of that name is imported in this process.
    """
    cls = _classes.get(type_name)
    if cls is None:
        _scan(BaseChatMessage)
        _scan(BaseAgentEvent)
        cls = _classes.get(type_name)
        if cls is None:
            raise ValueError(
                f"Unknown message type {type_name!r} in a group-chat event. Import the module that defines it in "
                "this process (and list it in the team's custom_message_types)."
            )
    return cls


def message_from_data(data: Any) -> Any:
    """Turn wire data into a message; a message object passes through untouched."""
    if isinstance(data, BaseChatMessage | BaseAgentEvent) or not isinstance(data, Mapping):
        return data
    type_name = data.get("type")
    if not isinstance(type_name, str):
        raise ValueError("A message on the wire needs a string field 'type' naming its class.")
    return message_class_for(type_name).load(data)


def _messages_from_data(data: Any) -> Any:
    if isinstance(data, list | tuple):
        return [message_from_data(item) for item in data]
    return data


def _response_from_data(data: Any) -> Any:
    if isinstance(data, Mapping):
        inner = data.get("inner_messages")
        return Response(
            chat_message=message_from_data(data["chat_message"]),
            inner_messages=None if inner is None else _messages_from_data(inner),
        )
    return data


def _task_result_from_data(data: Any) -> Any:
    if isinstance(data, Mapping):
        return TaskResult(messages=_messages_from_data(data.get("messages", [])), stop_reason=data.get("stop_reason"))
    return data


ChatMessageField = Annotated[SerializeAsAny[BaseChatMessage], BeforeValidator(message_from_data)]
"""A ``BaseChatMessage`` that round-trips through JSON as its concrete class."""

AnyMessageField = Annotated[SerializeAsAny[BaseAgentEvent | BaseChatMessage], BeforeValidator(message_from_data)]
"""A ``BaseAgentEvent`` or ``BaseChatMessage`` that round-trips through JSON as its concrete class."""

ResponseField = Annotated[SerializeAsAny[Response], BeforeValidator(_response_from_data)]
"""An agent's ``Response``; its messages round-trip as their concrete classes."""

TaskResultField = Annotated[SerializeAsAny[TaskResult], BeforeValidator(_task_result_from_data)]
"""A team's ``TaskResult``; its messages round-trip as their concrete classes."""


def chat_messages_from_data(data: Any) -> Any:
    """Validator for a list of chat messages (the task of a ``GroupChatStart``)."""
    if data is None:
        return None
    return _messages_from_data(data) if isinstance(data, Sequence) and not isinstance(data, str) else data
