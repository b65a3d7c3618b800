"""``salon run FILE [--task TEXT] [--agent NAME] [--state PATH]``: run what a config composes.

A config with a ``team:`` section runs the team on the task and streams it to the terminal through the
``run_console`` hook (salon-agentchat's ``Console``); ``--state PATH`` loads the team's state from PATH
when it exists and saves it there afterwards, so a conversation (a swarm that handed off to the user,
say) continues across commands. Without a team, ``run`` starts the configured runtime with the
configured agents registered under their config keys (``Container.running()``), sends the task text as
a ``str`` message to one agent with ``runtime.send_message(task, AgentId(name, "default"))`` and prints
the answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import TYPE_CHECKING, Any

from ._cli_config import CONFIG_ERROR_STATUS, CommandError, load_container

if TYPE_CHECKING:
    from ._container import Container

__all__ = ["run_run", "choose_agent"]

#: The section configured agents live in; their config paths are ``agents.<name>``.
_AGENTS = "agents"


def run_run(args: argparse.Namespace) -> int:
    """Run ``salon run``; config problems exit 2, an agent that fails exits 1."""
    try:
        container = load_container(args.file, allow_local_plugins=not args.no_local_plugins)
        if "team" in container.paths():
            return _run_team_command(container, args)
        if args.state is not None:
            raise CommandError(f"{container.source}: --state saves a team's state, and this config has no team:.")
        agent = choose_agent(container, args.agent) if args.task is not None or args.agent is not None else None
        return asyncio.run(_run(container, agent, args.task))
    except CommandError as e:
        print(e, file=sys.stderr)
        return e.status


def _run_team_command(container: Container, args: argparse.Namespace) -> int:
    if args.agent is not None:
        raise CommandError(
            f"{container.source}: --agent {args.agent!r}: this config has a team:, which gets the task as a whole; "
            "drop --agent (or remove the team: section to talk to one agent)."
        )
    if args.task is None:
        raise CommandError(f"{container.source}: team: give the team a task with --task TEXT.")
    return asyncio.run(_run_team(container, args.task, args.state))


def agent_names(container: Container) -> list[str]:
    """The names of the configured agents (``agents.<name>``), in file order."""
    prefix = _AGENTS + "."
    return [path[len(prefix) :] for path in container.paths() if path.startswith(prefix)]


def choose_agent(container: Container, wanted: str | None) -> str:
    """The agent a task goes to: ``wanted``, or the only configured agent.

    Raises:
        CommandError: ``wanted`` is not configured, or none is given and there is not exactly one agent.
    """
    names = agent_names(container)
    listed = ", ".join(names) or "none"
    if wanted is not None:
        if wanted not in names:
            raise CommandError(f"{container.source}: --agent {wanted!r} is not a configured agent (agents: {listed}).")
        return wanted
    if len(names) == 1:
        return names[0]
    if not names:
        raise CommandError(f"{container.source}: agents: there is no agent to send the task to; configure one.")
    raise CommandError(f"{container.source}: several agents are configured ({listed}); choose one with --agent NAME.")


async def _run(container: Container, agent: str | None, task: str | None) -> int:
    from ._agent_id import AgentId
    from ._config_errors import ConfigError

    try:
        async with container.running() as runtime:
            if agent is None or task is None:
                names = ", ".join(agent_names(container)) or "none"
                print(f"salon run: the runtime ran with agents: {names}; give --task TEXT to send one a task.")
                return 0
            try:
                answer = await runtime.send_message(task, AgentId(agent, "default"))
            except Exception as e:
                print(f"salon run: agent {agent!r} failed: {type(e).__name__}: {e}", file=sys.stderr)
                return 1
            _print_answer(answer)
    except ConfigError as e:  # a component's factory refused its options while the runtime started
        print(e, file=sys.stderr)
        return CONFIG_ERROR_STATUS
    return 0


async def _run_team(container: Container, task: str, state: str | None) -> int:
    """Run the config's team; on a distributed runtime this process hosts its manager (``team.distribute``)."""
    from ._config_errors import ConfigError
    from ._single_threaded_agent_runtime import SingleThreadedAgentRuntime

    try:
        team = container.component("team")
        runtime = container.runtime()
    except ConfigError as e:
        print(e, file=sys.stderr)
        return CONFIG_ERROR_STATUS
    if type(runtime) is SingleThreadedAgentRuntime:  # `local`: the team embeds a runtime of its own
        return await _run_built_team(container, team, task, state)
    distribute = getattr(team, "distribute", None)
    if not callable(distribute):
        print(
            f"{container.source}: team: {type(team).__name__} cannot run on the configured runtime "
            f"({type(runtime).__name__}): it has no distribute(runtime).",
            file=sys.stderr,
        )
        return CONFIG_ERROR_STATUS
    # The participants run where workers host them (`salon worker CONFIG --host NAMES`).
    async with container.running() as started:
        distribute(started)
        return await _run_built_team(container, team, task, state)


async def _run_built_team(container: Container, team: Any, task: str, state: str | None) -> int:
    import json
    from pathlib import Path

    state_path = Path(state) if state is not None else None
    if state_path is not None and state_path.exists():
        try:
            await team.load_state(json.loads(state_path.read_text(encoding="utf-8")))
        except Exception as e:
            print(f"salon run: --state {state}: cannot load the team's state: {type(e).__name__}: {e}", file=sys.stderr)
            return CONFIG_ERROR_STATUS
    stream = team.run_stream(task=task)
    rendering = container.plugin_manager.hook.run_console(stream=stream, output=sys.stdout)
    try:
        result = await (rendering if rendering is not None else _print_stream(stream))
    except Exception as e:
        print(f"salon run: the team failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        await _close_model_clients(container)
    if state_path is not None:
        # Messages hold datetimes; their ISO text loads back through the same pydantic models.
        state_path.write_text(json.dumps(await team.save_state(), default=str, indent=1), encoding="utf-8")
    if rendering is None:
        print(f"stop reason: {getattr(result, 'stop_reason', None)}")
    return 0


async def _print_stream(stream: Any) -> Any:
    """Print each message's text: the fallback when no plugin renders the stream (no ``run_console``)."""
    result = None
    async for item in stream:
        to_text = getattr(item, "to_text", None)
        if to_text is not None and hasattr(item, "source"):
            print(f"---------- {item.source} ----------\n{to_text()}")
        else:
            result = item
    return result


async def _close_model_clients(container: Container) -> None:
    """Close the model clients the run built (HTTP pools, a loaded local model), so the command exits cleanly."""
    for path, client in container.built().items():
        if path.startswith("model_clients."):
            close = getattr(client, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):  # best effort: the run's outcome is already decided
                    await close()


def _print_answer(answer: Any) -> None:
    """Print the agent's answer: text as it is, nothing for ``None``, anything else with ``str()``."""
    if answer is not None:
        print(answer)
