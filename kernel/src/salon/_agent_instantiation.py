"""Tells an agent's constructor which runtime and id it is being created for."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, ClassVar

from ._agent_id import AgentId

if TYPE_CHECKING:
    from ._agent_runtime import AgentRuntime

__all__ = ["AgentInstantiationContext"]


class AgentInstantiationContext:
    """Gives factories' agents their runtime and id without passing them through every constructor.

    The runtime populates it around each factory call, so ``BaseAgent.__init__`` can read it. Code that
    constructs agents by hand (tests, for instance) can populate it too.
    """

    def __init__(self) -> None:
        raise RuntimeError(
            "AgentInstantiationContext cannot be instantiated; use its class methods "
            "(populate_context, current_runtime, current_agent_id)."
        )

    _CONTEXT_VAR: ClassVar[ContextVar[tuple[AgentRuntime, AgentId]]] = ContextVar("salon_agent_instantiation")

    @classmethod
    @contextmanager
    def populate_context(cls, ctx: tuple[AgentRuntime, AgentId]) -> Generator[None, None, None]:
        """Make ``ctx`` (runtime, agent id) current for the duration of the ``with`` block."""
        token = cls._CONTEXT_VAR.set(ctx)
        try:
            yield
        finally:
            cls._CONTEXT_VAR.reset(token)

    @classmethod
    def current_runtime(cls) -> AgentRuntime:
        """The runtime creating the agent.

        Raises:
            RuntimeError: called outside an agent factory.
        """
        try:
            return cls._CONTEXT_VAR.get()[0]
        except LookupError as e:
            raise RuntimeError(_OUTSIDE_FACTORY) from e

    @classmethod
    def current_agent_id(cls) -> AgentId:
        """The id of the agent being created.

        Raises:
            RuntimeError: called outside an agent factory.
        """
        try:
            return cls._CONTEXT_VAR.get()[1]
        except LookupError as e:
            raise RuntimeError(_OUTSIDE_FACTORY) from e

    @classmethod
    def is_in_factory_call(cls) -> bool:
        """Return whether an agent factory is running in this context."""
        return cls._CONTEXT_VAR.get(None) is not None


_OUTSIDE_FACTORY = (
    "AgentInstantiationContext.current_runtime() or current_agent_id() was called outside an agent factory. "
    "Create agents through a factory registered with the runtime (MyAgent.register(runtime, 'type', factory)), "
    "or register an existing instance with runtime.register_agent_instance(agent, agent_id)."
)
