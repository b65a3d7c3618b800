"""Salon's hook specifications: what a plugin can provide.

A plugin is a module (or object) with functions decorated ``@salon.hookimpl`` whose names match the
hooks below, found through the entry point group ``salon``. Registration hooks are called with a
``register`` callback when a plugin manager first builds its registry (and again after a plugin is
added to it), so they must do nothing but call ``register``; a registration hook that raises marks its
plugin as failed. Lifecycle hooks are called by the container around a runtime's life. No hook is
called on a hot path (per message, per model or tool call).

Every ``register`` callback has the signature::

    register(name, factory, *, options=None, description="")

``name`` is what a config's ``use:`` says; ``factory`` builds the component from its validated options
(as keyword arguments); ``options`` is a pydantic model class describing those options, or a
zero-argument callable returning it (so a plugin can import its SDK and option model lazily);
``description`` is one line for ``salon plugins``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    from ._agent_runtime import AgentRuntime

__all__ = ["hookimpl", "hookspec", "Register", "PROJECT_NAME"]

PROJECT_NAME = "salon"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class Register(Protocol):
    """The callback handed to every ``register_*`` hook."""

    def __call__(self, name: str, factory: Any, *, options: Any = None, description: str = "") -> None:
        """Register component ``name`` of the hook's kind, built by ``factory(**options)``."""
        ...


@hookspec
def register_runtimes(register: Register) -> None:
    """Register agent runtimes (``runtime: {use: NAME}``).

    :param register: registers one runtime factory; the kernel registers ``local``
        (:class:`~salon.SingleThreadedAgentRuntime`).

    Called when the plugin manager builds its registry (see the module docstring).
    """


@hookspec
def register_model_clients(register: Register) -> None:
    """Register chat completion clients (``model_clients: {x: {use: NAME}}``).

    :param register: registers one model client factory.
    """


@hookspec
def register_cache_stores(register: Register) -> None:
    """Register cache stores (``cache_stores: {x: {use: NAME}}``).

    :param register: registers one cache store factory; the kernel registers ``memory``.
    """


@hookspec
def register_code_executors(register: Register) -> None:
    """Register code executors (``code_executors: {x: {use: NAME}}``).

    :param register: registers one code executor factory.
    """


@hookspec
def register_workbenches(register: Register) -> None:
    """Register workbenches, such as MCP servers (``workbenches: {x: {use: NAME}}``).

    :param register: registers one workbench factory.
    """


@hookspec
def register_tools(register: Register) -> None:
    """Register tools (``tools: {x: {use: NAME}}``).

    :param register: registers one tool factory.
    """


@hookspec
def register_memories(register: Register) -> None:
    """Register memories (``memories: {x: {use: NAME}}``).

    :param register: registers one memory factory.
    """


@hookspec
def register_model_contexts(register: Register) -> None:
    """Register model contexts (``model_contexts: {x: {use: NAME}}``).

    :param register: registers one model context factory.
    """


@hookspec
def register_agents(register: Register) -> None:
    """Register agents (``agents: {x: {use: NAME}}``).

    :param register: registers one agent factory.
    """


@hookspec
def register_team_strategies(register: Register) -> None:
    """Register team strategies (``team: {use: NAME}``).

    :param register: registers one team factory.
    """


@hookspec
def register_termination_conditions(register: Register) -> None:
    """Register termination conditions, written in place where an option takes one (``team.options.termination``).

    Conditions combine with ``{any: [...]}`` (``|``) and ``{all: [...]}`` (``&``), nestable.

    :param register: registers one termination condition factory.
    """


@hookspec
def register_message_serializers(register: Register) -> None:
    """Register message serializers for types that cross process boundaries.

    :param register: registers one serializer factory (called with no options; returns a
        :class:`~salon.MessageSerializer` or a list of them). A container adds every registered
        serializer to the runtime it starts.
    """


@hookspec
def register_commands(cli: Any) -> None:
    """Add subcommands to the ``salon`` command line.

    :param cli: the ``argparse`` sub-parsers object of the ``salon`` command; add a parser with
        ``cli.add_parser(name, help=...)`` and set its ``handler`` default to a function taking the
        parsed arguments and returning an exit status.

    Called when the CLI starts, after plugins are loaded.
    """


@hookspec(firstresult=True)
def run_console(stream: Any, output: Any) -> Any:
    """Render what ``salon run`` streams from a team, and hand back the run's result.

    :param stream: the async iterator of ``team.run_stream(task=...)``: messages and events, then the
        ``TaskResult``.
    :param output: the text stream to write to (``sys.stdout`` for the CLI).
    :return: an awaitable that renders the whole stream and resolves to the ``TaskResult``, or ``None`` to
        let another plugin render it. The first plugin that returns one wins; without any, ``salon run``
        prints each message's text.

    Called once per ``salon run`` of a config with a ``team:``. salon-agentchat answers with its ``Console``.
    """


@hookspec
def runtime_started(runtime: AgentRuntime) -> None:
    """A runtime built by a container has started.

    :param runtime: the runtime, running.

    Called by the container right after ``runtime.start()``.
    """


@hookspec
def runtime_stopping(runtime: AgentRuntime) -> None:
    """A runtime built by a container is about to stop.

    :param runtime: the runtime, still running.

    Called by the container right before it stops the runtime.
    """


@hookspec
def container_built(container: Any) -> None:
    """A container has been built from a config.

    :param container: the :class:`~salon.Container`; its components are not created yet.

    Called once per container, after validation and before any component is created.
    """
