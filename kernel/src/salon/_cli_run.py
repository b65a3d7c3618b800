"""``salon run FILE [--task TEXT] [--agent NAME]``: start what a config composes and send it a task.

Until the team layer (salon-agentchat, salon-teams) lands, ``run`` drives the core runtime: it starts
the configured runtime with the configured agents registered under their config keys
(``Container.running()``), sends the task text as a ``str`` message to one agent with
``runtime.send_message(task, AgentId(name, "default"))`` and prints the answer. A config with a
``team:`` section is refused with a message saying so, rather than failing somewhere less clear.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping
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
        _refuse_teams(args.file)
        container = load_container(args.file, allow_local_plugins=not args.no_local_plugins)
        agent = choose_agent(container, args.agent) if args.task is not None or args.agent is not None else None
        return asyncio.run(_run(container, agent, args.task))
    except CommandError as e:
        print(e, file=sys.stderr)
        return e.status


def _refuse_teams(file: str) -> None:
    """Stop early, and say why, when the config describes a team: ``run`` cannot run one yet."""
    from pathlib import Path

    from ._config_errors import ConfigError
    from ._config_files import read_config_file

    try:
        data, _ = read_config_file(Path(file), file)
    except ConfigError as e:
        raise CommandError(str(e)) from e
    if isinstance(data, Mapping) and data.get("team") is not None:
        raise CommandError(
            f"{file}: team: running a team needs the salon-teams plugin and the AgentChat layer, which are not "
            "available yet. For now `salon run` sends a task to one configured agent: remove the `team:` section "
            "and use --task TEXT [--agent NAME]."
        )


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


def _print_answer(answer: Any) -> None:
    """Print the agent's answer: text as it is, nothing for ``None``, anything else with ``str()``."""
    if answer is not None:
        print(answer)
