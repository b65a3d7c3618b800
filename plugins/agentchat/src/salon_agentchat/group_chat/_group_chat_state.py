"""A team's state: every participant's and the manager's, saved and loaded by name.

Keyed by participant and manager names rather than runtime agent ids (which contain the team id), so
a state saved from one instance of a team loads into another built from the same definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from salon import AgentId

from ..state import TeamState
from ._group_chat_setup import GroupChatSetup

__all__ = ["GroupChatState"]


class GroupChatState(GroupChatSetup):
    """The part of :class:`~salon_agentchat.group_chat.BaseGroupChat` that saves and loads the team's state."""

    async def save_state(self) -> Mapping[str, Any]:
        """Return ``{"agent_states": {participant name: state, manager name: state}, ...}`` (a ``TeamState``).

        Keys are names, not runtime ids, so the state loads into another instance of the same team.
        Save while the team is not running; a running team's state may be mid-turn.
        """
        if not self._initialized:
            await self._init(self._runtime)
        agent_states: dict[str, Mapping[str, Any]] = {}
        for name, agent_type in zip(self._participant_names, self._participant_topic_types, strict=True):
            agent_states[name] = await self._runtime.agent_save_state(AgentId(agent_type, self._team_id))
        agent_states[self._group_chat_manager_name] = await self._runtime.agent_save_state(self._manager_id)
        return TeamState(agent_states=agent_states).model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Load a state produced by :meth:`save_state` (of this team or another with the same names).

        Raises:
            RuntimeError: the team is running.
            ValueError: the state is malformed or lacks a participant's or the manager's entry.
        """
        if self._is_running:
            raise RuntimeError(f"Team {self._name!r} is running; its state cannot be loaded now.")
        if not self._initialized:
            await self._init(self._runtime)
        self._is_running = True
        try:
            try:
                team_state = TeamState.model_validate(state)
            except ValidationError as e:
                raise ValueError(f"Not a team state (expected the output of save_state(), a TeamState): {e}") from e
            ids = [AgentId(t, self._team_id) for t in self._participant_topic_types] + [self._manager_id]
            names = [*self._participant_names, self._group_chat_manager_name]
            missing = [n for n in names if n not in team_state.agent_states]
            if missing:
                raise ValueError(
                    f"The saved state has no entry for {missing}; it holds {sorted(team_state.agent_states)}. "
                    "A team state loads into a team whose participants have the same names."
                )
            for name, agent_id in zip(names, ids, strict=True):
                await self._runtime.agent_load_state(agent_id, team_state.agent_states[name])
        finally:
            self._is_running = False
