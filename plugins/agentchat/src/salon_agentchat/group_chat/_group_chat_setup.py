"""How a group chat becomes runtime agents: names, factories, registration, and hosting across processes.

A team is a set of agents on a runtime: one container per participant and a manager, with agent types
and topics named after the team id (``<name>_<team id>``). This module is that mapping, kept apart from
the run loop (``_base_group_chat``) because it is also what a worker process uses alone: it registers
the participants it hosts (:meth:`GroupChatSetup.register_participants`) and never runs the team.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, cast

from salon import AgentId, AgentRuntime, PydanticJsonMessageSerializer

from ..base import ChatAgent, Team, TerminationCondition
from ..messages import MessageFactory
from ._base_group_chat_manager import OutputQueue
from ._chat_agent_container import ChatAgentContainer
from ._events import GROUP_CHAT_EVENT_TYPES
from ._runtime_setup import RuntimeSetup
from ._sequential_routed_agent import SequentialRoutedAgent

__all__ = ["GroupChatSetup"]

_AGENT_TYPE_PART = re.compile(r"[\w\-.]+")
"""What may go into an agent type (the runtime's rule); a team's types are ``<name>_<team id>``."""


class GroupChatSetup:
    """The part of :class:`~salon_agentchat.group_chat.BaseGroupChat` that sets the team up on a runtime.

    A mixin: the attributes below are made by ``BaseGroupChat.__init__``; the factories are the hooks a
    strategy overrides.
    """

    _name: str
    _participants: list[ChatAgent | Team]
    _participant_names: list[str]
    _participant_descriptions: list[str]
    _base_group_chat_manager_class: type[SequentialRoutedAgent]
    _group_chat_manager_name: str
    _termination_condition: TerminationCondition | None
    _max_turns: int | None
    _message_factory: MessageFactory
    _emit_team_events: bool
    _output_message_queue: OutputQueue
    _hosted: set[str] | None
    _runtime: AgentRuntime
    _embedded_runtime: bool
    _initialized: bool
    _is_running: bool
    _setup: RuntimeSetup
    # named after the team id by _use_team_id()
    _team_id: str
    _group_topic_type: str
    _group_chat_manager_topic_type: str
    _participant_topic_types: list[str]
    _output_topic_type: str
    _manager_id: AgentId

    def _use_team_id(self, team_id: str) -> None:
        """Name the team's agent types and topics after ``team_id`` (``<name>_<team id>``)."""
        self._team_id = team_id
        self._group_topic_type = f"group_topic_{team_id}"
        self._group_chat_manager_topic_type = f"{self._group_chat_manager_name}_{team_id}"
        self._participant_topic_types: list[str] = [f"{n}_{team_id}" for n in self._participant_names]
        self._output_topic_type = f"output_topic_{team_id}"
        self._manager_id = AgentId(self._group_chat_manager_topic_type, team_id)

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
