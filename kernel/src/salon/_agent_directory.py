"""Agent types and instances of one runtime: registration, lazy creation, lookup."""

from __future__ import annotations

import asyncio
import inspect
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, cast

from ._agent import Agent
from ._agent_id import AgentId, is_valid_agent_type
from ._agent_instantiation import AgentInstantiationContext
from ._agent_runtime import AgentRuntime

__all__ = ["AgentDirectory"]


class _Factory:
    __slots__ = ("call", "expected_class")

    def __init__(self, call: Callable[[AgentId], Any], expected_class: type | None) -> None:
        self.call = call
        self.expected_class = expected_class


class AgentDirectory:
    """Knows every agent type of a runtime and creates instances on first use.

    ``instances`` maps type -> key -> agent. The nested dict keeps the per-agent cost to one dict slot
    and lets the dispatcher look an agent up by the topic source string it already holds, without
    building an :class:`AgentId`. An instance is created from its type's factory the first time a
    message reaches it; an async factory's result is shared by every message that arrives while it
    runs, so each id gets exactly one instance.
    """

    __slots__ = ("_factories", "_instance_classes", "_pending", "_runtime", "instances")

    def __init__(self, runtime: AgentRuntime) -> None:
        self._runtime = runtime
        self._factories: dict[str, _Factory] = {}
        self._instance_classes: dict[str, type] = {}  # types registered through register_agent_instance
        self._pending: dict[tuple[str, str], asyncio.Future[Agent]] = {}
        self.instances: dict[str, dict[str, Agent]] = {}

    @property
    def type_names(self) -> list[str]:
        """Registered agent types, in registration order."""
        return [*self._factories, *self._instance_classes]

    @property
    def live_agents(self) -> int:
        """How many instances exist."""
        return sum(len(instances) for instances in self.instances.values())

    def unknown_type_message(self, agent_type: str, action: str) -> str:
        """The error text for a reference to an unregistered type: what is registered and how to register."""
        known = ", ".join(map(repr, sorted(self.type_names))) or "none"
        return (
            f"Cannot {action} agent type {agent_type!r}: no such agent type is registered on this runtime "
            f"(registered: {known}). Register it first, e.g. "
            f"`await MyAgent.register(runtime, {agent_type!r}, factory)`."
        )

    def add_factory(self, type_name: str, factory: Callable[..., Any], expected_class: type | None) -> None:
        """Register ``factory`` for ``type_name``.

        Raises:
            ValueError: the type name is invalid or taken.
            TypeError: the factory's signature is not ``()`` or the deprecated ``(runtime, agent_id)``.
        """
        self._check_new_type(type_name)
        self._factories[type_name] = _Factory(_factory_caller(self._runtime, factory, type_name), expected_class)
        self.instances[type_name] = {}

    def check_instance(self, agent: Agent, agent_id: AgentId) -> None:
        """Refuse to register ``agent`` under ``agent_id`` when that would mix kinds or reuse an id.

        Raises:
            ValueError: the type belongs to a factory or another class, or the id is taken.
        """
        agent_type = agent_id.type
        if agent_type in self._factories:
            raise ValueError(
                f"Agent type {agent_type!r} is registered with a factory; an instance cannot be added to it."
            )
        known_class = self._instance_classes.get(agent_type)
        if known_class is not None and known_class is not type(agent):
            raise ValueError(
                f"Agent type {agent_type!r} holds instances of {known_class.__name__}; "
                f"cannot add a {type(agent).__name__}."
            )
        if agent_id.key in self.instances.get(agent_type, {}):
            raise ValueError(f"Agent {agent_id} is already registered.")

    def add_instance(self, agent: Agent, agent_id: AgentId) -> None:
        """Record a registered instance (after :meth:`check_instance`)."""
        self._instance_classes[agent_id.type] = type(agent)
        self.instances.setdefault(agent_id.type, {})[agent_id.key] = agent

    def _check_new_type(self, type_name: str) -> None:
        if not is_valid_agent_type(type_name):
            raise ValueError(
                f"Invalid agent type: {type_name!r}. Allowed values MUST match the regex: `^[\\w\\-\\.]+\\Z` "
                "(letters, digits, '_', '-' and '.')."
            )
        if type_name in self._factories or type_name in self._instance_classes:
            raise ValueError(f"Agent with type {type_name!r} already exists on this runtime.")

    def create(self, agent_id: AgentId) -> Agent | Awaitable[Agent]:
        """Create the instance for ``agent_id``: the agent itself, or an awaitable for async factories.

        Raises:
            LookupError: the type has no factory (it was registered with instances only).
            Exception: whatever the factory raised, or ``TypeError`` for an agent of the wrong class.
        """
        pending = self._pending.get((agent_id.type, agent_id.key))
        if pending is not None:
            return pending
        factory = self._factories.get(agent_id.type)
        if factory is None:
            raise LookupError(
                f"Agent {agent_id} does not exist: its type {agent_id.type!r} was registered with "
                "register_agent_instance, which only knows the keys registered that way."
            )
        token = AgentInstantiationContext._CONTEXT_VAR.set((self._runtime, agent_id))
        try:
            created = factory.call(agent_id)
        finally:
            AgentInstantiationContext._CONTEXT_VAR.reset(token)
        if inspect.isawaitable(created):
            pending = asyncio.get_running_loop().create_future()
            self._pending[(agent_id.type, agent_id.key)] = pending
            return self._finish_async_creation(created, agent_id, factory, pending)
        return self._adopt(created, agent_id, factory)

    async def get(self, agent_id: AgentId) -> Agent:
        """Return the instance for ``agent_id``, creating it if needed.

        Raises:
            LookupError: the type is not registered.
        """
        instances = self.instances.get(agent_id.type)
        if instances is None:
            raise LookupError(self.unknown_type_message(agent_id.type, "get"))
        agent = instances.get(agent_id.key)
        if agent is not None:
            return agent
        created = self.create(agent_id)
        return await created if inspect.isawaitable(created) else created

    async def _finish_async_creation(
        self, creating: Awaitable[Any], agent_id: AgentId, factory: _Factory, pending: asyncio.Future[Agent]
    ) -> Agent:
        try:
            with AgentInstantiationContext.populate_context((self._runtime, agent_id)):
                agent = self._adopt(await creating, agent_id, factory)
        except BaseException as e:
            pending.set_exception(e)
            pending.exception()  # mark it retrieved: the caller of create() gets the error itself
            raise
        finally:
            del self._pending[(agent_id.type, agent_id.key)]
        pending.set_result(agent)
        return agent

    def _adopt(self, agent: Any, agent_id: AgentId, factory: _Factory) -> Agent:
        expected = factory.expected_class
        if expected is not None and not isinstance(agent, expected):
            raise TypeError(
                f"The factory of agent type {agent_id.type!r} returned a {type(agent).__name__}, "
                f"but the type was registered for {expected.__name__}."
            )
        self.instances[agent_id.type][agent_id.key] = agent
        return cast(Agent, agent)


def _factory_caller(runtime: AgentRuntime, factory: Callable[..., Any], type_name: str) -> Callable[[AgentId], Any]:
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # some callables have no signature: assume no arguments
        return lambda _agent_id: factory()
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in params if p.default is p.empty and p.kind in positional]
    if not required:
        return lambda _agent_id: factory()
    if len(required) == 2:
        warnings.warn(
            f"The factory of agent type {type_name!r} takes (runtime, agent_id); that form is deprecated. "
            "Take no arguments and read AgentInstantiationContext instead.",
            DeprecationWarning,
            stacklevel=4,
        )
        return lambda agent_id: factory(runtime, agent_id)
    raise TypeError(
        f"The factory of agent type {type_name!r} must take no arguments (it takes {len(required)}): "
        "use a lambda, e.g. `lambda: MyAgent(...)`."
    )
