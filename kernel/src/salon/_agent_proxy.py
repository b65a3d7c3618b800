"""A handle to an agent that sends to it through a runtime."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._agent_id import AgentId
from ._agent_metadata import AgentMetadata
from ._agent_runtime import AgentRuntime
from ._cancellation_token import CancellationToken

__all__ = ["AgentProxy"]


class AgentProxy:
    """Talks to the agent ``agent`` through ``runtime`` without holding the agent object itself."""

    def __init__(self, agent: AgentId, runtime: AgentRuntime) -> None:
        self._agent = agent
        self._runtime = runtime

    @property
    def id(self) -> AgentId:
        """The target agent's id."""
        return self._agent

    @property
    async def metadata(self) -> AgentMetadata:
        """The target agent's metadata."""
        return await self._runtime.agent_metadata(self._agent)

    async def send_message(
        self,
        message: Any,
        *,
        sender: AgentId,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> Any:
        """Send ``message`` to the agent and return its response."""
        return await self._runtime.send_message(
            message, recipient=self._agent, sender=sender, cancellation_token=cancellation_token, message_id=message_id
        )

    async def save_state(self) -> Mapping[str, Any]:
        """Return the agent's state."""
        return await self._runtime.agent_save_state(self._agent)

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore the agent's state."""
        await self._runtime.agent_load_state(self._agent, state)
