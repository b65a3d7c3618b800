"""``salon mcp serve CONFIG``: serve a config's team (or one of its agents) as an MCP server.

Imported for every ``salon`` command (the parser is built before the command is known), so this module
imports only the standard library; the config, the agents and the mcp SDK load when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_mcp_commands", "run_serve"]

_PROG = "salon mcp serve"


def add_mcp_commands(cli: Any) -> None:
    """Add ``salon mcp serve`` to the ``salon`` command's sub-parsers."""
    mcp = cli.add_parser("mcp", help="serve a config's team or agent as an MCP server")
    commands = mcp.add_subparsers(title="commands", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve the team (or --agent NAME) that CONFIG describes as an MCP server with one tool",
        description="Build the team CONFIG describes (or its agent NAME with --agent) and serve it as an MCP "
        "server with one tool that takes a task and answers with the final message's text. stdio is for a "
        "client that starts this command; http listens on 127.0.0.1 (streamable HTTP, path /mcp).",
    )
    serve.add_argument("file", metavar="CONFIG", help="a YAML, TOML or JSON config file")
    serve.add_argument("--agent", metavar="NAME", help="serve this configured agent instead of the team")
    serve.add_argument(
        "--transport", choices=("stdio", "http"), default="stdio", help="how clients connect (default: stdio)"
    )
    serve.add_argument(
        "--port", type=int, default=8000, metavar="N", help="the HTTP port on 127.0.0.1 (default: 8000; 0: any free)"
    )
    serve.add_argument("--tool-name", metavar="NAME", help="the tool's name (default: the team's or agent's name)")
    serve.add_argument(
        "--reset-between-calls",
        action="store_true",
        help="start every task with a fresh conversation (default: calls continue one conversation)",
    )
    serve.add_argument(
        "--no-local-plugins",
        action="store_true",
        help="refuse the local plugin files a config lists (`plugins: {local: [...]}`)",
    )
    serve.set_defaults(handler=run_serve)
    mcp.set_defaults(handler=_help_of(mcp))


def _help_of(parser: argparse.ArgumentParser) -> Any:
    def show_help(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return show_help


def run_serve(args: argparse.Namespace) -> int:
    """Run ``salon mcp serve``: config problems exit 2; the server runs until its client leaves or a signal."""
    import asyncio

    from salon._cli_config import CommandError, load_container
    from salon._config_errors import ConfigError

    try:
        container = load_container(args.file, allow_local_plugins=not args.no_local_plugins)
        runner = _runner_of(container, args.agent)
    except CommandError as e:
        print(e, file=sys.stderr)
        return e.status
    except ConfigError as e:  # a component's factory refused its options
        print(e, file=sys.stderr)
        return 2
    from ._agent_server import AgentMcpServer

    try:
        server = AgentMcpServer(runner, tool_name=args.tool_name, reset_between_calls=args.reset_between_calls)
    except (TypeError, ValueError) as e:
        print(f"{_PROG}: {e}", file=sys.stderr)
        return 2
    return asyncio.run(_serve(server, container, args))


def _runner_of(container: Any, agent: str | None) -> Any:
    """The team, or the agent ``agent`` (the only agent when the config has neither a team nor --agent)."""
    from salon._cli_config import CommandError
    from salon._cli_run import choose_agent

    if agent is None and "team" in container.paths():
        return container.component("team")
    name = choose_agent(container, agent)
    runner = container.component(f"agents.{name}")
    if not callable(getattr(runner, "run", None)):
        raise CommandError(
            f"{container.source}: agents.{name} ({type(runner).__name__}) does not run tasks; "
            "serve an AgentChat agent (use: assistant, ...) or a team."
        )
    return runner


async def _serve(server: Any, container: Any, args: argparse.Namespace) -> int:
    try:
        if args.transport == "stdio":
            await server.serve_stdio()
        else:
            tool = server.tool_name

            def announce(url: str) -> None:
                print(f"{_PROG}: serving tool {tool!r} at {url}", file=sys.stderr, flush=True)

            try:
                await server.serve_http(port=args.port, on_listening=announce)
            except OSError as e:
                print(f"{_PROG}: {e}", file=sys.stderr)
                return 1
    finally:
        await _close_model_clients(container)
    return 0


async def _close_model_clients(container: Any) -> None:
    """Close the model clients the server built (HTTP pools, a loaded model), so the process exits cleanly."""
    import contextlib

    for path, client in container.built().items():
        close = getattr(client, "close", None) if path.startswith("model_clients.") else None
        if close is not None:
            with contextlib.suppress(Exception):
                await close()
