"""The runtime contract that every runtime (in-process, distributed) implements."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload, runtime_checkable

from ._agent import Agent
from ._agent_id import AgentId
from ._agent_metadata import AgentMetadata
from ._agent_type import AgentType
from ._cancellation_token import CancellationToken
from ._subscription import Subscription
from ._topic import TopicId

if TYPE_CHECKING:
    from ._serialization import MessageSerializer

__all__ = ["AgentRuntime"]

T = TypeVar("T", bound=Agent)


@runtime_checkable
class AgentRuntime(Protocol):
    """Hosts agents and routes messages between them.

    Implementations keep the semantics pinned down by ``salon.testing.RuntimeConformanceSuite``.
    """

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        sender: AgentId | None = None,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> Any:
        """Deliver ``message`` to ``recipient`` and return its handler's response.

        Raises:
            CantHandleException: the recipient has no handler for the message.
            UndeliverableException: the message could not be delivered.
            LookupError: no agent type ``recipient.type`` is registered.
            Exception: whatever the handler raised, with its type.
        """
        ...

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId,
        *,
        sender: AgentId | None = None,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> None:
        """Deliver ``message`` to every agent subscribed to ``topic_id`` (except ``sender``); no response."""
        ...

    async def register_factory(
        self,
        type: str | AgentType,
        agent_factory: Callable[[], T | Awaitable[T]],
        *,
        expected_class: type[T] | None = None,
    ) -> AgentType:
        """Register a factory that creates the instances of agent type ``type`` on first use."""
        ...

    async def register_agent_instance(self, agent_instance: Agent, agent_id: AgentId) -> AgentId:
        """Register an already constructed agent under ``agent_id``."""
        ...

    async def try_get_underlying_agent_instance(self, id: AgentId, type: type[T] = Agent) -> T:  # type: ignore[assignment]
        """Return the local agent object for ``id`` (creating it if needed).

        Raises:
            LookupError: the agent type is unknown.
            NotAccessibleError: the agent lives elsewhere (remote runtimes).
            TypeError: the agent is not an instance of ``type``.
        """
        ...

    @overload
    async def get(self, id_or_type: AgentId, /, key: str = ..., *, lazy: bool = ...) -> AgentId: ...

    @overload
    async def get(self, id_or_type: AgentType | str, /, key: str = ..., *, lazy: bool = ...) -> AgentId: ...

    async def get(
        self, id_or_type: AgentId | AgentType | str, /, key: str = "default", *, lazy: bool = True
    ) -> AgentId:
        """Return the id of agent ``(type, key)``; with ``lazy=False`` create it now."""
        ...

    async def save_state(self) -> Mapping[str, Any]:
        """Return the runtime's state (agents, run-time subscriptions, queued messages) as JSON data."""
        ...

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore state produced by :meth:`save_state`."""
        ...

    async def agent_metadata(self, agent: AgentId) -> AgentMetadata:
        """Return the metadata of one agent."""
        ...

    async def agent_save_state(self, agent: AgentId) -> Mapping[str, Any]:
        """Return the state of one agent."""
        ...

    async def agent_load_state(self, agent: AgentId, state: Mapping[str, Any]) -> None:
        """Restore the state of one agent."""
        ...

    async def add_subscription(self, subscription: Subscription) -> None:
        """Start routing matching publishes by ``subscription``.

        Raises:
            ValueError: an equal subscription exists already.
        """
        ...

    async def remove_subscription(self, id: str) -> None:
        """Stop routing by the subscription with ``id``.

        Raises:
            LookupError: no subscription has that id.
        """
        ...

    def add_message_serializer(self, serializer: MessageSerializer[Any] | Sequence[MessageSerializer[Any]]) -> None:
        """Teach the runtime how to (de)serialize a message type (needed for state and remote delivery)."""
        ...
