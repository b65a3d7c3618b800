"""``salon worker CONFIG``, run as real worker processes: they host the config's agents, share a type between
them, leave the cluster cleanly on SIGTERM/SIGINT (partitions given back at once, not after the lease), and
refuse a config without a redis runtime or a Redis that does not answer (password masked) in one line.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from salon import AgentId, try_get_known_serializers_for_type
from salon_redis import RedisAgentRuntime
from salon_redis._runtime_keys import partition_of

PID_AGENT = """\
import os
from dataclasses import dataclass

from salon import MessageContext, RoutedAgent, message_handler
from salon.hookspecs import hookimpl


@dataclass
class Hello:
    text: str


class Pid(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("Answers with its key and process id.")

    @message_handler
    async def on_hello(self, message: Hello, ctx: MessageContext) -> str:
        return f"{message.text}:{self.id.key}@{os.getpid()}"


@hookimpl
def register_agents(register):
    register("pid", Pid)
"""


@dataclass
class Hello:
    """The plugin's message, as the test process knows it (it travels by class name, as JSON)."""

    text: str


LEASE_MS = 3000
"""Balancing runs every ``LEASE_MS / 3``; a lease still held by a worker that exited would last this long."""


def _config(tmp_path: Path, url: str, namespace: str) -> Path:
    (tmp_path / "pid_agent.py").write_text(PID_AGENT)
    config = tmp_path / "worker.yaml"
    config.write_text(
        "plugins: {local: [./pid_agent.py]}\n"
        f"runtime: {{use: redis, options: {{url: '{url}', namespace: {namespace}, lease_ms: {LEASE_MS}}}}}\n"
        "agents:\n  pid: {use: pid}\n"
    )
    return config


def _start(config: Path, *extra: str) -> subprocess.Popen[str]:
    """Start ``salon worker CONFIG`` and return once it says it joined (fail with its output otherwise)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "salon", "worker", str(config), *extra],
        cwd=config.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if "joined namespace" not in line:
        proc.kill()
        out, err = proc.communicate(timeout=10)
        pytest.fail(f"salon worker did not start: {line!r}{err}{out}")
    return proc


def _end(proc: subprocess.Popen[str], sig: signal.Signals = signal.SIGTERM) -> tuple[int, str]:
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return proc.returncode, err


def _lease_owners(url: str, namespace: str) -> list[str]:
    client = redis.Redis.from_url(url)
    try:
        owners = client.mget([f"salon:{namespace}:lease:pid:{index}" for index in range(8)])
    finally:
        client.close()
    return [owner.decode() if owner else "" for owner in owners]


def _pid_of(owner: str) -> int:
    return int(owner.split("-")[-2])  # host-pid-random


async def test_workers_host_the_configs_agents_and_leave_cleanly_on_a_signal(redis_url: str, tmp_path: Path) -> None:
    namespace = f"worker-{uuid.uuid4().hex[:8]}"
    config = _config(tmp_path, redis_url, namespace)
    first = await asyncio.to_thread(_start, config)
    second = await asyncio.to_thread(_start, config)
    client = RedisAgentRuntime(redis_url, namespace=namespace, worker_id="client")
    client.add_message_serializer(try_get_known_serializers_for_type(Hello))
    procs = [first, second]
    try:
        async with asyncio.timeout(60):
            await client.start()
            owners = _lease_owners(redis_url, namespace)
            while "" in owners or sorted({_pid_of(o) for o in owners}) != sorted([first.pid, second.pid]):
                await asyncio.sleep(0.05)  # the second worker takes its share (partitions moved by a clean give-back)
                owners = _lease_owners(redis_url, namespace)
            keys = [f"k{n}" for n in range(16)]
            answers = {key: await client.send_message(Hello("hi"), AgentId("pid", key)) for key in keys}
            for index, key in enumerate(keys):
                owner_pid = _pid_of(owners[partition_of(key, 8)])
                assert answers[key] == f"hi:{key}@{owner_pid}", index
            assert {int(a.rsplit("@", 1)[1]) for a in answers.values()} == {first.pid, second.pid}

            status, err = await asyncio.to_thread(_end, first, signal.SIGTERM)
            assert status == 0, err
            # It gave its partitions back before it exited (a dead worker's leases would still name it).
            owners = _lease_owners(redis_url, namespace)
            assert first.pid not in {_pid_of(o) for o in owners if o}, owners
            while {_pid_of(o) if o else 0 for o in owners} != {second.pid}:
                await asyncio.sleep(0.05)
                owners = _lease_owners(redis_url, namespace)
            for key in keys:
                assert await client.send_message(Hello("again"), AgentId("pid", key)) == f"again:{key}@{second.pid}"

            status, err = await asyncio.to_thread(_end, second, signal.SIGINT)
            assert status == 0, err
            assert _lease_owners(redis_url, namespace) == [""] * 8, "the last worker gave its partitions back"
            members = redis.Redis.from_url(redis_url)
            try:
                assert members.zrange(f"salon:{namespace}:workers", 0, -1) == [b"client"]
            finally:
                members.close()
    finally:
        await client.close()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


def test_a_config_without_the_redis_runtime_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pid_agent.py").write_text(PID_AGENT)
    config = tmp_path / "local.yaml"
    config.write_text("plugins: {local: [./pid_agent.py]}\nagents:\n  pid: {use: pid}\n")
    done = subprocess.run(
        [sys.executable, "-m", "salon", "worker", str(config)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "runtime: a worker needs the distributed runtime" in done.stderr
    assert "SingleThreadedAgentRuntime" in done.stderr
    assert "{use: redis, options: {url: ..., namespace: ...}}" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreachable_redis_is_named_with_the_password_masked(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    config = _config(tmp_path, f"redis://app:s3cret-pw@127.0.0.1:{port}/0", "nowhere")
    done = subprocess.run(
        [sys.executable, "-m", "salon", "worker", str(config)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(f"salon worker: cannot reach Redis at redis://app:***@127.0.0.1:{port}/0: ")
    assert "s3cret-pw" not in done.stderr
    assert "Traceback" not in done.stderr


def test_host_without_a_team_is_refused(redis_url: str, tmp_path: Path) -> None:
    config = _config(tmp_path, redis_url, f"noteam-{uuid.uuid4().hex[:8]}")
    done = subprocess.run(
        [sys.executable, "-m", "salon", "worker", str(config), "--host", "writer"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert done.returncode == 2
    assert "--host writer: this config has no team:" in done.stderr
