"""What a team has set up on its runtimes, so that setting up again after a failure redoes only what is missing.

A runtime has no way to unregister an agent type, so a team whose setup failed half-way (a name already
taken on a shared runtime, a subscription that exists already, a distributed runtime's server gone for a
moment) cannot undo the steps that succeeded. Instead it remembers them: the next attempt skips those
and retries the failed step, which then reports its own cause again or, once the cause is removed,
succeeds. Without this, the second attempt would fail on the first step ("agent type already exists"),
hiding the real problem and leaving the team unusable.
"""

from __future__ import annotations

from collections.abc import Callable

from salon import AgentRuntime, BaseAgent, Subscription, TypePrefixSubscription, TypeSubscription

__all__ = ["RuntimeSetup"]


class RuntimeSetup:
    """The agent types a team registered and the subscriptions it added, per runtime."""

    def __init__(self) -> None:
        # Runtimes compare by identity; holding them here keeps an id() from being reused by another.
        self._done: list[tuple[AgentRuntime, set[tuple[str, ...]]]] = []

    def _steps(self, runtime: AgentRuntime) -> set[tuple[str, ...]]:
        for known, steps in self._done:
            if known is runtime:
                return steps
        fresh: set[tuple[str, ...]] = set()
        self._done.append((runtime, fresh))
        return fresh

    async def register(
        self, runtime: AgentRuntime, agent_class: type[BaseAgent], agent_type: str, factory: Callable[[], BaseAgent]
    ) -> None:
        """Register ``agent_type`` with ``agent_class.register`` unless this team already did on ``runtime``.

        The direct-message subscription that ``register`` would add in the same call is a step of its
        own, so that its failure does not leave a registered type that the next attempt trips over.
        """
        steps = self._steps(runtime)
        step = ("type", agent_type)
        if step not in steps:
            await agent_class.register(runtime, type=agent_type, factory=factory, skip_direct_message_subscription=True)
            steps.add(step)
        await self._subscribe(runtime, ("direct", agent_type), TypePrefixSubscription(f"{agent_type}:", agent_type))

    async def subscribe(self, runtime: AgentRuntime, topic_type: str, agent_type: str) -> None:
        """Subscribe ``agent_type`` to ``topic_type`` unless this team already did on ``runtime``."""
        subscription = TypeSubscription(topic_type=topic_type, agent_type=agent_type)
        await self._subscribe(runtime, ("topic", topic_type, agent_type), subscription)

    async def _subscribe(self, runtime: AgentRuntime, step: tuple[str, ...], subscription: Subscription) -> None:
        steps = self._steps(runtime)
        if step not in steps:
            await runtime.add_subscription(subscription)
            steps.add(step)
