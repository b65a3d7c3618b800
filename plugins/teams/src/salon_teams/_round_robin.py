"""RoundRobinGroupChat: participants speak in turn, in the order given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from salon import AgentRuntime
from salon_agentchat.base import ChatAgent, Team, TerminationCondition
from salon_agentchat.group_chat import BaseGroupChat, BaseGroupChatManager
from salon_agentchat.messages import BaseAgentEvent, BaseChatMessage
from salon_agentchat.state import RoundRobinManagerState

__all__ = ["RoundRobinGroupChat", "RoundRobinGroupChatManager"]


class RoundRobinGroupChatManager(BaseGroupChatManager):
    """Picks participants in a cycle; the position in the cycle is part of the saved state."""

    async def validate_group_state(self, messages: list[BaseChatMessage] | None) -> None:
        """Any start is valid."""

    def _reset_strategy_state(self) -> None:
        """Start the cycle over."""
        self._next_speaker_index = 0

    async def save_state(self) -> Mapping[str, Any]:
        """The thread, the turn count and the next speaker's position (a ``RoundRobinManagerState``)."""
        state = RoundRobinManagerState(**self._thread_state(), next_speaker_index=self._next_speaker_index)
        return state.model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`save_state`'s output."""
        loaded = RoundRobinManagerState.model_validate(state)
        self._load_thread_state(loaded.message_thread, loaded.current_turn)
        self._next_speaker_index = loaded.next_speaker_index % len(self._participant_names)

    async def select_speaker(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str] | str:
        """The next participant in the cycle (always one)."""
        index = self._next_speaker_index
        self._next_speaker_index = (index + 1) % len(self._participant_names)
        return self._participant_names[index]


class RoundRobinGroupChat(BaseGroupChat):
    """A team whose participants take turns, in order, each publishing its message to all the others.

    A participant agent contributes its response's chat message; a participant team contributes the chat
    messages of its result. With one participant, it speaks every turn.

    Args:
        participants: The agents and teams, in speaking order; names must be unique.
        name: The team's name (default :attr:`DEFAULT_NAME`); a parent team knows it by this name.
        description: The team's description (default :attr:`DEFAULT_DESCRIPTION`).
        termination_condition: Ends a run; without one (and without ``max_turns``) the team runs forever.
        max_turns: Ends a run after this many turns.
        runtime: Run on this runtime instead of an embedded one.
        custom_message_types: Message classes beyond the built-in ones that participants exchange.
        emit_team_events: Put a ``SelectSpeakerEvent`` in the run's stream before each turn.

    Raises:
        ValueError: no participants, or two with the same name.

    Example::

        team = RoundRobinGroupChat([writer, critic], termination_condition=MaxMessageTermination(5))
        result = await team.run(task="Write a haiku about autumn.")
    """

    DEFAULT_NAME = "RoundRobinGroupChat"
    DEFAULT_DESCRIPTION = "A team of agents."

    def __init__(
        self,
        participants: list[ChatAgent | Team],
        *,
        name: str | None = None,
        description: str | None = None,
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = None,
        runtime: AgentRuntime | None = None,
        custom_message_types: list[type[BaseAgentEvent | BaseChatMessage]] | None = None,
        emit_team_events: bool = False,
    ) -> None:
        super().__init__(
            name=name or self.DEFAULT_NAME,
            description=description or self.DEFAULT_DESCRIPTION,
            participants=participants,
            group_chat_manager_name="RoundRobinGroupChatManager",
            group_chat_manager_class=RoundRobinGroupChatManager,
            termination_condition=termination_condition,
            max_turns=max_turns,
            runtime=runtime,
            custom_message_types=custom_message_types,
            emit_team_events=emit_team_events,
        )
