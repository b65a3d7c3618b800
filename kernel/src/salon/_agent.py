"""The agent contract: what a runtime needs from anything that receives messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ._agent_id import AgentId
from ._agent_metadata import AgentMetadata
from ._message_context import MessageContext

if TYPE_CHECKING:
    from ._agent_runtime import AgentRuntime

__all__ = ["Agent"]


@runtime_checkable
class Agent(Protocol):
    """Anything a runtime can deliver messages to.

    Most agents subclass :class:`RoutedAgent`; implement this protocol directly only for agents that
    route messages themselves.
    """

    @property
    def metadata(self) -> AgentMetadata:
        """Type, key and description of this agent."""
        ...

    @property
    def id(self) -> AgentId:
        """The agent's id."""
        ...

    async def bind_id_and_runtime(self, id: AgentId, runtime: AgentRuntime) -> None:
        """Attach an agent created outside a factory to ``runtime`` under ``id``."""
        ...

    async def on_message(self, message: Any, ctx: MessageContext) -> Any:
        """Handle one message; the return value is the response of an RPC.

        Raises:
            CantHandleException: the agent cannot handle this message.
        """
        ...

    async def save_state(self) -> Mapping[str, Any]:
        """Return the agent's state as JSON-serializable data."""
        ...

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore state produced by :meth:`save_state`."""
        ...

    async def close(self) -> None:
        """Release resources; called by ``runtime.close()``."""
        ...
