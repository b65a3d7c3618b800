"""Which agents a published message goes to: the subscription table of one runtime."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from ._agent_id import AgentId
from ._constants import TRACE_LOGGER_NAME
from ._default_subscription import DefaultSubscription
from ._source_keyed_subscription import SourceKeyedSubscription
from ._subscription import Subscription
from ._topic import TopicId
from ._type_prefix_subscription import TypePrefixSubscription
from ._type_subscription import TypeSubscription

__all__ = ["SubscriptionRouter", "SubscriptionNotFoundError"]

_logger = logging.getLogger(TRACE_LOGGER_NAME)


class SubscriptionNotFoundError(LookupError, ValueError):
    """No subscription has the given id (a ``ValueError`` too, as AutoGen raises)."""


# Exact classes whose routing depends only on the topic type (subclasses may override is_match).
_TYPE_ROUTED = frozenset({TypeSubscription, TypePrefixSubscription, DefaultSubscription})
_ROUTE_CACHE_LIMIT = 4096


class SubscriptionRouter:
    """Holds a runtime's subscriptions and answers "who receives a publish to this topic?".

    The built-in subscriptions route on the topic type alone and key the recipient by the topic's
    source, so the answer for them is cached per topic type as a tuple of agent types: publishing
    costs one dict lookup however many subscriptions exist, and nothing is stored per source (a
    runtime with 100k conversations keeps no per-conversation routing state). Other
    :class:`Subscription` implementations are asked on every publish. Adding or removing a
    subscription clears the cache, so it is O(1) however many topics were seen.
    """

    __slots__ = ("_by_id", "_custom", "_route_cache", "_type_routed")

    def __init__(self) -> None:
        self._by_id: dict[str, Subscription] = {}
        self._type_routed: list[SourceKeyedSubscription] = []
        self._custom: list[Subscription] = []
        self._route_cache: dict[str, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Subscription]:
        return iter(self._by_id.values())

    def add(self, subscription: Subscription) -> None:
        """Add ``subscription``.

        Raises:
            ValueError: an equal subscription (same id, or same routing) exists already.
        """
        if subscription.id in self._by_id or any(existing == subscription for existing in self._by_id.values()):
            raise ValueError(
                f"Subscription already exists: {subscription!r}. Each (topic, agent type) pair and each id may be "
                "subscribed once; remove the old one first with runtime.remove_subscription(id)."
            )
        self._by_id[subscription.id] = subscription
        if type(subscription) in _TYPE_ROUTED:
            self._type_routed.append(subscription)  # type: ignore[arg-type]
        else:
            self._custom.append(subscription)
        self._route_cache.clear()

    def remove(self, subscription_id: str) -> Subscription:
        """Remove and return the subscription with ``subscription_id``.

        Raises:
            LookupError: there is no such subscription.
        """
        try:
            subscription = self._by_id.pop(subscription_id)
        except KeyError:
            raise SubscriptionNotFoundError(f"Subscription with id {subscription_id!r} not found.") from None
        if type(subscription) in _TYPE_ROUTED:
            self._type_routed.remove(subscription)  # type: ignore[arg-type]
        else:
            self._custom.remove(subscription)
        self._route_cache.clear()
        return subscription

    def agent_types_for(self, topic_type: str) -> tuple[str, ...]:
        """Agent types reached through built-in subscriptions by topics of ``topic_type`` (in subscription order)."""
        try:
            return self._route_cache[topic_type]
        except KeyError:
            pass
        seen: dict[str, None] = {}
        for subscription in self._type_routed:
            if subscription.matches_topic_type(topic_type):
                seen[subscription.agent_type] = None
        agent_types = tuple(seen)
        if len(self._route_cache) >= _ROUTE_CACHE_LIMIT:
            self._route_cache.clear()
        self._route_cache[topic_type] = agent_types
        return agent_types

    @property
    def has_custom(self) -> bool:
        """Whether any subscription needs to be asked per publish."""
        return bool(self._custom)

    def custom_recipients(self, topic_id: TopicId) -> list[AgentId]:
        """Recipients from subscriptions that are not built-in, in subscription order, without duplicates."""
        recipients: list[AgentId] = []
        for subscription in self._custom:
            try:
                if not subscription.is_match(topic_id):
                    continue
                agent_id = subscription.map_to_agent(topic_id)
            except Exception:  # one broken subscription must not keep the message from the others
                _logger.exception(
                    "Subscription %r failed on topic %s; it is skipped for this message.", subscription, topic_id
                )
                continue
            if agent_id not in recipients:
                recipients.append(agent_id)
        return recipients

    def recipients(self, topic_id: TopicId) -> list[AgentId]:
        """Every agent a publish to ``topic_id`` reaches, each once (for callers off the hot path)."""
        source = topic_id.source
        result = [AgentId._trusted(agent_type, source) for agent_type in self.agent_types_for(topic_id.type)]
        for agent_id in self.custom_recipients(topic_id):
            if agent_id not in result:
                result.append(agent_id)
        return result
