"""The JSON shape of a runtime's saved state: agents, subscriptions and queued publishes."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from ._agent_id import AgentId
from ._constants import TRACE_LOGGER_NAME
from ._serialization import JSON_DATA_CONTENT_TYPE, SerializationRegistry
from ._subscription import Subscription
from ._topic import TopicId
from ._type_prefix_subscription import TypePrefixSubscription
from ._type_subscription import TypeSubscription

__all__ = ["RuntimeStateCodec", "STATE_FORMAT"]

STATE_FORMAT = "salon.runtime_state/1"
_logger = logging.getLogger(TRACE_LOGGER_NAME)

QueuedPublish = tuple[Any, AgentId | None, TopicId, str]


class RuntimeStateCodec:
    """Encodes and decodes the parts of a runtime's state that are not agents' own.

    The format is a JSON object ``{"format": "salon.runtime_state/1", "agents": {...},
    "subscriptions": [...], "queued_messages": [...]}``. Agent states are keyed by ``"type/key"`` as
    in AutoGen, and a plain AutoGen-style ``{agent_id: state}`` mapping is accepted on load.
    Subscriptions are saved for the built-in kinds; others cannot be rebuilt from data and are
    skipped with a warning (their owners add them again at registration).
    """

    def __init__(self, registry: SerializationRegistry) -> None:
        self._registry = registry

    def state(
        self, agents: dict[str, Any], subscriptions: list[dict[str, str]], queued: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Assemble the saved state."""
        return {"format": STATE_FORMAT, "agents": agents, "subscriptions": subscriptions, "queued_messages": queued}

    def encode_subscriptions(self, subscriptions: Iterable[Subscription]) -> list[dict[str, str]]:
        """Describe every built-in subscription as data."""
        encoded: list[dict[str, str]] = []
        for subscription in subscriptions:
            if isinstance(subscription, TypeSubscription) and type(subscription).is_match is TypeSubscription.is_match:
                encoded.append(
                    {
                        "kind": "type",
                        "topic_type": subscription.topic_type,
                        "agent_type": subscription.agent_type,
                        "id": subscription.id,
                    }
                )
            elif isinstance(subscription, TypePrefixSubscription):
                encoded.append(
                    {
                        "kind": "type_prefix",
                        "topic_type_prefix": subscription.topic_type_prefix,
                        "agent_type": subscription.agent_type,
                        "id": subscription.id,
                    }
                )
            else:
                _logger.warning(
                    "Subscription %r is not built in and is not saved with the runtime state.", subscription
                )
        return encoded

    def encode_publish(
        self, message: Any, sender: AgentId | None, topic_id: TopicId, message_id: str
    ) -> dict[str, Any]:
        """Describe a queued publish as data.

        Raises:
            ValueError: no serializer is registered for the message's type.
        """
        type_name = self._registry.type_name(message)
        payload = self._registry.serialize(message, type_name=type_name, data_content_type=JSON_DATA_CONTENT_TYPE)
        return {
            "topic": {"type": topic_id.type, "source": topic_id.source},
            "sender": None if sender is None else str(sender),
            "message_id": message_id,
            "type_name": type_name,
            "data_content_type": JSON_DATA_CONTENT_TYPE,
            "payload": base64.b64encode(payload).decode("ascii"),
        }

    def decode(self, state: Mapping[str, Any]) -> tuple[Mapping[str, Any], list[Subscription], list[QueuedPublish]]:
        """Split a saved state into agent states, subscriptions and queued publishes.

        Raises:
            ValueError: the state is malformed; the message says which part.
        """
        if not isinstance(state, Mapping):
            raise ValueError(f"Runtime state must be a mapping, got {type(state).__name__}.")
        if "format" not in state:
            return state, [], []  # AutoGen's shape: {agent_id: agent_state}
        if state["format"] != STATE_FORMAT:
            raise ValueError(
                f"Unsupported runtime state format {state['format']!r}; this runtime reads {STATE_FORMAT!r}."
            )
        agents = state.get("agents", {})
        if not isinstance(agents, Mapping):
            raise ValueError("Runtime state 'agents' must map 'type/key' strings to agent states.")
        subscriptions = [self._decode_subscription(i, item) for i, item in enumerate(state.get("subscriptions", []))]
        queued = [self._decode_publish(i, item) for i, item in enumerate(state.get("queued_messages", []))]
        return agents, subscriptions, queued

    def _decode_subscription(self, index: int, item: Any) -> Subscription:
        try:
            if item["kind"] == "type":
                return TypeSubscription(item["topic_type"], item["agent_type"], id=item["id"])
            if item["kind"] == "type_prefix":
                return TypePrefixSubscription(item["topic_type_prefix"], item["agent_type"], id=item["id"])
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"Runtime state subscriptions[{index}] is malformed: {e!r} in {item!r}.") from e
        raise ValueError(f"Runtime state subscriptions[{index}] has unknown kind {item.get('kind')!r}.")

    def _decode_publish(self, index: int, item: Any) -> QueuedPublish:
        try:
            payload = base64.b64decode(item["payload"])
            message = self._registry.deserialize(
                payload, type_name=item["type_name"], data_content_type=item["data_content_type"]
            )
            topic_id = TopicId(item["topic"]["type"], item["topic"]["source"])
            sender = None if item["sender"] is None else AgentId.from_str(item["sender"])
            return message, sender, topic_id, str(item["message_id"])
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"Runtime state queued_messages[{index}] cannot be restored: {e}") from e
