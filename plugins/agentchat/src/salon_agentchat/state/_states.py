"""Saved state of agents and teams: what ``save_state()`` returns, as pydantic models.

Each model has a ``type`` naming it and a ``version``, so a state saved by one release (or by AutoGen,
whose field names these keep) can be checked and read back by another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "AssistantAgentState",
    "BaseGroupChatManagerState",
    "BaseState",
    "ChatAgentContainerState",
    "MagenticOneOrchestratorState",
    "RoundRobinManagerState",
    "SelectorManagerState",
    "SocietyOfMindAgentState",
    "SwarmManagerState",
    "TeamState",
]


def _empty_context() -> dict[str, Any]:
    return {"messages": []}


class BaseState(BaseModel):
    """The root of all saved state; also what a stateless agent saves."""

    type: str = Field(default="BaseState")
    version: str = Field(default="1.0.0")


class AssistantAgentState(BaseState):
    """An assistant agent: its model context's state."""

    llm_context: Mapping[str, Any] = Field(default_factory=_empty_context)
    type: str = Field(default="AssistantAgentState")


class TeamState(BaseState):
    """A team: the state of each of its runtime agents (participants and manager), by name."""

    agent_states: Mapping[str, Any] = Field(default_factory=dict)
    type: str = Field(default="TeamState")


class BaseGroupChatManagerState(BaseState):
    """A group chat manager: the conversation so far (dumped messages) and the turn count."""

    message_thread: list[Mapping[str, Any]] = Field(default_factory=list)
    current_turn: int = Field(default=0)
    type: str = Field(default="BaseGroupChatManagerState")


class ChatAgentContainerState(BaseState):
    """The runtime wrapper of one participant: the agent's state and the messages not yet given to it."""

    agent_state: Mapping[str, Any] = Field(default_factory=dict)
    message_buffer: list[Mapping[str, Any]] = Field(default_factory=list)
    type: str = Field(default="ChatAgentContainerState")


class RoundRobinManagerState(BaseGroupChatManagerState):
    """A round-robin manager: whose turn is next."""

    next_speaker_index: int = Field(default=0)
    type: str = Field(default="RoundRobinManagerState")


class SelectorManagerState(BaseGroupChatManagerState):
    """A selector manager: who spoke last."""

    previous_speaker: str | None = Field(default=None)
    type: str = Field(default="SelectorManagerState")


class SwarmManagerState(BaseGroupChatManagerState):
    """A swarm manager: who holds the turn."""

    current_speaker: str = Field(default="")
    type: str = Field(default="SwarmManagerState")


class MagenticOneOrchestratorState(BaseGroupChatManagerState):
    """The Magentic-One orchestrator: the task, its facts and plan, and its progress counters."""

    task: str = Field(default="")
    facts: str = Field(default="")
    plan: str = Field(default="")
    n_rounds: int = Field(default=0)
    n_stalls: int = Field(default=0)
    type: str = Field(default="MagenticOneOrchestratorState")


class SocietyOfMindAgentState(BaseState):
    """A society-of-mind agent: the state of its inner team."""

    inner_team_state: Mapping[str, Any] = Field(default_factory=dict)
    type: str = Field(default="SocietyOfMindAgentState")
