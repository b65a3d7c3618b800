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
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

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


def _config(
    url: str,
    namespace: str,
    *,
    writer: tuple[str, ...] = ("draft one", "draft two"),
    critic: tuple[str, ...] = ("too long", "APPROVE"),
    max_turns: int = 4,
) -> str:
    """The team's config: the writer's and critic's scripted replies, in order, and the turns of one run."""
    return f"""\
plugins: {{local: [./pid_assistant.py]}}
runtime: {{use: redis, options: {{url: '{url}', namespace: {namespace}, lease_ms: 3000}}}}
model_clients:
  writer_model: {{use: replay, options: {{chat_completions: {list(writer)}}}}}
  critic_model: {{use: replay, options: {{chat_completions: {list(critic)}}}}}
agents:
  writer: {{use: pid_assistant, options: {{name: writer, model_client: writer_model}}}}
  critic: {{use: pid_assistant, options: {{name: critic, model_client: critic_model}}}}
team:
  use: round_robin
  options: {{participants: [writer, critic], max_turns: {max_turns}, name: review}}
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


def _contexts(team_state: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Each participant's model context (the contents its model reads) in a saved team state."""
    return {
        name: [
            message["content"] for message in team_state["agent_states"][name]["agent_state"]["llm_context"]["messages"]
        ]
        for name in ("writer", "critic")
    }


async def _run_in_cluster(config: Path, run: Callable[[Any], Awaitable[Any]]) -> tuple[Any, int, int]:
    """Start the writer's and critic's workers, call ``run(team)`` in this process (the manager), stop them all.

    Returns what ``run`` returned and the two workers' process ids.
    """
    writer_worker, critic_worker = await asyncio.gather(
        asyncio.to_thread(_start_worker, config, "writer"), asyncio.to_thread(_start_worker, config, "critic")
    )
    container = Container.from_file(config)
    runtime = container.runtime()
    team = container.component("team")
    team.distribute(runtime)
    try:
        async with asyncio.timeout(60):
            await runtime.start()
            outcome = await run(team)
    finally:
        await runtime.close()
        stopped = [_stop_worker(proc) for proc in (writer_worker, critic_worker)]
    assert [status for status, _ in stopped] == [0, 0], stopped
    return outcome, writer_worker.pid, critic_worker.pid


async def test_a_team_saved_across_workers_continues_in_a_fresh_cluster(redis_url: str, tmp_path: Path) -> None:
    (tmp_path / "pid_assistant.py").write_text(PID_ASSISTANT)
    first_config = tmp_path / "first.yaml"
    first_config.write_text(
        _config(redis_url, f"team-{uuid.uuid4().hex[:8]}", writer=("draft one",), critic=("too long",), max_turns=2)
    )

    async def run_and_save(team: Any) -> tuple[Any, Mapping[str, Any]]:
        result = await team.run(task="Write a slogan.")
        return result, await team.save_state()  # participants' states come from their workers

    (first_result, saved), writer1, critic1 = await _run_in_cluster(first_config, run_and_save)
    assert [m.content for m in first_result.messages if isinstance(m, TextMessage)] == [
        "Write a slogan.",
        f"draft one @{writer1}",
        f"too long @{critic1}",
    ]
    # The workers' model contexts, as their agents saved them; the critic's reply waits in the writer's buffer.
    assert _contexts(saved) == {
        "writer": ["Write a slogan.", "draft one"],
        "critic": ["Write a slogan.", f"draft one @{writer1}", "too long"],
    }
    assert [m["content"] for m in saved["agent_states"]["writer"]["message_buffer"]] == [f"too long @{critic1}"]
    saved = json.loads(json.dumps(saved))  # as if kept in a file between the two clusters

    # A fresh cluster (another namespace, new worker processes, new models with the next replies).
    second_config = tmp_path / "second.yaml"
    second_config.write_text(
        _config(redis_url, f"team-{uuid.uuid4().hex[:8]}", writer=("draft two",), critic=("APPROVE",), max_turns=2)
    )

    async def load_and_continue(team: Any) -> tuple[Mapping[str, Any], Any, Mapping[str, Any]]:
        await team.load_state(saved)  # participants' states go to their workers
        loaded = await team.save_state()
        result = await team.run()  # no task: continue where the saved run stopped
        return loaded, result, await team.save_state()

    (loaded, second_result, final), writer2, critic2 = await _run_in_cluster(second_config, load_and_continue)
    assert loaded["agent_states"] == saved["agent_states"], "every participant and the manager got its state"
    # The writer speaks next (the manager's saved turn), having read the whole conversation before.
    assert [(m.source, m.content) for m in second_result.messages if isinstance(m, TextMessage)] == [
        ("writer", f"draft two @{writer2}"),
        ("critic", f"APPROVE @{critic2}"),
    ]
    assert _contexts(final) == {
        "writer": ["Write a slogan.", "draft one", f"too long @{critic1}", "draft two"],
        "critic": ["Write a slogan.", f"draft one @{writer1}", "too long", f"draft two @{writer2}", "APPROVE"],
    }
    manager_thread = [m["content"] for m in final["agent_states"]["RoundRobinGroupChatManager"]["message_thread"]]
    assert manager_thread[-2:] == [f"draft two @{writer2}", f"APPROVE @{critic2}"]
    assert manager_thread[:3] == ["Write a slogan.", f"draft one @{writer1}", f"too long @{critic1}"]
