"""A round robin whose participants live in different worker processes of one Redis cluster.

Worker A (``salon worker team.yaml --host writer``) hosts the writer, worker B (``--host critic``) the
critic, and the test process runs the team (its manager) with ``team.distribute(runtime)``. All three build
the team from the same config, so their agent types and topics agree. The agents are assistants on
scripted models (``use: replay``) that add their process id to each reply, so the test sees where each
model call happened. The test starts its own redis-server on a free port (``salon.testing.RedisServer``;
none installed: it fails).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from salon import Container
from salon.testing import RedisServer
from salon_agentchat.messages import TextMessage

PID_ASSISTANT = """\
import os

from salon.hookspecs import hookimpl
from salon_agentchat.agents import AssistantAgent
from salon_agentchat.base import Response


class PidAssistant(AssistantAgent):
    '''An assistant whose replies end with the id of the process that called its model.'''

    async def on_messages_stream(self, messages, cancellation_token):
        async for item in super().on_messages_stream(messages, cancellation_token):
            if isinstance(item, Response):
                reply = item.chat_message.model_copy(update={"content": f"{item.chat_message.content} @{os.getpid()}"})
                item = Response(chat_message=reply, inner_messages=item.inner_messages)
            yield item


def _options():
    from salon_agentchat._agent_options import AssistantAgentOptions

    return AssistantAgentOptions


@hookimpl
def register_agents(register):
    register("pid_assistant", lambda **options: PidAssistant(**options), options=_options)
"""


def _config(url: str, namespace: str) -> str:
    return f"""\
plugins: {{local: [./pid_assistant.py]}}
runtime: {{use: redis, options: {{url: '{url}', namespace: {namespace}, lease_ms: 3000}}}}
model_clients:
  writer_model: {{use: replay, options: {{chat_completions: ["draft one", "draft two"]}}}}
  critic_model: {{use: replay, options: {{chat_completions: ["too long", "APPROVE"]}}}}
agents:
  writer: {{use: pid_assistant, options: {{name: writer, model_client: writer_model}}}}
  critic: {{use: pid_assistant, options: {{name: critic, model_client: critic_model}}}}
team:
  use: round_robin
  options: {{participants: [writer, critic], max_turns: 4, name: review}}
"""


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A redis-server for this module (no persistence), stopped afterwards."""
    with RedisServer() as server:
        yield server.url


def _start_worker(config: Path, host: str) -> subprocess.Popen[str]:
    """``salon worker CONFIG --host HOST``, returned once it says it joined."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "salon", "worker", str(config), "--host", host],
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
        pytest.fail(f"salon worker --host {host} did not start: {line!r}{err}{out}")
    assert line.rstrip().endswith(f"hosting {host}_review"), line
    return proc


def _stop_worker(proc: subprocess.Popen[str]) -> tuple[int, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return proc.returncode, err


async def test_round_robin_with_each_participant_in_its_own_worker_process(redis_url: str, tmp_path: Path) -> None:
    (tmp_path / "pid_assistant.py").write_text(PID_ASSISTANT)
    config = tmp_path / "team.yaml"
    config.write_text(_config(redis_url, f"team-{uuid.uuid4().hex[:8]}"))
    writer_worker, critic_worker = await asyncio.gather(
        asyncio.to_thread(_start_worker, config, "writer"), asyncio.to_thread(_start_worker, config, "critic")
    )
    container = Container.from_file(config)
    runtime = container.runtime()
    team = container.component("team")
    team.distribute(runtime)  # this process hosts the manager only; team id: the team's name
    try:
        async with asyncio.timeout(60):
            await runtime.start()
            result = await team.run(task="Write a slogan.")
    finally:
        await runtime.close()
        stopped = [_stop_worker(proc) for proc in (writer_worker, critic_worker)]
    assert [status for status, _ in stopped] == [0, 0], stopped

    assert [(m.source, m.content) for m in result.messages if isinstance(m, TextMessage)] == [
        ("user", "Write a slogan."),
        ("writer", f"draft one @{writer_worker.pid}"),
        ("critic", f"too long @{critic_worker.pid}"),
        ("writer", f"draft two @{writer_worker.pid}"),
        ("critic", f"APPROVE @{critic_worker.pid}"),
    ]
    assert result.stop_reason == "Maximum number of turns 4 reached."
    # The models this process built were never called: each participant's model ran in its worker.
    for name in ("writer_model", "critic_model"):
        assert container.component(f"model_clients.{name}").total_usage().completion_tokens == 0
    assert os.getpid() not in {writer_worker.pid, critic_worker.pid}


async def test_distribute_refuses_a_team_that_already_ran(tmp_path: Path) -> None:
    from salon import SingleThreadedAgentRuntime
    from salon.models import ReplayChatCompletionClient
    from salon_agentchat.agents import AssistantAgent
    from salon_teams import RoundRobinGroupChat

    team = RoundRobinGroupChat(
        [AssistantAgent("writer", model_client=ReplayChatCompletionClient(["a"]))], max_turns=1, name="solo"
    )
    await team.run(task="go")
    with pytest.raises(RuntimeError, match="call distribute\\(\\) before the first run"):
        team.distribute(SingleThreadedAgentRuntime())
    fresh = RoundRobinGroupChat([AssistantAgent("writer", model_client=ReplayChatCompletionClient(["a"]))])
    with pytest.raises(ValueError, match="not participants"):
        fresh.distribute(SingleThreadedAgentRuntime(), hosted=["nobody"])
    with pytest.raises(ValueError, match="cannot be part of an agent type"):
        fresh.distribute(SingleThreadedAgentRuntime(), team_id="a team")


def test_a_worker_refuses_to_host_a_non_participant(redis_url: str, tmp_path: Path) -> None:
    (tmp_path / "pid_assistant.py").write_text(PID_ASSISTANT)
    config = tmp_path / "team.yaml"
    config.write_text(_config(redis_url, f"team-{uuid.uuid4().hex[:8]}"))
    done = subprocess.run(
        [sys.executable, "-m", "salon", "worker", str(config), "--host", "writer,editor"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == ("salon worker: ['editor'] are not participants of team 'review': ['writer', 'critic'].\n")


def test_salon_run_runs_the_team_with_its_participants_in_workers(redis_url: str, tmp_path: Path) -> None:
    (tmp_path / "pid_assistant.py").write_text(PID_ASSISTANT)
    config = tmp_path / "team.yaml"
    config.write_text(_config(redis_url, f"team-{uuid.uuid4().hex[:8]}"))
    workers = [_start_worker(config, "writer"), _start_worker(config, "critic")]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "salon", "run", str(config), "--task", "Write a slogan."],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        stopped = [_stop_worker(proc) for proc in workers]
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert [status for status, _ in stopped] == [0, 0], stopped
    writer, critic = (proc.pid for proc in workers)
    for text in (f"draft one @{writer}", f"too long @{critic}", f"draft two @{writer}", f"APPROVE @{critic}"):
        assert text in done.stdout, done.stdout
    assert done.stdout.index(f"draft one @{writer}") < done.stdout.index(f"APPROVE @{critic}")
    assert "Maximum number of turns 4 reached." in done.stdout
