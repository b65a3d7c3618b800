"""Swarm: a team where the speaker decides who speaks next by handing off (the port of AutoGen's ``Swarm``).

The turn stays with an agent until it sends a :class:`~salon_agentchat.messages.HandoffMessage`; the
handoff's ``target`` then holds the turn. A handoff to someone outside the team (``"user"``) is how a
swarm asks for a human: stop on it with ``HandoffTermination(target="user")`` and resume by running the
team with a ``HandoffMessage`` addressed to the agent that should continue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from salon import AgentRuntime
from salon_agentchat.base import ChatAgent, TerminationCondition
from salon_agentchat.group_chat import BaseGroupChat, BaseGroupChatManager
from salon_agentchat.messages import BaseAgentEvent, BaseChatMessage, HandoffMessage
from salon_agentchat.state import SwarmManagerState

__all__ = ["Swarm", "SwarmGroupChatManager"]


class SwarmGroupChatManager(BaseGroupChatManager):
    """Picks the target of the latest handoff in the thread; without one, the current speaker goes on."""

    async def validate_group_state(self, messages: list[BaseChatMessage] | None) -> None:
        """Refuse to start when the handoff that would pick the next speaker leads nowhere.

        A new task's own handoff decides, and must name a participant. Without one, the latest handoff
        already in the thread does: to a participant, that participant speaks; to an outsider (the user,
        after a ``HandoffTermination``), the new task is the outsider's answer and goes back to the
        participant that handed off. AutoGen refuses that plain-text answer; Salon takes it, so a swarm
        that asked the user something continues with the user's reply (``salon run --state`` relies on it).
        """
        for message in messages or ():
            if isinstance(message, HandoffMessage):
                if message.target not in self._participant_names:
                    raise ValueError(
                        f"The target {message.target} is not one of the participants {self._participant_names}. "
                        "To resume a Swarm with a HandoffMessage, address it to one of the participants."
                    )
                return
        latest = self._latest_handoff(self._message_thread)
        if latest is not None and latest.target not in self._participant_names and not messages:
            raise ValueError(
                f"The swarm handed off to {latest.target}, outside the team, and waits for an answer: run it with "
                f"the answer as the task (it goes back to {latest.source}), or with a HandoffMessage to a participant."
            )
        if latest is not None and self._speaker_after(latest) is None:
            raise ValueError(
                f"The existing handoff from {latest.source} to {latest.target} involves no participant of "
                f"{self._participant_names}; resume the swarm with a task that is a HandoffMessage whose target "
                f"is one of them, e.g. HandoffMessage(source='user', target={self._participant_names[0]!r}, "
                "content='...')."
            )

    @staticmethod
    def _latest_handoff(thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> HandoffMessage | None:
        for message in reversed(thread):
            if isinstance(message, HandoffMessage):
                return message
        return None

    def _speaker_after(self, handoff: HandoffMessage) -> str | None:
        """Who speaks after ``handoff``: its target, or, when that is an outsider, the participant that asked."""
        if handoff.target in self._participant_names:
            return handoff.target
        if handoff.source in self._participant_names:
            return handoff.source
        return None

    def _reset_strategy_state(self) -> None:
        """The first participant holds the turn."""
        self._current_speaker = self._participant_names[0]

    async def select_speaker(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str] | str:
        """The target of the latest handoff in ``thread``, else whoever holds the turn (always one name).

        A latest handoff to an outsider (the user) gives the turn back to the participant that handed off:
        the run only gets here when the outsider has answered with a new task.
        """
        latest = self._latest_handoff(thread)
        if latest is not None:
            speaker = self._speaker_after(latest)
            if speaker is None:
                # validate_group_state stops a run before this point; a custom flow could still get here.
                raise ValueError(
                    f"Handoff target {latest.target!r} is not one of the participants {self._participant_names}."
                )
            self._current_speaker = speaker
        return [self._current_speaker]

    async def save_state(self) -> Mapping[str, Any]:
        """The thread, the turn count and who holds the turn, as :class:`SwarmManagerState` data."""
        state = SwarmManagerState(**self._thread_state(), current_speaker=self._current_speaker)
        return state.model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`save_state` returned."""
        swarm_state = SwarmManagerState.model_validate(state)
        self._load_thread_state(swarm_state.message_thread, swarm_state.current_turn)
        self._current_speaker = swarm_state.current_speaker


class Swarm(BaseGroupChat):
    """A team whose next speaker is chosen only by handoffs (:class:`~salon_agentchat.messages.HandoffMessage`).

    The first participant speaks first, so it must be able to hand off (an ``AssistantAgent`` with
    ``handoffs=[...]``). Whoever speaks keeps the turn until it hands off. Teams cannot be participants.

    Args:
        participants: The agents; the first one starts.
        name: The team's name (default :attr:`DEFAULT_NAME`); a parent team tells its members apart by it.
        description: What the team does (default :attr:`DEFAULT_DESCRIPTION`).
        termination_condition: When to stop; without one (and without ``max_turns``) the swarm runs until
            it is cancelled.
        max_turns: Stop after this many agent turns.
        runtime: Run on this runtime instead of a private one.
        custom_message_types: Message classes of your own the agents produce, so saved state can be read.
        emit_team_events: Also stream a :class:`~salon_agentchat.messages.SelectSpeakerEvent` per turn.

    Example::

        alice = AssistantAgent("Alice", model_client=client, handoffs=["Bob", "user"])
        bob = AssistantAgent("Bob", model_client=client)
        team = Swarm([alice, bob], termination_condition=HandoffTermination(target="user"))
        result = await team.run(task="What is Bob's birthday?")
        # Alice handed off to the user: answer her and carry on.
        result = await team.run(task=HandoffMessage(source="user", target="Alice", content="1st January"))
    """

    DEFAULT_NAME = "Swarm"
    DEFAULT_DESCRIPTION = "A team of agents."

    def __init__(
        self,
        participants: list[ChatAgent],
        *,
        name: str | None = None,
        description: str | None = None,
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = None,
        runtime: AgentRuntime | None = None,
        custom_message_types: list[type[BaseAgentEvent | BaseChatMessage]] | None = None,
        emit_team_events: bool = False,
    ) -> None:
        for participant in participants:
            if not isinstance(participant, ChatAgent):
                raise TypeError(
                    f"Participant {participant!r} must be a ChatAgent; a Swarm cannot have teams as participants."
                )
        super().__init__(
            name=name or self.DEFAULT_NAME,
            description=description or self.DEFAULT_DESCRIPTION,
            participants=list(participants),
            group_chat_manager_name="SwarmGroupChatManager",
            group_chat_manager_class=SwarmGroupChatManager,
            termination_condition=termination_condition,
            max_turns=max_turns,
            runtime=runtime,
            custom_message_types=custom_message_types,
            emit_team_events=emit_team_events,
        )
        first = participants[0]
        if HandoffMessage not in first.produced_message_types:
            raise ValueError(
                f"The first participant must be able to produce a handoff messages: {first.name!r} cannot send "
                "a HandoffMessage. Give it handoffs (AssistantAgent(..., handoffs=[...])) or put an agent that "
                "can hand off first."
            )
