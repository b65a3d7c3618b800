"""A cluster of OS processes for the distributed workloads (D1-D3), run from the measuring process.

The measuring process is a *client* runtime: it hosts no agents. The agents live in ``workers``
separate worker processes (``python -m benchmarks.node``), which talk to each other through the
subject's message server — a ``redis-server`` for Salon, AutoGen's ``GrpcWorkerAgentRuntimeHost`` in a
process of its own — on a free 127.0.0.1 port. So both frameworks run the same number of processes:
server, client, workers. Stdlib only, like the rest of the harness.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from benchmarks._measure import check
from benchmarks._subject import Subject

READY = "NODE-READY"
"""A worker prints this line once its agents are registered and it receives messages."""

REACHED = "NODE-REACHED "
"""A worker prints ``REACHED <milestone> <json tallies>`` when its deliveries reach a milestone."""

TOPIC = "fanout"
"""The topic the subscriber types of D3 listen to."""

_WAIT_S = 120.0
"""Longest wait for a process to come up or a milestone to be reached; a hung cluster fails the run."""

_REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Placement:
    """Which agent types each worker hosts: ``echo[w]`` and ``subscribers[w]`` for worker ``w``."""

    echo: list[list[str]] = field(default_factory=list)
    subscribers: list[list[str]] = field(default_factory=list)

    @classmethod
    def spread(cls, workers: int, echo_types: Sequence[str], subscriber_types: Sequence[str]) -> Placement:
        """Types dealt round robin: type ``i`` lives on worker ``i % workers`` (AutoGen allows one worker per type)."""
        return cls(
            echo=[list(echo_types[w::workers]) for w in range(workers)],
            subscribers=[list(subscriber_types[w::workers]) for w in range(workers)],
        )


class _Process:
    """A child process whose stderr goes to a file, shown when something goes wrong."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process, log: IO[bytes]) -> None:
        self.name = name
        self.proc = proc
        self.log = log

    def tail(self) -> str:
        self.log.flush()
        text = Path(self.log.name).read_bytes().decode(errors="replace")
        return text.strip()[-2000:]

    async def line(self, prefix: str) -> str:
        """The next stdout line starting with ``prefix`` (other output is skipped)."""
        assert self.proc.stdout is not None
        while True:
            try:
                raw = await asyncio.wait_for(self.proc.stdout.readline(), _WAIT_S)
            except TimeoutError:
                raise RuntimeError(f"{self.name}: no {prefix.strip()!r} within {_WAIT_S:.0f}s: {self.tail()}") from None
            if not raw:
                code = await self.proc.wait()
                raise RuntimeError(f"{self.name} exited ({code}) before {prefix.strip()!r}: {self.tail()}")
            text = raw.decode(errors="replace").rstrip("\n")
            if text.startswith(prefix):
                return text[len(prefix) :]

    async def end(self, terminate: bool) -> None:
        with contextlib.suppress(ProcessLookupError):
            if terminate:
                self.proc.terminate()
            elif self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()
        self.log.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)


class Cluster:
    """Server + worker processes + a client runtime in this process, as ``async with Cluster(...) as c``.

    Args:
        subject: The framework under test.
        placement: The agent types of each worker (its length is the number of workers).
        milestones: Cumulative deliveries per subscriber type at which workers report their tallies.
    """

    def __init__(self, subject: Subject, placement: Placement, milestones: Sequence[int] = ()) -> None:
        self.subject = subject
        self.placement = placement
        self.milestones = list(milestones)
        self.client: Any = None
        self._server: _Process | None = None
        self._workers: list[_Process] = []

    async def __aenter__(self) -> Cluster:
        try:
            await self._start()
        except BaseException:
            await self._stop()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stop()

    async def _spawn(self, name: str, command: Sequence[str], stdin: bool) -> _Process:
        log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)  # noqa: SIM115
        proc = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            cwd=_REPO_ROOT,
        )
        return _Process(name, proc, log)

    async def _start(self) -> None:
        port = free_port()
        address = self.subject.cluster_address(port)
        command, needs_stdin = self.subject.cluster_server(port)
        self._server = await self._spawn("server", command, needs_stdin)
        await _wait_for_port(port, self._server)
        for w, (echo, subscribers) in enumerate(zip(self.placement.echo, self.placement.subscribers, strict=True)):
            node = [sys.executable, "-m", "benchmarks.node", "--subject", self.subject.NAME, "worker", address]
            node += ["--echo", ",".join(echo), "--subscribe", ",".join(subscribers), "--topic", TOPIC]
            node += ["--milestones", ",".join(map(str, self.milestones))]
            self._workers.append(await self._spawn(f"worker{w}", node, True))
        await asyncio.gather(*(worker.line(READY) for worker in self._workers))
        self.client = await self.subject.connect(address)

    async def _stop(self) -> None:
        if self.client is not None:
            client, self.client = self.client, None
            await self.subject.disconnect(client)
        await asyncio.gather(*(worker.end(terminate=False) for worker in self._workers))
        self._workers.clear()
        if self._server is not None:
            server, self._server = self._server, None
            await server.end(terminate=True)

    async def reached(self, milestone: int) -> dict[str, tuple[int, int]]:
        """Wait until every worker with subscribers reported ``milestone``; the tallies of every type."""
        index = self.milestones.index(milestone)
        tallies: dict[str, tuple[int, int]] = {}
        hosting = [w for w, subs in zip(self._workers, self.placement.subscribers, strict=True) if subs]
        for worker in hosting:
            while True:
                reached, _, payload = (await worker.line(REACHED)).partition(" ")
                if int(reached) == index:
                    break
            for agent_type, (count, total) in json.loads(payload).items():
                tallies[agent_type] = (count, total)
        return tallies


async def _wait_for_port(port: int, server: _Process) -> None:
    deadline = time.monotonic() + _WAIT_S
    while True:
        check(server.proc.returncode is None, f"the server exited ({server.proc.returncode}): {server.tail()}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not listen on port {port}: {server.tail()}") from None
            await asyncio.sleep(0.02)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return
