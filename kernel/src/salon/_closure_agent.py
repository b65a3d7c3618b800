"""ClosureAgent: an agent made from one function, for collecting results and small glue."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Protocol, TypeVar, cast, get_type_hints

from ._agent_id import AgentId
from ._agent_instantiation import AgentInstantiationContext
from ._agent_runtime import AgentRuntime
from ._agent_type import AgentType
from ._base_agent import BaseAgent
from ._cancellation_token import CancellationToken
from ._message_context import MessageContext
from ._message_handler import handler_types
from ._serialization import try_get_known_serializers_for_type
from ._subscription import Subscription
from ._subscription_context import SubscriptionInstantiationContext
from ._topic import TopicId
from .exceptions import CantHandleException

__all__ = ["ClosureAgent", "ClosureContext"]

T = TypeVar("T")
UnknownTypePolicy = Literal["error", "warn", "ignore"]


class ClosureContext(Protocol):
    """What a closure can do as its agent: know its id, send and publish."""

    @property
    def id(self) -> AgentId:
        """The closure agent's id."""
        ...

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> Any:
        """Send ``message`` to ``recipient`` as this agent."""
        ...

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId,
        *,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> None:
        """Publish ``message`` as this agent."""
        ...


def _closure_types(closure: Callable[..., Awaitable[Any]]) -> tuple[type, ...]:
    name = getattr(closure, "__qualname__", repr(closure))
    params = list(inspect.signature(closure).parameters)
    if len(params) != 3:
        raise TypeError(f"Closure {name} must take (closure_context, message, ctx); it takes {tuple(params)}.")
    hints = get_type_hints(closure)
    if params[1] not in hints:
        raise TypeError(f"Closure {name}: annotate the `{params[1]}` parameter with the message type(s) it handles.")
    if "return" not in hints:
        raise TypeError(f"Closure {name} has no return annotation; add one (`-> None` if it returns nothing).")
    return handler_types(hints[params[1]])


class ClosureAgent(BaseAgent, ClosureContext):
    """An agent whose only handler is ``closure(closure_context, message, ctx)``.

    Args:
        description: What the agent does.
        closure: The handler; its message annotation says which types it accepts.
        unknown_type_policy: For messages of other types: ``"error"`` raises
            :class:`CantHandleException`, ``"warn"`` warns and ignores, ``"ignore"`` ignores.

    Raises:
        RuntimeError: constructed outside a runtime's factory call (use :meth:`register_closure`).
    """

    def __init__(
        self,
        description: str,
        closure: Callable[[ClosureContext, T, MessageContext], Awaitable[Any]],
        *,
        unknown_type_policy: UnknownTypePolicy = "warn",
    ) -> None:
        if not AgentInstantiationContext.is_in_factory_call():
            raise RuntimeError(
                "ClosureAgent must be created by a runtime; register it with "
                "`await ClosureAgent.register_closure(runtime, 'type', closure)`."
            )
        super().__init__(description)
        self._expected_types = _closure_types(closure)
        self._closure = closure
        self._unknown_type_policy = unknown_type_policy

    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
        """Call the closure, or apply the unknown-type policy."""
        if not isinstance(message, self._expected_types):
            handled = ", ".join(t.__name__ for t in self._expected_types)
            text = f"Message type {type(message).__name__} is not handled by {self.id} (it handles {handled})."
            if self._unknown_type_policy == "error":
                raise CantHandleException(text)
            if self._unknown_type_policy == "warn":
                warnings.warn(f"{text} Set unknown_type_policy='ignore' to silence this.", stacklevel=1)
            return None
        return await self._closure(self, cast(Any, message), ctx)

    async def save_state(self) -> Mapping[str, Any]:
        """Closure agents have no state of their own."""
        return {}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Closure agents have no state of their own."""

    @classmethod
    async def register_closure(
        cls,
        runtime: AgentRuntime,
        type: str,
        closure: Callable[[ClosureContext, T, MessageContext], Awaitable[Any]],
        *,
        unknown_type_policy: UnknownTypePolicy = "warn",
        skip_direct_message_subscription: bool = False,
        description: str = "",
        subscriptions: Callable[[], list[Subscription] | Awaitable[list[Subscription]]] | None = None,
    ) -> AgentType:
        """Register ``closure`` as agent type ``type``, with optional subscriptions.

        Raises:
            TypeError: the closure's parameters are not annotated.
        """
        handled = _closure_types(closure)  # fail before registering anything

        def factory() -> ClosureAgent:
            return ClosureAgent(description, closure, unknown_type_policy=unknown_type_policy)

        agent_type = await cls.register(
            runtime,
            type,
            factory,
            skip_class_subscriptions=True,
            skip_direct_message_subscription=skip_direct_message_subscription,
        )
        if subscriptions is not None:
            with SubscriptionInstantiationContext.populate_context(agent_type):
                result = subscriptions()
                subscription_list = await result if inspect.isawaitable(result) else result
            for subscription in subscription_list:
                await runtime.add_subscription(subscription)
        for message_type in handled:
            serializers = try_get_known_serializers_for_type(message_type)
            if serializers:
                runtime.add_message_serializer(serializers)
        return agent_type
