"""Every ``examples/*.yaml`` runs through the real ``salon run`` command, end to end.

Each example's model client entry is swapped for ``use: openai`` pointed at the scripted OpenAI
wire-protocol server (the only change the examples promise a user has to make to switch providers),
so the real openai SDK talks real HTTP and the exact flow is asserted: who spoke in which order, the
tool that ran, the handoff, the branch the graph took, the stop reason. ``test_local_model.py`` runs
one example on the real local model.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from salon import FunctionCall
from salon.testing import OpenAIChatServer, OpenAIToolCallsReply
from tests.plugin_dists import run_salon

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
# `---------- TextMessage (writer) ----------`, or `---------- writer (streaming) ----------` for a message
# whose tokens are printed as they arrive (its final type is not known yet when its header is printed).
HEADER = re.compile(r"^-{10} (?:(\w+) \(streaming\)|(\w+) \((\w+)(?: -> \w+)?\)) -{10}$", re.MULTILINE)


@pytest.fixture
def server() -> Any:
    with OpenAIChatServer() as running:
        yield running


def on_server(example: str, server: OpenAIChatServer, tmp_path: Path) -> Path:
    """Copy ``example`` (and the files next to it) into ``tmp_path`` with its model client on ``server``."""
    for item in EXAMPLES.iterdir():
        if item.is_file():
            shutil.copy(item, tmp_path / item.name)
    config = yaml.safe_load((EXAMPLES / example).read_text(encoding="utf-8"))
    (name,) = config["model_clients"]
    config["model_clients"][name] = {
        "use": "openai",
        "options": {"model": "gpt-4o-mini", "base_url": server.url, "api_key": "test-key"},
    }
    target = tmp_path / example
    target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return target


def speakers(stdout: str) -> list[tuple[str, str]]:
    """(message type, source) of each message the console printed, in order (type ``streaming`` if streamed)."""
    found = HEADER.findall(stdout)
    return [("streaming", streamer) if streamer else (kind, source) for streamer, kind, source in found]


def salon_run(config: Path, *args: str) -> Any:
    done = run_salon("run", config.name, *args, cwd=config.parent)
    assert done.returncode == 0, f"salon run failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def test_every_example_is_covered() -> None:
    covered = {"writer_critic.yaml", "tool_assistant.yaml", "swarm_handoff.yaml", "graph_flow.yaml"}
    assert {p.name for p in EXAMPLES.glob("*.yaml")} - {"echo.yaml"} == covered


def test_every_example_uses_one_local_model_client() -> None:
    for path in EXAMPLES.glob("*.yaml"):
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "team" not in config:
            continue
        clients = config["model_clients"]
        assert len(clients) == 1, f"{path.name}: switching providers must mean changing one entry"
        assert next(iter(clients.values()))["use"] == "llamacpp", f"{path.name} must run offline by default"


def test_config_check_accepts_every_example() -> None:
    for path in EXAMPLES.glob("*.yaml"):
        done = run_salon("config", "check", path.name, cwd=EXAMPLES)
        assert done.returncode == 0, f"{path.name}:\n{done.stdout}\n{done.stderr}"


def test_writer_critic_takes_turns_until_the_critic_approves(server: OpenAIChatServer, tmp_path: Path) -> None:
    server.script(
        [
            "Red leaves drift and fall",
            "Use a stronger verb than drift.",
            "Red leaves tumble down",
            "APPROVE",
            "never asked for",
        ]
    )
    done = salon_run(on_server("writer_critic.yaml", server, tmp_path), "--task", "Write a haiku about leaves.")

    assert [source for _, source in speakers(done.stdout)] == ["user", "writer", "critic", "writer", "critic"]
    assert "Red leaves tumble down" in done.stdout
    assert "Text 'APPROVE' mentioned" in done.stdout  # the stop reason
    assert server.remaining == 1
    # The writer streams (model_client_stream): the SDK asked the server for a stream.
    assert server.chat_requests[0].json.get("stream") is True
    # Round robin: the critic saw the writer's draft.
    critic_prompt = json.dumps(server.chat_requests[1].json["messages"])
    assert "Red leaves drift and fall" in critic_prompt


def test_tool_assistant_runs_the_tool_then_answers(server: OpenAIChatServer, tmp_path: Path) -> None:
    server.script(
        [
            OpenAIToolCallsReply([FunctionCall(id="call-1", name="get_weather", arguments='{"city": "Paris"}')]),
            "It is sunny and 21 °C in Paris.",
        ]
    )
    done = salon_run(on_server("tool_assistant.yaml", server, tmp_path), "--task", "Weather in Paris?")

    kinds = [kind for kind, _ in speakers(done.stdout)]
    # The answer is streamed (model_client_stream): its header names the stream, printed as it starts.
    assert kinds == ["TextMessage", "ToolCallRequestEvent", "ToolCallExecutionEvent", "streaming"]
    assert "It is sunny and 21 °C in Paris." in done.stdout
    # The real function of example_tools.py ran, and its result went back to the model.
    assert "The weather in Paris today: sunny, 21 °C." in done.stdout
    reflect_prompt = json.dumps(server.chat_requests[1].json["messages"], ensure_ascii=False)
    assert "The weather in Paris today: sunny, 21 °C." in reflect_prompt
    tools = {t["function"]["name"] for t in server.chat_requests[0].json["tools"]}
    assert tools == {"get_weather", "add"}


def test_swarm_hands_off_to_the_user_and_continues_with_state(server: OpenAIChatServer, tmp_path: Path) -> None:
    server.script(
        [
            OpenAIToolCallsReply([FunctionCall(id="h1", name="transfer_to_flights_refunder", arguments="{}")]),
            OpenAIToolCallsReply([FunctionCall(id="h2", name="transfer_to_user", arguments="{}")]),
            OpenAIToolCallsReply([FunctionCall(id="h3", name="transfer_to_travel_agent", arguments="{}")]),
            "Your refund for XY123 is on its way. TERMINATE",
        ]
    )
    config = on_server("swarm_handoff.yaml", server, tmp_path)
    state = tmp_path / "trip.json"

    first = salon_run(config, "--state", state.name, "--task", "I want a refund for flight XY123.")
    handoffs = [source for kind, source in speakers(first.stdout) if kind == "HandoffMessage"]
    assert handoffs == ["travel_agent", "flights_refunder"]
    assert "Handoff to user from flights_refunder detected." in first.stdout
    assert state.is_file()

    second = salon_run(config, "--state", state.name, "--task", "My booking reference is ABC.")
    # The conversation continues where it stopped: with the agent that asked the user.
    assert speakers(second.stdout)[1:] == [
        ("ToolCallRequestEvent", "flights_refunder"),
        ("ToolCallExecutionEvent", "flights_refunder"),
        ("HandoffMessage", "flights_refunder"),
        ("TextMessage", "travel_agent"),
    ]
    assert "Text 'TERMINATE' mentioned" in second.stdout
    third_prompt = json.dumps(server.chat_requests[2].json["messages"])
    assert "I want a refund for flight XY123." in third_prompt  # the state carried the history over
    assert "My booking reference is ABC." in third_prompt


def test_graph_flow_fans_out_joins_and_loops_until_approved(server: OpenAIChatServer, tmp_path: Path) -> None:
    server.script(
        [
            "Fresh bread daily.",
            "A review.",  # grammar and style reviewers run in parallel: either may get either reply
            "A review.",
            "REVISE: make it warmer.",
            "Warm bread, warm hearts.",
            "A review.",
            "A review.",
            "APPROVE",
            "Warm bread, warm hearts: since 1920.",
        ]
    )
    done = salon_run(on_server("graph_flow.yaml", server, tmp_path), "--task", "A slogan for a bakery.")

    order = [source for _, source in speakers(done.stdout)]
    reviewers = {"grammar_reviewer", "style_reviewer"}
    assert order[:2] == ["user", "writer"]
    assert set(order[2:4]) == reviewers
    assert order[4:6] == ["editor", "writer"]  # REVISE: back to the writer
    assert set(order[6:8]) == reviewers
    assert order[8:] == ["editor", "publisher"]  # APPROVE: on to the publisher, then the graph ends
    assert "Warm bread, warm hearts: since 1920." in done.stdout
    assert "Digraph execution is complete" in done.stdout
    assert server.remaining == 0


def test_salon_run_a_team_needs_a_task(tmp_path: Path, server: OpenAIChatServer) -> None:
    config = on_server("writer_critic.yaml", server, tmp_path)
    done = run_salon("run", config.name, cwd=tmp_path)
    assert done.returncode == 2
    assert "give the team a task with --task TEXT" in done.stderr


def test_an_agent_error_ends_the_run_with_its_type(server: OpenAIChatServer, tmp_path: Path) -> None:
    from salon.testing import OpenAIErrorReply

    server.script([OpenAIErrorReply(400, message="this model cannot do that")])
    done = run_salon("run", on_server("writer_critic.yaml", server, tmp_path).name, "--task", "x", cwd=tmp_path)
    assert done.returncode == 1
    assert "BadRequestError" in done.stderr
    assert "this model cannot do that" in done.stderr
