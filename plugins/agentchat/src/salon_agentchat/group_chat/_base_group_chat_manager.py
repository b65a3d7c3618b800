"""The base of every team strategy's manager: it keeps the thread, checks termination and picks speakers."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from salon import CancellationToken, MessageContext, TopicId, event, rpc

from ..base import TerminationCondition
from ..messages import BaseAgentEvent, BaseChatMessage, MessageFactory, SelectSpeakerEvent, StopMessage
from ._events import (
    GroupChatAgentResponse,
    GroupChatError,
    GroupChatMessage,
    GroupChatPause,
    GroupChatRequestPublish,
    GroupChatReset,
    GroupChatResume,
    GroupChatStart,
    GroupChatTeamResponse,
    GroupChatTermination,
    SerializableException,
)
from ._sequential_routed_agent import SequentialRoutedAgent

__all__ = ["BaseGroupChatManager", "OutputQueue"]

OutputQueue = asyncio.Queue[BaseAgentEvent | BaseChatMessage | GroupChatTermination]
"""The type of the queue a manager writes the run's stream to (read by the team in its own process)."""


class BaseGroupChatManager(SequentialRoutedAgent, ABC):
    """Runs a group chat's turns; a strategy subclasses it and decides who speaks (:meth:`select_speaker`).

    A strategy implements :meth:`select_speaker` and :meth:`validate_group_state`, and, if it has state of
    its own, :meth:`_reset_strategy_state`, :meth:`save_state` and :meth:`load_state`. Options of its own
    come as keyword arguments after the base ones (``def __init__(self, *args, seed, **kwargs)``), which is
    how :meth:`BaseGroupChat._create_group_chat_manager_factory
    <salon_agentchat.group_chat.BaseGroupChat._create_group_chat_manager_factory>` passes them.

    The manager reads the group topic (participants' responses), the output topic (messages for the run's
    stream) and its own topic. On a start it relays the task to everyone and asks the first speakers; after
    every speaker of a turn has answered it records the turn, checks termination (the condition sees only
    the new messages, and is reset once it fires), and asks the next speakers.

    The team sets up the topics: each participant reads the group topic and its own topic, the agent type of
    a participant is its topic type, and the manager reads the group topic, the output topic and its own.

    Args:
        name: The manager's name (the ``source`` of the messages it writes).
        group_topic_type: Topic type every participant and the manager read.
        output_topic_type: Topic type of the run's output stream.
        participant_topic_types: Each participant's own topic type (also its agent type).
        participant_names: The participants' names, in the same order.
        participant_descriptions: The participants' descriptions, in the same order.
        output_message_queue: Where the run's stream is read from (by the team, in this process).
        termination_condition: Ends a run; ``None`` runs until ``max_turns`` or forever.
        max_turns: Ends a run after this many turns.
        message_factory: Rebuilds messages from saved state.
        emit_team_events: Put a :class:`~salon_agentchat.messages.SelectSpeakerEvent` in the stream for each
            speaker selection.

    Raises:
        ValueError: ``max_turns`` is not positive, the lists disagree in length, topic types repeat, or the
            group topic is one of the participants' topics.
    """

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
        emit_team_events: bool = False,
    ) -> None:
        super().__init__(
            description="Group chat manager",
            sequential_message_types=[
                GroupChatStart,
                GroupChatAgentResponse,
                GroupChatTeamResponse,
                GroupChatMessage,
                GroupChatReset,
            ],
        )
        if max_turns is not None and max_turns <= 0:
            raise ValueError(f"max_turns must be a positive number of turns or None, got {max_turns}.")
        if not (len(participant_topic_types) == len(participant_names) == len(participant_descriptions)):
            raise ValueError(
                "participant_topic_types, participant_names and participant_descriptions must have one entry per "
                f"participant; got {len(participant_topic_types)}, {len(participant_names)} and "
                f"{len(participant_descriptions)}."
            )
        if len(set(participant_topic_types)) != len(participant_topic_types):
            raise ValueError(f"Participant topic types must be unique, got {participant_topic_types}.")
        if group_topic_type in participant_topic_types:
            raise ValueError(f"The group topic type {group_topic_type!r} must not be a participant's topic type.")
        self._name = name
        self._group_topic_type = group_topic_type
        self._output_topic_type = output_topic_type
        self._participant_names = participant_names
        self._participant_name_to_topic_type = dict(zip(participant_names, participant_topic_types, strict=True))
        self._participant_descriptions = participant_descriptions
        self._message_thread: list[BaseAgentEvent | BaseChatMessage] = []
        self._output_message_queue = output_message_queue
        self._termination_condition = termination_condition
        self._max_turns = max_turns
        self._current_turn = 0
        self._message_factory = message_factory
        self._emit_team_events = emit_team_events
        self._active_speakers: list[str] = []
        self._turn_delta: list[BaseAgentEvent | BaseChatMessage] = []
        # Topics are built once; their source is the team id (this agent's key), as DefaultTopicId would pick.
        key = self.id.key
        self._group_topic = TopicId(group_topic_type, key)
        self._output_topic = TopicId(output_topic_type, key)
        self._speaker_topics = {name: TopicId(t, key) for name, t in self._participant_name_to_topic_type.items()}
        self._reset_strategy_state()

    # ------------------------------------------------------------------ a run's life

    @rpc
    async def handle_start(self, message: GroupChatStart, ctx: MessageContext) -> None:
        """Start or continue a run: relay the task, check termination, ask the first speakers."""
        # A new run begins only when no run is in progress; speakers of a cancelled or failed run never answer.
        self._active_speakers.clear()
        self._turn_delta.clear()
        if self._termination_condition is not None and self._termination_condition.terminated:
            await self._signal_termination(
                StopMessage(content="The group chat has already terminated.", source=self._name)
            )
            return
        await self.validate_group_state(message.messages)
        if message.messages is not None:
            await self.publish_message(GroupChatStart(messages=message.messages), topic_id=self._output_topic)
            if message.output_task_messages:
                put = self._output_message_queue.put_nowait
                for msg in message.messages:
                    put(msg)
            await self.publish_message(
                GroupChatStart(messages=message.messages),
                topic_id=self._group_topic,
                cancellation_token=ctx.cancellation_token,
            )
            await self.update_message_thread(message.messages)
            if await self._apply_termination_condition(message.messages):
                return
        await self._transition_to_next_speakers(ctx.cancellation_token)

    @event
    async def handle_agent_response(
        self, message: GroupChatAgentResponse | GroupChatTeamResponse, ctx: MessageContext
    ) -> None:
        """Record a speaker's answer; once the turn is complete, check termination and go on."""
        try:
            delta: list[BaseAgentEvent | BaseChatMessage]
            if isinstance(message, GroupChatAgentResponse):
                inner = message.response.inner_messages
                delta = [*inner, message.response.chat_message] if inner else [message.response.chat_message]
            else:
                delta = list(message.result.messages)
            await self.update_message_thread(delta)
            if message.name not in self._active_speakers:
                return  # a late answer from a run that was cancelled: recorded, but it starts no turn
            self._active_speakers.remove(message.name)
            if self._active_speakers:
                self._turn_delta.extend(delta)  # others of this turn are still speaking
                return
            if self._turn_delta:
                # The condition sees everything the turn said (AutoGen shows it only the last speaker's part).
                delta = [*self._turn_delta, *delta]
                self._turn_delta.clear()
            if await self._apply_termination_condition(delta, increment_turn_count=True):
                return
            await self._transition_to_next_speakers(ctx.cancellation_token)
        except Exception as e:
            # The run's caller gets the error (with its type); the runtime does not see it a second time.
            await self._signal_termination_with_error(SerializableException.from_exception(e))

    async def _transition_to_next_speakers(self, cancellation_token: CancellationToken) -> None:
        # No extra task around select_speaker: cancelling the run cancels this handler itself.
        speaker_names = await self.select_speaker(self._message_thread)
        if isinstance(speaker_names, str):
            speaker_names = [speaker_names]
        for speaker_name in speaker_names:
            if speaker_name not in self._participant_name_to_topic_type:
                raise RuntimeError(
                    f"{type(self).__name__}.select_speaker returned {speaker_name!r}, which is not a participant; "
                    f"participants: {self._participant_names}."
                )
        await self._log_speaker_selection(speaker_names)
        for speaker_name in speaker_names:
            await self.publish_message(
                GroupChatRequestPublish(),
                topic_id=self._speaker_topics[speaker_name],
                cancellation_token=cancellation_token,
            )
            self._active_speakers.append(speaker_name)

    async def _apply_termination_condition(
        self, delta: Sequence[BaseAgentEvent | BaseChatMessage], increment_turn_count: bool = False
    ) -> bool:
        """Check the condition on ``delta`` and the turn limit; on a stop, reset both and end the run."""
        condition = self._termination_condition
        if condition is not None:
            stop_message = await condition(delta)
            if stop_message is not None:
                await condition.reset()
                self._current_turn = 0
                await self._signal_termination(stop_message)
                return True
        if increment_turn_count:
            self._current_turn += 1
        if self._max_turns is not None and self._current_turn >= self._max_turns:
            if condition is not None:
                await condition.reset()
            self._current_turn = 0
            await self._signal_termination(
                StopMessage(content=f"Maximum number of turns {self._max_turns} reached.", source=self._name)
            )
            return True
        return False

    async def _log_speaker_selection(self, speaker_names: list[str]) -> None:
        """With ``emit_team_events``, put the selection in the run's stream."""
        if self._emit_team_events:
            select_msg = SelectSpeakerEvent(content=speaker_names, source=self._name)
            await self.publish_message(GroupChatMessage(message=select_msg), topic_id=self._output_topic)
            self._output_message_queue.put_nowait(select_msg)

    async def _signal_termination(self, message: StopMessage) -> None:
        termination = GroupChatTermination(message=message)
        await self.publish_message(termination, topic_id=self._output_topic)
        self._output_message_queue.put_nowait(termination)

    async def _signal_termination_with_error(self, error: SerializableException) -> None:
        self._active_speakers.clear()
        self._turn_delta.clear()
        termination = GroupChatTermination(
            message=StopMessage(content="An error occurred in the group chat.", source=self._name), error=error
        )
        await self.publish_message(termination, topic_id=self._output_topic)
        self._output_message_queue.put_nowait(termination)

    @event
    async def handle_group_chat_message(self, message: GroupChatMessage, ctx: MessageContext) -> None:
        """Pass a participant's message or event on to the run's stream."""
        self._output_message_queue.put_nowait(message.message)

    @event
    async def handle_group_chat_error(self, message: GroupChatError, ctx: MessageContext) -> None:
        """A participant failed: end the run with its error."""
        await self._signal_termination_with_error(message.error)

    @rpc
    async def handle_reset(self, message: GroupChatReset, ctx: MessageContext) -> None:
        """Return to the initial state (see :meth:`reset`)."""
        self._active_speakers.clear()
        self._turn_delta.clear()
        await self.reset()

    @rpc
    async def handle_pause(self, message: GroupChatPause, ctx: MessageContext) -> None:
        """Pausing the manager does nothing by default; strategies may override it."""

    @rpc
    async def handle_resume(self, message: GroupChatResume, ctx: MessageContext) -> None:
        """Resuming the manager does nothing by default; strategies may override it."""

    # ------------------------------------------------------------------ the strategy's part

    @abstractmethod
    async def validate_group_state(self, messages: list[BaseChatMessage] | None) -> None:
        """Check that a run can start with ``messages`` (the task); raise to refuse it."""
        ...

    async def update_message_thread(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> None:
        """Append new messages to the thread (called before :meth:`select_speaker`); strategies may extend it."""
        self._message_thread.extend(messages)

    @abstractmethod
    async def select_speaker(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str] | str:
        """Return the name (or names) of the next speakers, given the whole thread.

        Called when every speaker of the previous turn has answered. Names must be participants' names.
        """
        ...

    async def reset(self) -> None:
        """Return to the initial state: clear the thread and the turn count, reset the condition and the strategy.

        Strategies usually override :meth:`_reset_strategy_state` instead; one that overrides this (as AutoGen
        strategies do) replaces it whole.
        """
        self._current_turn = 0
        self._message_thread.clear()
        if self._termination_condition is not None:
            await self._termination_condition.reset()
        self._reset_strategy_state()

    def _reset_strategy_state(self) -> None:
        """Set the strategy's own state to its initial value (who is next, counters); nothing here.

        Called at the end of ``__init__`` and by :meth:`reset`, so a strategy writes its initial state once.
        Whatever it reads of the strategy's options must be set before ``super().__init__()`` is called.
        """

    def _thread_state(self) -> dict[str, Any]:
        """The fields every manager's saved state starts with: the thread (dumped) and the turn count."""
        return {
            "message_thread": [message.dump() for message in self._message_thread],
            "current_turn": self._current_turn,
        }

    def _load_thread_state(self, message_thread: Sequence[Mapping[str, Any]], current_turn: int) -> None:
        """Restore what :meth:`_thread_state` saved (messages are rebuilt by the team's message factory)."""
        self._message_thread = [self._message_factory.create(message) for message in message_thread]
        self._current_turn = current_turn

    async def on_unhandled_message(self, message: Any, ctx: MessageContext) -> None:
        """Refuse anything that is not a group-chat event: it means two teams' topics got crossed."""
        raise ValueError(
            f"{type(self).__name__} got a {type(message).__name__}, which is not a group-chat event; nothing but "
            "the team's manager and containers should use the team's topics."
        )
