"""The base of every team strategy: maps a group chat onto runtime agents and runs it.

This module holds the team's construction and its run loop (:meth:`BaseGroupChat.run_stream`: start the
runtime, send the task to the manager, stream what the output queue receives). The rest of the class comes
from mixins, one concept each: setting the team up on a runtime (``_group_chat_setup``), the control
messages reset, pause and resume (``_group_chat_control``), and saving and loading its state
(``_group_chat_state``).
"""

from __future__ import annotations

import asyncio
import uuid
from abc import ABC
from collections.abc import AsyncGenerator, Sequence
from functools import partial
from typing import Any

from salon import AgentRuntime, CancellationToken, SingleThreadedAgentRuntime

from ..base import ChatAgent, TaskResult, Team, TerminationCondition
from ..messages import (
    BaseAgentEvent,
    BaseChatMessage,
    MessageFactory,
    ModelClientStreamingChunkEvent,
    StopMessage,
    StructuredMessage,
    TextMessage,
)
from ._base_group_chat_manager import OutputQueue
from ._events import GroupChatStart, GroupChatTermination, SerializableException
from ._group_chat_control import GroupChatControl
from ._group_chat_state import GroupChatState
from ._runtime_setup import RuntimeSetup
from ._sequential_routed_agent import SequentialRoutedAgent

__all__ = ["BaseGroupChat"]


class BaseGroupChat(GroupChatControl, GroupChatState, Team, ABC):
    """The base class of group-chat teams: participants share context by publishing to the whole group.

    A participant agent's :attr:`~salon_agentchat.base.Response.chat_message` (or every chat message of a
    participant team's :class:`~salon_agentchat.base.TaskResult`) reaches every other participant. A
    strategy subclasses :class:`~salon_agentchat.group_chat.BaseGroupChatManager` (who speaks next) and this
    class (which manager, and its settings through :meth:`_manager_options`; or, as in AutoGen, the whole
    factory through :meth:`_create_group_chat_manager_factory`).

    The team runs on its own in-process runtime unless given one; either way it makes its agent types and
    topics unique to this instance (``<name>_<team id>``), so several teams can share a runtime, and it
    registers a JSON serializer for each group-chat event, so the runtime may be a distributed one.

    Differences from AutoGen, on purpose: an exception raised by a participant reaches the caller of
    :meth:`run` / :meth:`run_stream` as itself (AutoGen raises a ``RuntimeError`` with its text); a run that is
    cancelled, abandoned or failed stops its in-flight work and leaves the team ready for the next run; and
    :meth:`pause` / :meth:`resume` work on a team that is not running.

    Args:
        name: The team's name (a parent team knows it by this name).
        description: What the team does (a parent selector reads it).
        participants: The agents and teams taking part; names must be unique.
        group_chat_manager_name: The manager's name (the key of its state, the source of its messages).
        group_chat_manager_class: The manager's class (registered as the manager's agent type).
        termination_condition: Ends a run; reset automatically once it fires.
        max_turns: Ends a run after this many turns.
        runtime: Run on this runtime instead of an embedded one (then starting and stopping it is yours).
        custom_message_types: Message classes beyond the built-in ones that participants exchange.
        emit_team_events: Put team events (speaker selections) in the run's stream.

    Raises:
        ValueError: no participants, or two with the same name.
    """

    def __init__(
        self,
        name: str,
        description: str,
        participants: list[ChatAgent | Team],
        group_chat_manager_name: str,
        group_chat_manager_class: type[SequentialRoutedAgent],
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = None,
        runtime: AgentRuntime | None = None,
        custom_message_types: list[type[BaseAgentEvent | BaseChatMessage]] | None = None,
        emit_team_events: bool = False,
    ) -> None:
        self._name = name
        self._description = description
        if len(participants) == 0:
            raise ValueError(f"{type(self).__name__} needs at least one participant.")
        names = [participant.name for participant in participants]
        if len(names) != len(set(names)):
            duplicates = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"Participant names must be unique within a team; repeated: {duplicates}.")
        self._participants = list(participants)
        self._base_group_chat_manager_class = group_chat_manager_class
        self._termination_condition = termination_condition
        self._max_turns = max_turns
        self._message_factory = MessageFactory()
        for message_type in custom_message_types or ():
            if not self._message_factory.is_registered(message_type):
                self._message_factory.register(message_type)
        for agent in participants:
            if isinstance(agent, ChatAgent):
                # Structured output types are known from the agents themselves; no need to list them.
                for produced in agent.produced_message_types:
                    if (
                        isinstance(produced, type)
                        and issubclass(produced, StructuredMessage)
                        and not self._message_factory.is_registered(produced)
                    ):
                        self._message_factory.register(produced)
        self._group_chat_manager_name = group_chat_manager_name
        self._participant_names: list[str] = names
        self._participant_descriptions: list[str] = [participant.description for participant in participants]
        self._use_team_id(str(uuid.uuid4()))
        self._hosted: set[str] | None = None  # participants registered by _init(); None: all of them
        self._output_message_queue: OutputQueue = asyncio.Queue()
        self._runtime: AgentRuntime
        if runtime is not None:
            self._runtime = runtime
            self._embedded_runtime = False
        else:
            self._runtime = SingleThreadedAgentRuntime(ignore_unhandled_exceptions=False)
            self._embedded_runtime = True
        self._initialized = False
        self._setup = RuntimeSetup()  # what _init() and register_participants() did, to resume after a failure
        self._is_running = False
        self._emit_team_events = emit_team_events

    @property
    def name(self) -> str:
        """The team's name."""
        return self._name

    @property
    def description(self) -> str:
        """The team's description."""
        return self._description

    @property
    def team_id(self) -> str:
        """The id in the team's agent types and topics: random, unless fixed by :meth:`distribute`."""
        return self._team_id

    def _task_messages(
        self, task: str | BaseChatMessage | Sequence[BaseChatMessage] | None
    ) -> list[BaseChatMessage] | None:
        if task is None:
            return None
        if isinstance(task, str):
            return [TextMessage(content=task, source="user")]
        if isinstance(task, BaseChatMessage):
            messages = [task]
        elif isinstance(task, list | tuple):
            if not task:
                raise ValueError("The task list is empty; pass at least one message, or task=None to continue.")
            messages = list(task)
            for msg in messages:
                if not isinstance(msg, BaseChatMessage):
                    raise ValueError(
                        f"Every message of a task list must be a BaseChatMessage, got {type(msg).__name__}."
                    )
        else:
            raise ValueError(
                f"The task must be a string, a BaseChatMessage or a list of them, got {type(task).__name__}."
            )
        for msg in messages:
            if not self._message_factory.is_registered(msg.__class__):
                raise ValueError(
                    f"Message type {type(msg).__name__} is not registered with the team; pass it in "
                    "custom_message_types=[...] when creating the team."
                )
        return messages

    # ------------------------------------------------------------------ running

    async def run(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> TaskResult:
        """Run the team until it terminates and return what it produced.

        A second call continues the conversation (with ``task`` added, if given); :meth:`reset` starts over.

        Args:
            task: A string (sent as a user ``TextMessage``), a chat message, a list of them, or ``None`` to
                continue where the last run stopped.
            cancellation_token: Cancelling it stops the run at once (``asyncio.CancelledError``); to stop
                gracefully use :class:`~salon_agentchat.conditions.ExternalTermination`.
            output_task_messages: Whether the task's messages are part of the result.

        Raises:
            ValueError: the task is malformed, or the team is already running.
            asyncio.CancelledError: the run was cancelled.
            Exception: whatever a participant raised, with its own type.
        """
        result: TaskResult | None = None
        async for message in self.run_stream(
            task=task, cancellation_token=cancellation_token, output_task_messages=output_task_messages
        ):
            if isinstance(message, TaskResult):
                result = message
        if result is None:  # pragma: no cover - run_stream always ends with a TaskResult
            raise AssertionError("run_stream ended without a TaskResult.")
        return result

    async def run_stream(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | TaskResult, None]:
        """Run the team, yielding each message and event as it happens and the :class:`TaskResult` last.

        Streaming chunks (``ModelClientStreamingChunkEvent``) are yielded but left out of the result. Arguments
        and errors are :meth:`run`'s. Leaving the stream early stops the run's remaining work.
        """
        messages = self._task_messages(task)
        if self._is_running:
            raise ValueError(
                f"Team {self._name!r} is already running; wait for the current run to finish (or cancel it) "
                "before starting another."
            )
        runtime = self._runtime
        if (
            not self._embedded_runtime
            and isinstance(runtime, SingleThreadedAgentRuntime)
            and not runtime.stats().running
        ):
            raise RuntimeError(
                f"Team {self._name!r} was given a runtime that is not started, so the run would wait forever; "
                "call runtime.start() before running the team (or let the team use its own runtime)."
            )
        self._is_running = True
        queue = self._output_message_queue
        # One token per run: the caller's token cancels it; so does leaving the run early. Its cancellation
        # also wakes the stream below, so waiting on the queue needs no task of its own.
        token = CancellationToken()
        cancelled = object()
        token.add_callback(partial(queue.put_nowait, cancelled))  # type: ignore[arg-type]
        if cancellation_token is not None:
            cancellation_token.add_callback(token.cancel)
        shutdown_task: asyncio.Task[None] | None = None
        finished = False
        try:
            if self._embedded_runtime:
                assert isinstance(self._runtime, SingleThreadedAgentRuntime)
                self._runtime.start()
                shutdown_task = asyncio.create_task(self._stop_when_idle(self._runtime))
            if not self._initialized:
                await self._init(self._runtime)
            await self._runtime.send_message(
                GroupChatStart(messages=messages, output_task_messages=output_task_messages),
                recipient=self._manager_id,
                cancellation_token=token,
            )
            output_messages: list[BaseAgentEvent | BaseChatMessage] = []
            while True:
                message: Any = queue.get_nowait() if queue.qsize() else await queue.get()
                if isinstance(message, GroupChatTermination):
                    if message.error is not None:
                        raise message.error.to_exception()
                    stop_reason = message.message.content
                    break
                if message is cancelled:
                    raise asyncio.CancelledError(f"The run of team {self._name!r} was cancelled.")
                if not isinstance(message, BaseAgentEvent | BaseChatMessage):
                    continue  # the wake-up of an earlier run's token
                yield message
                if not isinstance(message, ModelClientStreamingChunkEvent):
                    output_messages.append(message)
            finished = True
            yield TaskResult(messages=output_messages, stop_reason=stop_reason)
        finally:
            if not finished:
                token.cancel()
            try:
                if shutdown_task is not None:
                    await shutdown_task
            finally:
                while queue.qsize():
                    queue.get_nowait()
                self._is_running = False

    async def _stop_when_idle(self, runtime: SingleThreadedAgentRuntime) -> None:
        """Stop the embedded runtime once nothing is left to do; end the run if it stalled or failed."""
        try:
            await runtime.stop_when_idle()
        except Exception as e:
            stop = StopMessage(content="An exception occurred in the runtime.", source=self._group_chat_manager_name)
            error: SerializableException | None = SerializableException.from_exception(e)
        else:
            stop = StopMessage(content="The group chat is stopped.", source=self._group_chat_manager_name)
            error = None
        self._output_message_queue.put_nowait(GroupChatTermination(message=stop, error=error))
