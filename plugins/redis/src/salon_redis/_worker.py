"""What ``salon worker CONFIG`` does: join a Redis cluster, host the config's agents, leave on a signal.

The container does the registration (``Container.running()`` registers every configured runtime agent
under its config key), so a worker hosts exactly what the config composes; ``--host`` adds the named
participants of the config's team (``BaseGroupChat.register_participants``), so a team's participants can
live in different worker processes while another process runs the team. Every process builds its
components from the same config, which is what makes their agent types agree.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Any

from redis.exceptions import RedisError

from ._runtime import RedisAgentRuntime
from ._runtime_support import mask_url

__all__ = ["run_worker", "serve_worker"]

_PROG = "salon worker"
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class WorkerError(Exception):
    """A problem that ends the command with a one-line message and an exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def run_worker(args: argparse.Namespace) -> int:
    """Run ``salon worker``: 0 after a signal, 1 when Redis is unreachable, 2 for a config or usage error."""
    from salon._cli_config import CommandError, load_container
    from salon._config_errors import ConfigError

    try:
        container = load_container(args.file, allow_local_plugins=not args.no_local_plugins)
        runtime = _redis_runtime(container)
        hosted = _names(args.host)
        team = _team(container, hosted)
    except CommandError as e:
        print(e, file=sys.stderr)
        return e.status
    except ConfigError as e:  # a component's factory refused its options
        print(e, file=sys.stderr)
        return 2
    try:
        asyncio.run(serve_worker(container, runtime, team=team, hosted=hosted, team_id=args.team_id))
    except WorkerError as e:
        print(f"{_PROG}: {e}", file=sys.stderr)
        return e.status
    return 0


def _redis_runtime(container: Any) -> RedisAgentRuntime:
    from salon._cli_config import CommandError

    runtime = container.runtime()
    if not isinstance(runtime, RedisAgentRuntime):
        raise CommandError(
            f"{container.source}: runtime: a worker needs the distributed runtime, and this config's runtime is "
            f"{type(runtime).__name__}; write `runtime: {{use: redis, options: {{url: ..., namespace: ...}}}}`."
        )
    return runtime


def _names(host: str | None) -> list[str]:
    if host is None:
        return []
    return [name.strip() for name in host.split(",") if name.strip()]


def _team(container: Any, hosted: list[str]) -> Any:
    """The config's team when ``--host`` names participants of it, else ``None``."""
    from salon._cli_config import CommandError

    if not hosted:
        return None
    if "team" not in container.paths():
        raise CommandError(
            f"{container.source}: --host {','.join(hosted)}: this config has no team: whose participants a worker "
            "could host; drop --host (the configured runtime agents are hosted anyway) or add the team."
        )
    team = container.component("team")
    if not callable(getattr(team, "register_participants", None)):
        raise CommandError(
            f"{container.source}: team: {type(team).__name__} cannot spread its participants over workers "
            "(it has no register_participants()); use a group chat team such as round_robin."
        )
    return team


async def serve_worker(
    container: Any,
    runtime: RedisAgentRuntime,
    *,
    team: Any = None,
    hosted: list[str] | None = None,
    team_id: str | None = None,
) -> None:
    """Host the container's agents (and ``hosted`` participants of ``team``) until SIGTERM or SIGINT.

    Prints one line on stderr once the worker has joined (what it hosts), so whoever started it knows
    it is ready. On a signal it stops taking messages, lets running handlers finish, gives its partitions
    back (the other workers take them at once, without waiting for a lease to expire) and closes.

    Raises:
        WorkerError: Redis cannot be reached (status 1; the URL with its password masked), or ``hosted``
            names a non-participant, or the worker would host nothing (status 2).
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in _SIGNALS:  # before connecting: a signal during start-up also ends the worker cleanly
        loop.add_signal_handler(sig, stop.set)
    try:
        await _check_reachable(runtime)
        async with container.running():
            assert runtime._ready is not None
            await asyncio.shield(runtime._ready)  # joined the cluster, or the connection error
            if team is not None:
                try:
                    await team.register_participants(runtime, hosted or [], team_id=team_id)
                except ValueError as e:
                    raise WorkerError(str(e), 2) from e
            types = sorted(runtime._routing.types_here)
            if not types:
                raise WorkerError(
                    f"{container.source}: nothing to host: the config has no runtime agents under agents: and "
                    "no --host participants; a worker without agents would only take part in the cluster's "
                    "bookkeeping.",
                    2,
                )
            print(
                f"{_PROG}: {runtime.worker_id} joined namespace {runtime.namespace!r} at {mask_url(runtime._url)}, "
                f"hosting {', '.join(types)}",
                file=sys.stderr,
                flush=True,
            )
            await stop.wait()
            await runtime.stop()
    except ConnectionError as e:
        raise WorkerError(str(e), 1) from e
    finally:
        for sig in _SIGNALS:
            loop.remove_signal_handler(sig)
        await runtime.close()  # waits for the partitions to be given back
        await _close_model_clients(container)


async def _check_reachable(runtime: RedisAgentRuntime) -> None:
    """Fail before registering anything when Redis does not answer, naming the URL with its password masked."""
    try:
        await runtime._redis.ping()
    except RedisError as e:
        raise ConnectionError(
            f"cannot reach Redis at {mask_url(runtime._url)}: {str(e).rstrip('.')}. Check that the server runs and "
            "that the URL, user and password in the config's runtime options are right."
        ) from e


async def _close_model_clients(container: Any) -> None:
    """Close the model clients the worker built (HTTP pools, a loaded model), so the process exits cleanly."""
    for path, client in container.built().items():
        close = getattr(client, "close", None) if path.startswith("model_clients.") else None
        if close is not None:
            with contextlib.suppress(Exception):
                await close()
