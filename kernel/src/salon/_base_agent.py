"""The base class for agents: identity, runtime access, registration and class-level subscriptions."""

from __future__ import annotations

import builtins
import contextlib
import inspect
import warnings
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar, final

from ._agent import Agent
from ._agent_id import AgentId
from ._agent_instantiation import AgentInstantiationContext
from ._agent_metadata import AgentMetadata
from ._agent_runtime import AgentRuntime
from ._agent_type import AgentType
from ._cancellation_token import CancellationToken
from ._message_context import MessageContext
from ._message_handler_context import MessageHandlerContext
from ._subscription import Subscription
from ._subscription_context import SubscriptionInstantiationContext
from ._topic import TopicId
from ._type_prefix_subscription import TypePrefixSubscription
from ._type_subscription import TypeSubscription

if TYPE_CHECKING:
    from ._serialization import MessageSerializer

__all__ = ["BaseAgent", "handles", "subscription_factory"]

BaseAgentType = TypeVar("BaseAgentType", bound="BaseAgent")
UnboundSubscription = Callable[[], "list[Subscription] | Awaitable[list[Subscription]]"]


def subscription_factory(subscription: UnboundSubscription) -> Callable[[type[BaseAgentType]], type[BaseAgentType]]:
    """Class decorator factory: add subscriptions that ``register`` binds to each registered agent type."""

    def decorator(cls: type[BaseAgentType]) -> type[BaseAgentType]:
        cls.internal_unbound_subscriptions_list.append(subscription)
        return cls

    return decorator


def handles(
    type: builtins.type[Any], serializer: MessageSerializer[Any] | Sequence[MessageSerializer[Any]] | None = None
) -> Callable[[builtins.type[BaseAgentType]], builtins.type[BaseAgentType]]:
    """Class decorator: declare that the agent handles ``type``, so ``register`` adds its serializers.

    Raises:
        ValueError: no serializer is known for ``type`` and none was given.
    """
    from ._serialization import try_get_known_serializers_for_type

    if serializer is None:
        serializers = list(try_get_known_serializers_for_type(type))
    elif isinstance(serializer, Sequence):
        serializers = list(serializer)
    else:
        serializers = [serializer]
    if not serializers:
        raise ValueError(
            f"No serializer is known for {type!r}: make it a dataclass or a pydantic model, or pass serializer=."
        )

    def decorator(cls: builtins.type[BaseAgentType]) -> builtins.type[BaseAgentType]:
        cls.internal_extra_handles_types.append((type, serializers))
        return cls

    return decorator


class BaseAgent(ABC, Agent):
    """Base class of agents: knows its id and runtime, and can send and publish as itself.

    A subclass implements :meth:`on_message_impl` (or uses :class:`RoutedAgent`, which routes by
    message type). Instances are created by the runtime through the factory given to
    :meth:`register`; the runtime tells ``__init__`` its id and runtime through
    :class:`AgentInstantiationContext`.

    Attributes:
        sequential: Salon extension. ``True`` makes each instance handle one message at a time, in
            arrival order. The default, ``False``, lets one instance's handlers run concurrently
            whenever they wait (AutoGen's behaviour).
    """

    internal_unbound_subscriptions_list: ClassVar[list[UnboundSubscription]] = []
    internal_extra_handles_types: ClassVar[list[tuple[type[Any], list[MessageSerializer[Any]]]]] = []
    sequential: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Each class gets its own lists, so decorating a subclass never changes its parent.
        cls.internal_unbound_subscriptions_list = []
        cls.internal_extra_handles_types = []

    @classmethod
    def _handles_types(cls) -> list[tuple[type[Any], list[MessageSerializer[Any]]]]:
        return cls.internal_extra_handles_types

    @classmethod
    def _unbound_subscriptions(cls) -> list[UnboundSubscription]:
        return cls.internal_unbound_subscriptions_list

    def __init__(self, description: str) -> None:
        ctx = AgentInstantiationContext._CONTEXT_VAR.get(None)
        if ctx is not None:
            self._runtime: AgentRuntime = ctx[0]
            self._id: AgentId = ctx[1]
        if not isinstance(description, str):
            raise ValueError(f"Agent description must be a string, got {type(description).__name__}: {description!r}")
        self._description = description

    @property
    def metadata(self) -> AgentMetadata:
        """Type, key and description."""
        return AgentMetadata(key=self.id.key, type=self.id.type, description=self._description)

    @property
    def type(self) -> str:
        """The agent's type."""
        return self.id.type

    @property
    def description(self) -> str:
        """What the agent does, for people and for selector strategies."""
        return self._description

    @property
    def id(self) -> AgentId:
        """The agent's id.

        Raises:
            RuntimeError: the agent is not bound to a runtime yet.
        """
        try:
            return self._id
        except AttributeError:
            raise RuntimeError(_UNBOUND.format(name=type(self).__name__)) from None

    @property
    def runtime(self) -> AgentRuntime:
        """The runtime hosting this agent.

        Raises:
            RuntimeError: the agent is not bound to a runtime yet.
        """
        try:
            return self._runtime
        except AttributeError:
            raise RuntimeError(_UNBOUND.format(name=type(self).__name__)) from None

    async def bind_id_and_runtime(self, id: AgentId, runtime: AgentRuntime) -> None:
        """Attach an agent constructed outside a factory (``register_agent_instance`` calls this).

        Raises:
            RuntimeError: the agent is already bound to another id or runtime.
        """
        bound_id = getattr(self, "_id", None)
        if bound_id is not None and bound_id != id:
            raise RuntimeError(f"Agent is already bound to id {bound_id}; cannot bind it to {id}.")
        bound_runtime = getattr(self, "_runtime", None)
        if bound_runtime is not None and bound_runtime is not runtime:
            raise RuntimeError(f"Agent {id} is already bound to a different runtime.")
        self._id = id
        self._runtime = runtime

    @final
    async def on_message(self, message: Any, ctx: MessageContext) -> Any:
        """Handle ``message`` via :meth:`on_message_impl`, with :class:`MessageHandlerContext` set."""
        with MessageHandlerContext.populate_context(self.id):
            return await self.on_message_impl(message, ctx)

    @abstractmethod
    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
        """Handle one message; return the RPC response (ignored for publishes)."""
        ...

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> Any:
        """Send ``message`` to ``recipient`` as this agent and return the response."""
        if cancellation_token is None:
            cancellation_token = CancellationToken()
        return await self.runtime.send_message(
            message, sender=self.id, recipient=recipient, cancellation_token=cancellation_token, message_id=message_id
        )

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId,
        *,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> None:
        """Publish ``message`` to ``topic_id`` as this agent (it does not receive its own publish)."""
        await self.runtime.publish_message(
            message, topic_id, sender=self.id, cancellation_token=cancellation_token, message_id=message_id
        )

    async def save_state(self) -> Mapping[str, Any]:
        """Return the agent's state; stateless by default."""
        warnings.warn("save_state not implemented", stacklevel=2)
        return {}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore the agent's state; stateless by default."""
        warnings.warn("load_state not implemented", stacklevel=2)

    async def close(self) -> None:
        """Release resources; nothing to release by default."""

    async def register_instance(
        self,
        runtime: AgentRuntime,
        agent_id: AgentId,
        *,
        skip_class_subscriptions: bool = True,
        skip_direct_message_subscription: bool = False,
    ) -> AgentId:
        """Register this already constructed agent on ``runtime`` as ``agent_id``.

        Adds a subscription of the agent to the topic type named by its key, the class
        subscriptions unless skipped, and the direct-message prefix subscription ``"<type>:"``.
        """
        agent_id = await runtime.register_agent_instance(agent_instance=self, agent_id=agent_id)
        await runtime.add_subscription(TypeSubscription(topic_type=agent_id.key, agent_type=agent_id.type))
        if not skip_class_subscriptions:
            for subscription in await self._bind_class_subscriptions(AgentType(agent_id.type)):
                await runtime.add_subscription(subscription)
        if not skip_direct_message_subscription:
            with contextlib.suppress(ValueError):  # another instance of this type added it already
                await runtime.add_subscription(TypePrefixSubscription(agent_id.type + ":", agent_id.type))
        _add_serializers(runtime, self._handles_types())
        return agent_id

    @classmethod
    async def register(
        cls,
        runtime: AgentRuntime,
        type: str,
        factory: Callable[[], Self | Awaitable[Self]],
        *,
        skip_class_subscriptions: bool = False,
        skip_direct_message_subscription: bool = False,
    ) -> AgentType:
        """Register ``factory`` as agent type ``type`` and add the class's subscriptions.

        Also adds the direct-message prefix subscription ``"<type>:"`` and registers serializers
        for the message types the class handles.

        Raises:
            ValueError: ``type`` is invalid or already registered.
        """
        agent_type = await runtime.register_factory(type=AgentType(type), agent_factory=factory, expected_class=cls)
        if not skip_class_subscriptions:
            for subscription in await cls._bind_class_subscriptions(agent_type):
                await runtime.add_subscription(subscription)
        if not skip_direct_message_subscription:
            await runtime.add_subscription(TypePrefixSubscription(agent_type.type + ":", agent_type.type))
        _add_serializers(runtime, cls._handles_types())
        return agent_type

    @classmethod
    async def _bind_class_subscriptions(cls, agent_type: AgentType) -> list[Subscription]:
        subscriptions: list[Subscription] = []
        with SubscriptionInstantiationContext.populate_context(agent_type):
            for unbound in cls._unbound_subscriptions():
                result = unbound()
                subscriptions.extend(await result if inspect.isawaitable(result) else result)
        return subscriptions


def _add_serializers(runtime: AgentRuntime, handled: list[tuple[type[Any], list[MessageSerializer[Any]]]]) -> None:
    for _message_type, serializers in handled:
        if serializers:
            runtime.add_message_serializer(serializers)


_UNBOUND = (
    "{name} is not bound to a runtime yet. Agents get their id and runtime when a runtime creates them "
    "through a registered factory (await {name}.register(runtime, 'type', factory)), or through "
    "runtime.register_agent_instance(agent, agent_id)."
)
