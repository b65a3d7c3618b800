"""Serving an AgentChat team or agent over MCP (salon-mcp's ``AgentMcpServer`` and ``salon mcp serve``).

Cross-distribution: salon-mcp serves teams of salon-teams made of salon-agentchat agents. Over stdio the
server is the real command, ``salon mcp serve CONFIG``, started by ``McpWorkbench(StdioServerParams(...))``
from a config whose model clients are ``use: replay``; over streamable HTTP it is either that command on a
free 127.0.0.1 port or an :class:`AgentMcpServer` served in this process (for teams that only Python can
build: an agent that waits, an agent whose model calls we inspect). The last tests close the loop: an
``AssistantAgent`` whose workbench is a served team.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from salon import CancellationToken, FunctionCall
from salon.cli import main as salon_main
from salon.models import CreateResult, ModelFamily, ModelInfo, ReplayChatCompletionClient, RequestUsage
from salon_agentchat.agents import AssistantAgent, BaseChatAgent
from salon_agentchat.base import Response
from salon_agentchat.messages import BaseChatMessage, TextMessage, ToolCallExecutionEvent
from salon_mcp import (
    AgentMcpServer,
    McpWorkbench,
    StdioServerParams,
    StreamableHttpServerParams,
    agent_mcp_server,
    create_mcp_server_session,
)
from salon_teams import RoundRobinGroupChat

TOOL_MODEL = ModelInfo(
    vision=False, function_calling=True, json_output=False, family=ModelFamily.UNKNOWN, structured_output=False
)


def write_config(
    path: Path,
    *,
    writer: Sequence[str],
    critic: Sequence[str] = ("APPROVE",),
    max_turns: int | None = None,
) -> Path:
    """A writer/critic round robin on replay model clients; ``max_turns`` or "until APPROVE"."""
    team_options: dict[str, Any] = {
        "participants": ["writer", "critic"],
        "name": "poets",
        "description": "A writer and a critic who write short poems.",
    }
    if max_turns is not None:
        team_options["max_turns"] = max_turns
    else:
        team_options["termination"] = {"use": "text_mention", "options": {"text": "APPROVE"}}
    config = {
        "model_clients": {
            "w": {"use": "replay", "options": {"chat_completions": list(writer)}},
            "c": {"use": "replay", "options": {"chat_completions": list(critic)}},
        },
        "agents": {
            "writer": {"use": "assistant", "options": {"model_client": "w", "description": "Writes short poems."}},
            "critic": {"use": "assistant", "options": {"model_client": "c"}},
        },
        "team": {"use": "round_robin", "options": team_options},
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def serve_params(config: Path, *extra: str) -> StdioServerParams:
    """``salon mcp serve CONFIG`` over stdio, run by this Python."""
    return StdioServerParams(
        command=sys.executable, args=["-m", "salon", "mcp", "serve", str(config), *extra], read_timeout_seconds=30
    )


# -- stdio: the command ---------------------------------------------------------------------------------


async def test_stdio_team_lists_one_tool_and_answers_with_the_final_message(tmp_path: Path) -> None:
    config = write_config(tmp_path / "team.yaml", writer=["Leaves fall, gold and slow."], critic=["APPROVE"])
    async with McpWorkbench(serve_params(config)) as workbench:
        (tool,) = await workbench.list_tools()
        assert tool["name"] == "poets"
        assert tool.get("description", "").startswith("A writer and a critic who write short poems.")
        assert tool.get("parameters", {}).get("required") == ["task"]
        assert workbench.initialize_result is not None
        assert workbench.initialize_result.server_info.name == "poets"

        result = await workbench.call_tool("poets", {"task": "A haiku about autumn."})

    assert not result.is_error
    assert result.to_text() == "APPROVE"


async def test_stdio_keeps_the_conversation_between_calls(tmp_path: Path) -> None:
    # One turn per call: a kept conversation moves on to the critic; a reset one starts with the writer.
    config = write_config(tmp_path / "team.yaml", writer=["draft one", "draft two"], critic=["too long"], max_turns=1)
    async with McpWorkbench(serve_params(config)) as workbench:
        first = await workbench.call_tool("poets", {"task": "Write."})
        second = await workbench.call_tool("poets", {"task": "Go on."})
    assert (first.to_text(), second.to_text()) == ("draft one", "too long")


async def test_stdio_resets_between_calls_when_asked(tmp_path: Path) -> None:
    config = write_config(tmp_path / "team.yaml", writer=["draft one", "draft two"], critic=["too long"], max_turns=1)
    async with McpWorkbench(serve_params(config, "--reset-between-calls")) as workbench:
        first = await workbench.call_tool("poets", {"task": "Write."})
        second = await workbench.call_tool("poets", {"task": "Write again."})
    assert (first.to_text(), second.to_text()) == ("draft one", "draft two")


async def test_stdio_an_agent_that_raises_gives_an_error_result_and_the_server_goes_on(tmp_path: Path) -> None:
    config = write_config(tmp_path / "team.yaml", writer=["only draft"], critic=["fine", "fine"], max_turns=1)
    async with McpWorkbench(serve_params(config, "--tool-name", "poem")) as workbench:
        ok = await workbench.call_tool("poem", {"task": "Write."})
        await workbench.call_tool("poem", {"task": "Critique."})  # the critic's turn
        failed = await workbench.call_tool("poem", {"task": "Write more."})  # the writer has no answer left
        tools = await workbench.list_tools()
        after = await workbench.call_tool("poem", {"task": "Critique."})
    assert ok.to_text() == "only draft"
    assert failed.is_error
    assert failed.to_text().startswith("poem failed: ValueError: No more mock responses available")
    assert [tool["name"] for tool in tools] == ["poem"]
    assert not after.is_error and after.to_text() == "fine"


async def test_stdio_serves_one_agent_with_agent_option(tmp_path: Path) -> None:
    config = write_config(tmp_path / "team.yaml", writer=["Frost on the window."])
    async with McpWorkbench(serve_params(config, "--agent", "writer")) as workbench:
        (tool,) = await workbench.list_tools()
        result = await workbench.call_tool("writer", {"task": "A line about winter."})
    assert tool.get("description", "").startswith("Writes short poems.")
    assert result.to_text() == "Frost on the window."


def test_serve_refuses_an_unknown_agent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "team.yaml", writer=["x"])
    assert salon_main(["mcp", "serve", str(config), "--agent", "poet"]) == 2
    err = capsys.readouterr().err
    assert "--agent 'poet' is not a configured agent (agents: writer, critic)" in err


def test_serve_refuses_a_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("team: {use: no_such_team}\n", encoding="utf-8")
    assert salon_main(["mcp", "serve", str(config)]) == 2
    assert "no_such_team" in capsys.readouterr().err


def test_serve_refuses_an_agent_that_does_not_run_tasks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "echo.yaml"
    config.write_text("agents:\n  e: {use: echo}\n", encoding="utf-8")  # a core agent (salon-echo), not AgentChat
    assert salon_main(["mcp", "serve", str(config)]) == 2
    assert "agents.e (EchoAgent) does not run tasks; serve an AgentChat agent" in capsys.readouterr().err


def test_serve_http_reports_a_port_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "team.yaml", writer=["x"])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert salon_main(["mcp", "serve", str(config), "--transport", "http", "--port", str(port)]) == 1
    assert f"cannot serve MCP on 127.0.0.1:{port}" in capsys.readouterr().err


def test_mcp_without_subcommand_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert salon_main(["mcp"]) == 2
    assert "serve" in capsys.readouterr().err


# -- streamable HTTP: the command on a free port ---------------------------------------------------------


@pytest.fixture
def http_command(tmp_path: Path) -> Iterator[str]:
    """``salon mcp serve CONFIG --transport http --port 0``; yields the URL it announces, stops it after."""
    config = write_config(tmp_path / "team.yaml", writer=["Rain on the roof."], critic=["APPROVE"])
    process = subprocess.Popen(
        [sys.executable, "-m", "salon", "mcp", "serve", str(config), "--transport", "http", "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()  # printed once the socket listens
        assert "serving tool 'poets' at http://127.0.0.1:" in line, line + process.stderr.read()
        yield line.rsplit(" at ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(20)
        if process.stderr is not None:
            process.stderr.close()


async def test_http_command_serves_the_team(http_command: str) -> None:
    assert http_command.endswith("/mcp")
    async with McpWorkbench(StreamableHttpServerParams(url=http_command)) as workbench:
        assert [tool["name"] for tool in await workbench.list_tools()] == ["poets"]
        result = await workbench.call_tool("poets", {"task": "A line about rain."})
    assert result.to_text() == "APPROVE"


# -- streamable HTTP: served in this process --------------------------------------------------------------


def replay(*answers: str | CreateResult) -> ReplayChatCompletionClient:
    return ReplayChatCompletionClient(list(answers), model_info=TOOL_MODEL)


async def test_http_reports_progress_per_message_and_the_stop_reason() -> None:
    team = RoundRobinGroupChat(
        [AssistantAgent("writer", model_client=replay("draft")), AssistantAgent("critic", model_client=replay("ok"))],
        max_turns=2,
    )
    server = AgentMcpServer(team, tool_name="write")
    progress: list[tuple[float, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, message))

    async with server.serving_http() as url, create_mcp_server_session(StreamableHttpServerParams(url=url)) as session:
        await session.initialize()
        result = await session.call_tool("write", {"task": "A poem."}, progress_callback=on_progress)

    assert not result.is_error
    assert [block.text for block in result.content if block.type == "text"] == ["ok"]
    assert result.structured_content == {
        "answer": "ok",
        "source": "critic",
        "stop_reason": "Maximum number of turns 2 reached.",
    }
    assert progress == [(1.0, "user: A poem."), (2.0, "writer: draft"), (3.0, "critic: ok")]


async def test_http_single_agent_keeps_or_resets_its_conversation() -> None:
    kept_model, fresh_model = replay("one", "two"), replay("one", "two")
    kept = AgentMcpServer(AssistantAgent("helper", model_client=kept_model))
    fresh = AgentMcpServer(AssistantAgent("helper", model_client=fresh_model), reset_between_calls=True)
    for server in (kept, fresh):
        async with server.serving_http() as url, McpWorkbench(StreamableHttpServerParams(url=url)) as workbench:
            first = await workbench.call_tool("helper", {"task": "first"})
            second = await workbench.call_tool("helper", {"task": "second"})
        assert (first.to_text(), second.to_text()) == ("one", "two")

    def texts(client: ReplayChatCompletionClient) -> list[str]:
        return [str(message.content) for message in client.create_calls[-1]["messages"][1:]]

    assert texts(kept_model) == ["first", "one", "second"]  # after the system message
    assert texts(fresh_model) == ["second"]


class WaitingAgent(BaseChatAgent):
    """Answers only when cancelled: it records that it started and that its token was cancelled."""

    def __init__(self) -> None:
        super().__init__("waiter", description="Waits forever.")
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage,)

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        waiting: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        cancellation_token.link_future(waiting)
        self.started.set()
        try:
            await waiting
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return Response(chat_message=TextMessage(content="never", source=self.name))

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        pass


async def test_http_client_cancellation_cancels_the_run() -> None:
    agent = WaitingAgent()
    server = AgentMcpServer(RoundRobinGroupChat([agent], max_turns=1), tool_name="wait")
    async with server.serving_http() as url, McpWorkbench(StreamableHttpServerParams(url=url)) as workbench:
        token = CancellationToken()
        call = asyncio.create_task(workbench.call_tool("wait", {"task": "Wait."}, cancellation_token=token))
        await asyncio.wait_for(agent.started.wait(), 10)
        token.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await asyncio.wait_for(agent.cancelled.wait(), 10)  # the server cancelled the team's token


async def test_a_runner_without_run_stream_is_served_through_run() -> None:
    class PlainRunner:
        name = "plain"
        description = "Answers with the task in capitals"

        async def run(self, *, task: str, cancellation_token: CancellationToken | None = None) -> Any:
            return _Result([TextMessage(content=task.upper(), source="plain")], stop_reason=None)

    server = AgentMcpServer(PlainRunner())
    async with server.serving_http() as url, McpWorkbench(StreamableHttpServerParams(url=url)) as workbench:
        (tool,) = await workbench.list_tools()
        result = await workbench.call_tool("plain", {"task": "quiet"})
    assert tool.get("description", "").startswith("Answers with the task in capitals. Give it a task")
    assert result.to_text() == "QUIET"


class _Result:
    def __init__(self, messages: list[BaseChatMessage], stop_reason: str | None) -> None:
        self.messages = messages
        self.stop_reason = stop_reason


async def test_names_and_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match="got int"):
        AgentMcpServer(3)
    with pytest.raises(ValueError, match="not a valid MCP tool name"):
        AgentMcpServer(AssistantAgent("a", model_client=replay("x")), tool_name="two words")
    named = agent_mcp_server(AssistantAgent("a", model_client=replay("x")), name="srv", tool_name="ask")
    assert named.name == "srv"
    assert [tool.name for tool in await named.list_tools()] == ["ask"]


# -- the round trip: an agent calls a served team through MCP ---------------------------------------------


async def test_assistant_agent_calls_a_served_team_through_mcp(tmp_path: Path) -> None:
    config = write_config(tmp_path / "team.yaml", writer=["Moss on old stone."], critic=["APPROVE"])
    model = replay(
        CreateResult(
            finish_reason="function_calls",
            content=[FunctionCall(id="call-1", name="poets", arguments='{"task": "A haiku about moss."}')],
            usage=RequestUsage(prompt_tokens=5, completion_tokens=5),
            cached=False,
        ),
        "The poets' team approved its poem.",
    )
    async with McpWorkbench(serve_params(config)) as workbench:
        agent = AssistantAgent("editor", model_client=model, workbench=workbench, reflect_on_tool_use=True)
        result = await agent.run(task="Get me a haiku about moss.")

    (execution,) = [message for message in result.messages if isinstance(message, ToolCallExecutionEvent)]
    (call_result,) = execution.content
    assert call_result.name == "poets"
    assert not call_result.is_error
    assert call_result.content == "APPROVE"
    assert result.messages[-1].to_text() == "The poets' team approved its poem."
    (tool,) = model.create_calls[0]["tools"]
    assert tool["name"] == "poets"
