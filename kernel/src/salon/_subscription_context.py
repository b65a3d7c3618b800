"""Tells subscription factories which agent type they are being bound to."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ClassVar

from ._agent_type import AgentType

__all__ = ["SubscriptionInstantiationContext"]


class SubscriptionInstantiationContext:
    """The agent type whose class subscriptions are being created (see ``@default_subscription``)."""

    def __init__(self) -> None:
        raise RuntimeError("SubscriptionInstantiationContext cannot be instantiated; use its class methods.")

    _SUBSCRIPTION_CONTEXT_VAR: ClassVar[ContextVar[AgentType]] = ContextVar("salon_subscription_instantiation")

    @classmethod
    @contextmanager
    def populate_context(cls, ctx: AgentType) -> Generator[None, None, None]:
        """Make ``ctx`` current for the duration of the ``with`` block."""
        token = cls._SUBSCRIPTION_CONTEXT_VAR.set(ctx)
        try:
            yield
        finally:
            cls._SUBSCRIPTION_CONTEXT_VAR.reset(token)

    @classmethod
    def agent_type(cls) -> AgentType:
        """The agent type being registered.

        Raises:
            RuntimeError: called outside a registration.
        """
        try:
            return cls._SUBSCRIPTION_CONTEXT_VAR.get()
        except LookupError as e:
            raise RuntimeError(
                "SubscriptionInstantiationContext.agent_type() was called outside an agent registration. "
                "Pass agent_type explicitly, e.g. DefaultSubscription(agent_type='my_agent')."
            ) from e
