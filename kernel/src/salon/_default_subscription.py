"""The subscription to the ``default`` topic type, and the class decorators that declare subscriptions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, overload

from ._agent_type import AgentType
from ._base_agent import BaseAgent, subscription_factory
from ._subscription_context import SubscriptionInstantiationContext
from ._type_subscription import TypeSubscription

__all__ = ["DefaultSubscription", "default_subscription", "type_subscription"]


class DefaultSubscription(TypeSubscription):
    """``TypeSubscription("default", agent_type)``; inside a registration the agent type may be omitted.

    Args:
        topic_type: Topic type to match, ``"default"`` unless given.
        agent_type: The receiving agent type; taken from the registration in progress when omitted.

    Raises:
        RuntimeError: ``agent_type`` was omitted outside a registration.
    """

    __slots__ = ()

    def __init__(self, topic_type: str = "default", agent_type: str | AgentType | None = None) -> None:
        if agent_type is None:
            agent_type = SubscriptionInstantiationContext.agent_type()
        super().__init__(topic_type, agent_type)


BaseAgentType = TypeVar("BaseAgentType", bound=BaseAgent)


@overload
def default_subscription() -> Callable[[type[BaseAgentType]], type[BaseAgentType]]: ...


@overload
def default_subscription(cls: type[BaseAgentType]) -> type[BaseAgentType]: ...


def default_subscription(
    cls: type[BaseAgentType] | None = None,
) -> Callable[[type[BaseAgentType]], type[BaseAgentType]] | type[BaseAgentType]:
    """Class decorator: subscribe every registered type of this class to the ``default`` topic type."""
    decorator = subscription_factory(lambda: [DefaultSubscription()])
    return decorator if cls is None else decorator(cls)


def type_subscription(topic_type: str) -> Callable[[type[BaseAgentType]], type[BaseAgentType]]:
    """Class decorator: subscribe every registered type of this class to ``topic_type``."""
    return subscription_factory(lambda: [DefaultSubscription(topic_type=topic_type)])
