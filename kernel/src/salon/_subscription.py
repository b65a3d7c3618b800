"""The subscription contract: which agents receive a published message."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ._agent_id import AgentId
from ._topic import TopicId

__all__ = ["Subscription", "UnboundSubscription"]


@runtime_checkable
class Subscription(Protocol):
    """Maps topics to the agent instances that receive messages published on them.

    A runtime calls :meth:`is_match` for a published topic and, when it matches, :meth:`map_to_agent`
    to find the recipient. Implementations must be pure functions of the topic (the runtime may cache
    their answers per topic type for the built-in kinds) and must define equality so a runtime can
    refuse duplicates.
    """

    @property
    def id(self) -> str:
        """A unique id, used to remove the subscription."""
        ...

    def __eq__(self, other: object) -> bool:
        """Whether two subscriptions are the same (same id, or same routing)."""
        ...

    def is_match(self, topic_id: TopicId) -> bool:
        """Return whether messages published to ``topic_id`` are for this subscription."""
        ...

    def map_to_agent(self, topic_id: TopicId) -> AgentId:
        """Return the recipient of a message published to ``topic_id``.

        Raises:
            CantHandleException: ``topic_id`` does not match this subscription.
        """
        ...


UnboundSubscription = "Callable[[], list[Subscription] | Awaitable[list[Subscription]]]"
"""A subscription factory that is bound to an agent type at registration (used by class decorators)."""
