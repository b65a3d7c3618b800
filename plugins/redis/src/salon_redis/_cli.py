"""``salon worker CONFIG``: the command line of a worker process of a Redis cluster.

Imported for every ``salon`` command (the parser is built before the command is known), so this module
imports only the standard library; the config, the runtime and redis-py load when the command runs.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_worker_command", "run_worker_command"]


def add_worker_command(cli: Any) -> None:
    """Add ``salon worker`` to the ``salon`` command's sub-parsers."""
    worker = cli.add_parser(
        "worker",
        help="run a worker of a Redis cluster: host CONFIG's agents (and --host team participants) until a signal",
        description="Build the container CONFIG describes, whose runtime must be `runtime: {use: redis, options: "
        "{url: ..., namespace: ...}}`, register its runtime agents (and, with --host, the named participants of "
        "its team) and handle their messages until SIGTERM or SIGINT; then finish the running handlers, give the "
        "partitions back to the other workers and exit. Exit status: 0 after a signal, 1 when Redis cannot be "
        "reached, 2 for a config or usage error.",
    )
    worker.add_argument("file", metavar="CONFIG", help="a YAML, TOML or JSON config file with a redis runtime")
    worker.add_argument(
        "--host",
        metavar="NAMES",
        help="comma-separated participants of the config's team that this worker hosts (e.g. writer,critic); the "
        "process that runs the team calls team.distribute(runtime) and hosts the manager",
    )
    worker.add_argument(
        "--team-id",
        metavar="ID",
        help="the id the team's agent types share across processes (default: the team's name)",
    )
    worker.add_argument(
        "--no-local-plugins",
        action="store_true",
        help="refuse the local plugin files a config lists (`plugins: {local: [...]}`)",
    )
    worker.set_defaults(handler=run_worker_command)


def run_worker_command(args: argparse.Namespace) -> int:
    """Run ``salon worker`` (see :mod:`salon_redis._worker`)."""
    from ._worker import run_worker

    return run_worker(args)
