"""Subscribe an agent type to one topic type."""

from __future__ import annotations

from ._agent_type import AgentType
from ._source_keyed_subscription import SourceKeyedSubscription

__all__ = ["TypeSubscription"]


class TypeSubscription(SourceKeyedSubscription):
    """Route topics of type ``topic_type`` to agent ``(agent_type, key=topic source)``.

    Each source gets its own instance, so ``TopicId("chat", "user-1")`` and ``TopicId("chat", "user-2")``
    reach two different agents of the same type.

    Args:
        topic_type: The topic type to match exactly.
        agent_type: The agent type that receives the messages.
        id: A unique id; a random one by default.

    Raises:
        ValueError: ``agent_type`` is not a valid agent type.
    """

    __slots__ = ()
    _kind = "topic_type"

    def __init__(self, topic_type: str, agent_type: str | AgentType, id: str | None = None) -> None:
        super().__init__(topic_type, agent_type, id)

    @property
    def topic_type(self) -> str:
        """The topic type it matches."""
        return self._pattern

    def matches_topic_type(self, topic_type: str) -> bool:
        """Return whether ``topic_type`` equals this subscription's topic type."""
        return topic_type == self._pattern
