"""Structured events written to :data:`salon.EVENT_LOGGER_NAME`.

Each event is a log record's ``msg`` object: handlers may inspect ``record.msg.kwargs`` or format the
record, which renders the event as one JSON object. Events are only built when the event logger is
enabled for INFO, and the payload is only rendered when a handler formats the record, so a runtime
with event logging off pays nothing for it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from enum import Enum
from typing import Any

from ._agent_id import AgentId
from ._message_handler_context import _HANDLING_AGENT
from ._topic import TopicId

__all__ = [
    "MessageKind",
    "DeliveryStage",
    "MessageEvent",
    "MessageDroppedEvent",
    "MessageHandlerExceptionEvent",
    "AgentConstructionExceptionEvent",
    "LLMCallEvent",
    "LLMStreamStartEvent",
    "LLMStreamEndEvent",
    "ToolCallEvent",
]


class MessageKind(Enum):
    """How a message travels."""

    DIRECT = 1
    PUBLISH = 2
    RESPOND = 3


class DeliveryStage(Enum):
    """Where in its journey a message was logged."""

    SEND = 1
    DELIVER = 2


def render_payload(payload: Any) -> str:
    """Render a message as JSON where it is a dataclass or pydantic model, else as its ``repr``."""
    if isinstance(payload, str):
        return payload
    try:
        if is_dataclass(payload) and not isinstance(payload, type):
            return json.dumps(asdict(payload), default=repr)
        dump = getattr(payload, "model_dump_json", None)
        if callable(dump):
            return str(dump())
    except Exception:  # an event must never break delivery
        pass
    return repr(payload)


class _Event:
    """Base of the events: keeps raw values and renders them only when asked."""

    _type = "Event"

    def __init__(self, **kwargs: Any) -> None:
        self._raw = kwargs

    @property
    def kwargs(self) -> dict[str, Any]:
        """The event as a JSON-compatible dict."""
        rendered: dict[str, Any] = {}
        for key, value in self._raw.items():
            if key == "payload":
                rendered[key] = render_payload(value)
            elif isinstance(value, AgentId | TopicId | BaseException | Enum):
                rendered[key] = str(value)
            else:
                rendered[key] = value
        rendered["type"] = self._type
        return rendered

    def __str__(self) -> str:
        return json.dumps(self.kwargs, default=repr)


class MessageEvent(_Event):
    """A message was sent or delivered."""

    _type = "Message"

    def __init__(
        self,
        *,
        payload: Any,
        sender: AgentId | None,
        receiver: AgentId | TopicId | None,
        kind: MessageKind,
        delivery_stage: DeliveryStage,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            payload=payload, sender=sender, receiver=receiver, kind=kind, delivery_stage=delivery_stage, **kwargs
        )


class MessageDroppedEvent(_Event):
    """An intervention handler dropped a message."""

    _type = "MessageDropped"

    def __init__(
        self,
        *,
        payload: Any,
        sender: AgentId | None,
        receiver: AgentId | TopicId | None,
        kind: MessageKind,
        **kwargs: Any,
    ) -> None:
        super().__init__(payload=payload, sender=sender, receiver=receiver, kind=kind, **kwargs)


class MessageHandlerExceptionEvent(_Event):
    """A handler raised while handling a message."""

    _type = "MessageHandlerException"

    def __init__(self, *, payload: Any, handling_agent: AgentId, exception: BaseException, **kwargs: Any) -> None:
        super().__init__(payload=payload, handling_agent=handling_agent, exception=exception, **kwargs)


class AgentConstructionExceptionEvent(_Event):
    """An agent factory raised."""

    _type = "AgentConstructionException"

    def __init__(self, *, agent_id: AgentId, exception: BaseException, **kwargs: Any) -> None:
        super().__init__(agent_id=agent_id, exception=exception, **kwargs)


# -- model and tool calls --------------------------------------------------------------------------------
#
# Model clients log these on every call. Building one costs a few attribute stores (messages and the
# response are kept as the objects the client already has); turning them into JSON happens only when a
# handler formats or inspects the record, so a client pays nothing for logging nobody reads.


def render_value(value: Any) -> Any:
    """Turn ``value`` into JSON-compatible data: pydantic models and dataclasses become dicts, recursively.

    Anything else that JSON cannot hold becomes its ``repr``, so rendering an event never raises.
    """
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [render_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): render_value(item) for key, item in value.items()}
    if isinstance(value, AgentId | TopicId | BaseException | Enum):
        return str(value)
    try:
        dump = getattr(value, "model_dump", None)
        if callable(dump) and not isinstance(value, type):
            return dump(mode="json")
        if is_dataclass(value) and not isinstance(value, type):
            return render_value(asdict(value))
    except Exception:  # an event must never break a model call
        pass
    return repr(value)


class _CallEvent(_Event):
    """An event about a model or tool call: records the calling agent and renders nested values."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("agent_id", _HANDLING_AGENT.get(None))
        super().__init__(**kwargs)

    @property
    def kwargs(self) -> dict[str, Any]:
        """The event as a JSON-compatible dict (``agent_id`` is ``None`` outside a message handler)."""
        rendered = {key: render_value(value) for key, value in self._raw.items()}
        rendered["type"] = self._type
        return rendered


class LLMCallEvent(_CallEvent):
    """A model client completed a (non-streaming) call.

    Args:
        messages: The request's messages: provider-format dicts or :class:`~salon.models.LLMMessage` objects.
        response: The response: a provider-format dict or a :class:`~salon.models.CreateResult`.
        prompt_tokens: Tokens the prompt used, as the provider reported them.
        completion_tokens: Tokens the response used.
        **kwargs: Extra fields to record (for example ``tools``).
    """

    _type = "LLMCall"

    def __init__(
        self, *, messages: Any, response: Any, prompt_tokens: int, completion_tokens: int, **kwargs: Any
    ) -> None:
        super().__init__(
            messages=messages,
            response=response,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            **kwargs,
        )

    @property
    def prompt_tokens(self) -> int:
        """Tokens the prompt used."""
        return int(self._raw["prompt_tokens"])

    @property
    def completion_tokens(self) -> int:
        """Tokens the response used."""
        return int(self._raw["completion_tokens"])


class LLMStreamStartEvent(_CallEvent):
    """A model client started a streaming call.

    Args:
        messages: The request's messages: provider-format dicts or :class:`~salon.models.LLMMessage` objects.
        **kwargs: Extra fields to record.
    """

    _type = "LLMStreamStart"

    def __init__(self, *, messages: Any, **kwargs: Any) -> None:
        super().__init__(messages=messages, **kwargs)


class LLMStreamEndEvent(_CallEvent):
    """A model client finished a streaming call; the token counts are the whole call's.

    Args:
        response: The complete response: a provider-format dict or a :class:`~salon.models.CreateResult`.
        prompt_tokens: Tokens the prompt used.
        completion_tokens: Tokens the response used.
        **kwargs: Extra fields to record.
    """

    _type = "LLMStreamEnd"

    def __init__(self, *, response: Any, prompt_tokens: int, completion_tokens: int, **kwargs: Any) -> None:
        super().__init__(response=response, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, **kwargs)

    @property
    def prompt_tokens(self) -> int:
        """Tokens the prompt used."""
        return int(self._raw["prompt_tokens"])

    @property
    def completion_tokens(self) -> int:
        """Tokens the response used."""
        return int(self._raw["completion_tokens"])


class ToolCallEvent(_CallEvent):
    """A tool ran.

    Args:
        tool_name: The tool's name.
        arguments: The arguments it was called with (JSON-compatible).
        result: The result as the text the model will read.
        **kwargs: Extra fields to record (for example ``call_id``).
    """

    _type = "ToolCall"

    def __init__(self, *, tool_name: str, arguments: Any, result: str, **kwargs: Any) -> None:
        super().__init__(tool_name=tool_name, arguments=arguments, result=result, **kwargs)
