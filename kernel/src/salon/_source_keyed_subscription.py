"""Shared base of the built-in subscriptions, which key the recipient by the topic's source."""

from __future__ import annotations

import uuid

from ._agent_id import AgentId, is_valid_agent_type
from ._agent_type import AgentType
from ._topic import TopicId
from .exceptions import CantHandleException

__all__ = ["SourceKeyedSubscription"]


class SourceKeyedSubscription:
    """Matches on the topic type only and delivers to ``AgentId(agent_type, topic.source)``.

    Because the match depends on the topic type alone, runtimes resolve these per topic type once
    and cache the answer; that is what keeps publishing independent of the number of subscriptions.
    Subclasses define :meth:`is_match` and the ``_pattern`` they compare.
    """

    __slots__ = ("_agent_type", "_id", "_pattern")

    _kind = "subscription"

    def __init__(self, pattern: str, agent_type: str | AgentType, id: str | None) -> None:
        if isinstance(agent_type, AgentType):
            agent_type = agent_type.type
        if not is_valid_agent_type(agent_type):
            raise ValueError(
                f"Invalid agent type {agent_type!r} in {type(self).__name__}: "
                "allowed values match `^[\\w\\-\\.]+\\Z` (letters, digits, '_', '-' and '.')."
            )
        if not isinstance(pattern, str):
            raise ValueError(f"Invalid {self._kind} {pattern!r} in {type(self).__name__}: expected a string.")
        self._pattern = pattern
        self._agent_type = agent_type
        self._id = id or str(uuid.uuid4())

    @property
    def id(self) -> str:
        """The subscription's id."""
        return self._id

    @property
    def agent_type(self) -> str:
        """The agent type it delivers to."""
        return self._agent_type

    def is_match(self, topic_id: TopicId) -> bool:
        """Return whether ``topic_id`` is for this subscription."""
        return self.matches_topic_type(topic_id.type)

    def matches_topic_type(self, topic_type: str) -> bool:
        """Return whether topics of type ``topic_type`` are for this subscription (whatever their source)."""
        raise NotImplementedError

    def map_to_agent(self, topic_id: TopicId) -> AgentId:
        """Return ``AgentId(agent_type, topic_id.source)``.

        Raises:
            CantHandleException: the topic does not match.
        """
        if not self.is_match(topic_id):
            raise CantHandleException(f"TopicId {topic_id} does not match the subscription {self!r}")
        return AgentId._trusted(self._agent_type, topic_id.source)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self._id}, {self._kind}={self._pattern}, agent_type={self._agent_type})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SourceKeyedSubscription) or other._kind != self._kind:
            return False
        return self._id == other._id or (self._agent_type == other._agent_type and self._pattern == other._pattern)

    def __hash__(self) -> int:
        return hash((self._kind, self._pattern, self._agent_type))
