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
from ._topic import TopicId

__all__ = [
    "MessageKind",
    "DeliveryStage",
    "MessageEvent",
    "MessageDroppedEvent",
    "MessageHandlerExceptionEvent",
    "AgentConstructionExceptionEvent",
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
