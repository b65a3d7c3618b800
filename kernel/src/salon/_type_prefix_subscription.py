"""Subscribe an agent type to every topic type that starts with a prefix."""

from __future__ import annotations

from ._agent_type import AgentType
from ._source_keyed_subscription import SourceKeyedSubscription

__all__ = ["TypePrefixSubscription"]


class TypePrefixSubscription(SourceKeyedSubscription):
    """Route topics whose type starts with ``topic_type_prefix`` to ``(agent_type, key=topic source)``.

    Every registered agent type gets one of these for ``"<agent_type>:"``, which is how direct
    publishing to an agent type works.

    Args:
        topic_type_prefix: The prefix a topic type must start with.
        agent_type: The agent type that receives the messages.
        id: A unique id; a random one by default.

    Raises:
        ValueError: ``agent_type`` is not a valid agent type.
    """

    __slots__ = ()
    _kind = "topic_type_prefix"

    def __init__(self, topic_type_prefix: str, agent_type: str | AgentType, id: str | None = None) -> None:
        super().__init__(topic_type_prefix, agent_type, id)

    @property
    def topic_type_prefix(self) -> str:
        """The prefix it matches."""
        return self._pattern

    def matches_topic_type(self, topic_type: str) -> bool:
        """Return whether ``topic_type`` starts with the prefix."""
        return topic_type.startswith(self._pattern)
