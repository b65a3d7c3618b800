"""The base of every team strategy: maps a group chat onto runtime agents and runs it."""

from __future__ import annotations

import asyncio
import re
import uuid
from abc import ABC
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from functools import partial
from typing import Any, cast

from pydantic import ValidationError

from salon import (
    AgentId,
    AgentRuntime,
    CancellationToken,
    PydanticJsonMessageSerializer,
    SingleThreadedAgentRuntime,
)

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
from ..state import TeamState
from ._base_group_chat_manager import OutputQueue
from ._chat_agent_container import ChatAgentContainer
from ._events import (
    GROUP_CHAT_EVENT_TYPES,
    GroupChatPause,
    GroupChatReset,
    GroupChatResume,
    GroupChatStart,
    GroupChatTermination,
    SerializableException,
)
from ._runtime_setup import RuntimeSetup
from ._sequential_routed_agent import SequentialRoutedAgent

__all__ = ["BaseGroupChat"]

_AGENT_TYPE_PART = re.compile(r"[\w\-.]+")
"""What may go into an agent type (the runtime's rule); a team's types are ``<name>_<team id>``."""


class BaseGroupChat(Team, ABC):
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

    def _use_team_id(self, team_id: str) -> None:
        """Name the team's agent types and topics after ``team_id`` (``<name>_<team id>``)."""
        self._team_id = team_id
        self._group_topic_type = f"group_topic_{team_id}"
        self._group_chat_manager_topic_type = f"{self._group_chat_manager_name}_{team_id}"
        self._participant_topic_types: list[str] = [f"{n}_{team_id}" for n in self._participant_names]
        self._output_topic_type = f"output_topic_{team_id}"
        self._manager_id = AgentId(self._group_chat_manager_topic_type, team_id)

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

    # ------------------------------------------------------------------ across processes

    def distribute(self, runtime: AgentRuntime, *, team_id: str | None = None, hosted: Sequence[str] = ()) -> None:
        """Run this team on ``runtime`` (a distributed one) with participants that other processes host.

        The process that calls :meth:`run` hosts the manager (it feeds the run's output stream) and the
        participants named in ``hosted``; every other participant must be registered by a worker process with
        :meth:`register_participants` and the same ``team_id``. Each process builds the team from the same
        definition (the same container config), so all of them agree on the agent types and topics.

        Args:
            runtime: The runtime to run on; starting and stopping it is the caller's.
            team_id: Shared by every process of this team; default: the team's name. Two teams that share a
                runtime need different ids.
            hosted: Participants this process registers itself when the team first runs.

        Raises:
            RuntimeError: the team has already been set up on a runtime (it ran, or its state was used).
            ValueError: ``team_id`` cannot be part of an agent type, or ``hosted`` names a non-participant.
        """
        if self._initialized:
            raise RuntimeError(
                f"Team {self._name!r} is already set up on its runtime; call distribute() before the first run."
            )
        self._use_team_id(self._checked_team_id(team_id))
        self._hosted = set(self._checked_names(hosted))
        self._runtime = runtime
        self._embedded_runtime = False

    async def register_participants(
        self, runtime: AgentRuntime, names: Sequence[str], *, team_id: str | None = None
    ) -> None:
        """Register the named participants with ``runtime``, in a worker process that hosts them.

        The worker does not run the team: the process that does calls :meth:`distribute` with the same
        ``team_id``, and its manager reaches these participants through the runtime.

        Args:
            runtime: The worker's runtime (started before or after this call).
            names: The participants this worker hosts.
            team_id: As in :meth:`distribute`; default: the team's name.

        Raises:
            RuntimeError: the team was already set up with another team id.
            ValueError: ``names`` is empty or names a non-participant, or ``team_id`` is not usable.
        """
        wanted = self._checked_names(names)
        if not wanted:
            raise ValueError(f"Name the participants of team {self._name!r} to register: {self._participant_names}.")
        team_id = self._checked_team_id(team_id)
        if team_id != self._team_id:
            if self._initialized:
                raise RuntimeError(f"Team {self._name!r} is already set up with team id {self._team_id!r}.")
            self._use_team_id(team_id)
        self._check_agent_type_names(wanted)
        await self._register_containers(runtime, wanted)

    def _checked_team_id(self, team_id: str | None) -> str:
        chosen = self._name if team_id is None else team_id
        if _AGENT_TYPE_PART.fullmatch(chosen) is None:
            raise ValueError(
                f"Team id {chosen!r} cannot be part of an agent type; use letters, digits, '_', '-' and '.'"
                + (" (it defaults to the team's name: pass team_id=...)." if team_id is None else ".")
            )
        return chosen

    def _checked_names(self, names: Sequence[str]) -> list[str]:
        if isinstance(names, str):
            names = [names]
        unknown = [n for n in names if n not in self._participant_names]
        if unknown:
            raise ValueError(f"{unknown} are not participants of team {self._name!r}: {self._participant_names}.")
        return list(names)

    # ------------------------------------------------------------------ the strategy's part

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
    ) -> Callable[[], SequentialRoutedAgent]:
        """Return a factory for the strategy's manager, built with these arguments and its own settings.

        The default builds ``group_chat_manager_class`` with the ten arguments in this order, then
        ``emit_team_events`` and :meth:`_manager_options` as keywords, which suits any
        :class:`~salon_agentchat.group_chat.BaseGroupChatManager` subclass. A strategy whose manager wants
        its arguments some other way overrides this method, as AutoGen strategies do.
        """
        manager_class = cast(Callable[..., SequentialRoutedAgent], self._base_group_chat_manager_class)
        arguments = (
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
        )

        def _factory() -> SequentialRoutedAgent:
            return manager_class(*arguments, emit_team_events=self._emit_team_events, **self._manager_options())

        return _factory

    def _manager_options(self) -> dict[str, Any]:
        """The strategy's own keyword arguments for its manager (a model client, a graph, a seed...); none here."""
        return {}

    def _create_participant_factory(
        self,
        parent_topic_type: str,
        output_topic_type: str,
        agent: ChatAgent | Team,
        message_factory: MessageFactory,
    ) -> Callable[[], ChatAgentContainer]:
        """Return a factory for the container of one participant (strategies may use their own container)."""

        def _factory() -> ChatAgentContainer:
            return ChatAgentContainer(parent_topic_type, output_topic_type, agent, message_factory)

        return _factory

    # ------------------------------------------------------------------ setup

    async def _init(self, runtime: AgentRuntime) -> None:
        """Register the containers and the manager with ``runtime``, with their subscriptions.

        All or nothing where it can be: names that cannot be part of an agent type are refused before
        anything is registered. Otherwise resumable: a runtime cannot unregister, so a step that fails
        (a type or subscription someone else holds on a shared runtime, a server that went away) leaves
        the earlier ones in place, and the next call skips them and retries from the failed step, which
        reports its own cause again or, once that is removed, succeeds. AutoGen's second call fails on
        the first step instead ("already exists").
        """
        hosted = self._participant_names if self._hosted is None else sorted(self._hosted)
        self._check_agent_type_names(hosted)
        await self._register_containers(runtime, hosted)
        manager_type = self._group_chat_manager_topic_type
        await self._setup.register(
            runtime,
            self._base_group_chat_manager_class,
            manager_type,
            self._create_group_chat_manager_factory(
                name=self._group_chat_manager_name,
                group_topic_type=self._group_topic_type,
                output_topic_type=self._output_topic_type,
                participant_topic_types=self._participant_topic_types,
                participant_names=self._participant_names,
                participant_descriptions=self._participant_descriptions,
                output_message_queue=self._output_message_queue,
                termination_condition=self._termination_condition,
                max_turns=self._max_turns,
                message_factory=self._message_factory,
            ),
        )
        for topic_type in (manager_type, self._group_topic_type, self._output_topic_type):
            await self._setup.subscribe(runtime, topic_type, manager_type)
        self._initialized = True

    def _check_agent_type_names(self, hosted: Sequence[str]) -> None:
        """Refuse a participant or manager name that cannot be part of its agent type (``<name>_<team id>``)."""
        checked = [("Participant", name) for name in hosted] + [("Manager", self._group_chat_manager_name)]
        for role, name in checked:
            if _AGENT_TYPE_PART.fullmatch(name) is None:
                raise ValueError(
                    f"{role} {name!r} of team {self._name!r} cannot be registered: its name is part of its agent "
                    f"type ({name}_<team id>), which allows only letters, digits, '_', '-' and '.'. Rename it."
                )

    async def _register_containers(self, runtime: AgentRuntime, names: Sequence[str]) -> None:
        """Register the containers of the participants named ``names``, with their subscriptions."""
        runtime.add_message_serializer([PydanticJsonMessageSerializer(cls) for cls in GROUP_CHAT_EVENT_TYPES])
        for participant, agent_type in zip(self._participants, self._participant_topic_types, strict=True):
            if participant.name not in names:
                continue
            factory = self._create_participant_factory(
                self._group_topic_type, self._output_topic_type, participant, self._message_factory
            )
            await self._setup.register(runtime, ChatAgentContainer, agent_type, factory)
            await self._setup.subscribe(runtime, agent_type, agent_type)
            await self._setup.subscribe(runtime, self._group_topic_type, agent_type)

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

    # ------------------------------------------------------------------ control

    async def _call_all(self, message: Any) -> None:
        """Send ``message`` to every participant container, then to the manager."""
        for agent_type in self._participant_topic_types:
            await self._runtime.send_message(message, recipient=AgentId(agent_type, self._team_id))
        await self._runtime.send_message(message, recipient=self._manager_id)

    async def _with_runtime(self, message: Any) -> None:
        """Deliver a control message, starting the embedded runtime for it when no run is in progress."""
        runtime = self._runtime
        if not self._embedded_runtime or self._is_running:
            await self._call_all(message)
            return
        assert isinstance(runtime, SingleThreadedAgentRuntime)
        runtime.start()
        try:
            await self._call_all(message)
        finally:
            await runtime.stop_when_idle()

    async def reset(self) -> None:
        """Return the team and its participants to their initial state (the team must not be running).

        Raises:
            RuntimeError: the team is running.
        """
        if self._is_running:
            raise RuntimeError(f"Team {self._name!r} is running; it must stop before it can be reset.")
        if not self._initialized:
            await self._init(self._runtime)
        self._is_running = True
        try:
            runtime = self._runtime
            if self._embedded_runtime:
                assert isinstance(runtime, SingleThreadedAgentRuntime)
                runtime.start()
                try:
                    await self._call_all(GroupChatReset())
                finally:
                    await runtime.stop_when_idle()
            else:
                await self._call_all(GroupChatReset())
        finally:
            while self._output_message_queue.qsize():
                self._output_message_queue.get_nowait()
            self._is_running = False

    async def pause(self) -> None:
        """Call ``on_pause`` on every participant (the run itself goes on; agents decide what pausing means).

        Raises:
            RuntimeError: the team has never run.
        """
        if not self._initialized:
            raise RuntimeError(f"Team {self._name!r} has not run yet; there is nothing to pause.")
        await self._with_runtime(GroupChatPause())

    async def resume(self) -> None:
        """Call ``on_resume`` on every participant.

        Raises:
            RuntimeError: the team has never run.
        """
        if not self._initialized:
            raise RuntimeError(f"Team {self._name!r} has not run yet; there is nothing to resume.")
        await self._with_runtime(GroupChatResume())

    # ------------------------------------------------------------------ state

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
