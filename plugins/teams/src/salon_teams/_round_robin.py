"""RoundRobinGroupChat: participants speak in turn, in the order given."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from salon import AgentRuntime
from salon_agentchat.base import ChatAgent, Team, TerminationCondition
from salon_agentchat.group_chat import BaseGroupChat, BaseGroupChatManager
from salon_agentchat.group_chat._base_group_chat_manager import OutputQueue
from salon_agentchat.messages import BaseAgentEvent, BaseChatMessage, MessageFactory
from salon_agentchat.state import RoundRobinManagerState

__all__ = ["RoundRobinGroupChat", "RoundRobinGroupChatManager"]


class RoundRobinGroupChatManager(BaseGroupChatManager):
    """Picks participants in a cycle; the position in the cycle is part of the saved state."""

    def __init__(
        self,
        name: str,
        group_topic_type: str,
        output_topic_type: str,
        participant_topic_types: list[str],
        participant_names: list[str],
        participant_descriptions: list[str],
        output_message_queue: OutputQueue,
        termination_condition: TerminationCondition | None,
        max_turns: int | None,
        message_factory: MessageFactory,
        emit_team_events: bool,
    ) -> None:
        super().__init__(
            name,
            group_topic_type,
            output_topic_type,
            participant_topic_types,
            participant_names,
            participant_descriptions,
            output_message_queue,
            termination_condition,
            max_turns,
            message_factory,
            emit_team_events,
        )
        self._next_speaker_index = 0

    async def validate_group_state(self, messages: list[BaseChatMessage] | None) -> None:
        """Any start is valid."""

    async def reset(self) -> None:
        """Clear the thread and the turn count, reset the condition, start the cycle over."""
        self._current_turn = 0
        self._message_thread.clear()
        if self._termination_condition is not None:
            await self._termination_condition.reset()
        self._next_speaker_index = 0

    async def save_state(self) -> Mapping[str, Any]:
        """The thread, the turn count and the next speaker's position (a ``RoundRobinManagerState``)."""
        state = RoundRobinManagerState(
            message_thread=[message.dump() for message in self._message_thread],
            current_turn=self._current_turn,
            next_speaker_index=self._next_speaker_index,
        )
        return state.model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`save_state`'s output."""
        loaded = RoundRobinManagerState.model_validate(state)
        self._message_thread = [self._message_factory.create(message) for message in loaded.message_thread]
        self._current_turn = loaded.current_turn
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

    def _create_group_chat_manager_factory(
        self,
        name: str,
        group_topic_type: str,
        output_topic_type: str,
        participant_topic_types: list[str],
        participant_names: list[str],
        participant_descriptions: list[str],
        output_message_queue: OutputQueue,
        termination_condition: TerminationCondition | None,
        max_turns: int | None,
        message_factory: MessageFactory,
    ) -> Callable[[], RoundRobinGroupChatManager]:
        def _factory() -> RoundRobinGroupChatManager:
            return RoundRobinGroupChatManager(
                name,
                group_topic_type,
                output_topic_type,
                participant_topic_types,
                participant_names,
                participant_descriptions,
                output_message_queue,
                termination_condition,
                max_turns,
                message_factory,
                self._emit_team_events,
            )

        return _factory
