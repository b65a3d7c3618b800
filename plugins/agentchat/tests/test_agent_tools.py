"""AgentTool and TeamTool: agents and teams that another agent's model calls as tools."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

import pytest

from salon import CancellationToken, FunctionCall
from salon.models import (
    CreateResult,
    ModelFamily,
    ModelInfo,
    ReplayChatCompletionClient,
    RequestUsage,
)
from salon_agentchat.agents import AssistantAgent, BaseChatAgent
from salon_agentchat.base import Response, TaskResult, Team
from salon_agentchat.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    TextMessage,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    ToolCallSummaryMessage,
)
from salon_agentchat.tools import AgentTool, TaskRunnerTool, TeamTool


def info() -> ModelInfo:
    return ModelInfo(
        vision=False, function_calling=True, json_output=True, family=ModelFamily.UNKNOWN, structured_output=True
    )


def call(name: str, task: str, call_id: str = "1") -> FunctionCall:
    return FunctionCall(id=call_id, name=name, arguments=json.dumps({"task": task}))


def calls(*function_calls: FunctionCall) -> CreateResult:
    return CreateResult(
        finish_reason="function_calls",
        content=list(function_calls),
        usage=RequestUsage(prompt_tokens=0, completion_tokens=0),
        cached=False,
    )


def query() -> str:
    """Return the fact."""
    return "The fact."


class EchoAgent(BaseChatAgent):
    """Repeats the last message it was given (or its name when given nothing)."""

    def __init__(self, name: str) -> None:
        super().__init__(name, description=f"Echoes, named {name}.")
        self.last: str | None = None

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return [TextMessage]

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        if messages:
            self.last = messages[-1].to_text()
        return Response(chat_message=TextMessage(content=self.last or self.name, source=self.name))

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        self.last = None


async def test_agent_tool_is_named_and_described_like_its_agent() -> None:
    agent = AssistantAgent("writer", model_client=ReplayChatCompletionClient([]), description="Writes poems.")
    tool = AgentTool(agent)
    assert (tool.name, tool.description) == ("writer", "Writes poems.")
    assert tool.agent is agent
    assert isinstance(tool, TaskRunnerTool)
    schema = tool.schema
    assert schema["parameters"]["required"] == ["task"]
    assert schema.get("strict") is True


async def test_agent_tool_runs_the_task() -> None:
    tool = AgentTool(EchoAgent("echo"))
    result = await tool.run_json({"task": "hello"}, CancellationToken())
    assert isinstance(result, TaskResult)
    assert [m.to_text() for m in result.messages] == ["hello", "hello"]
    assert tool.return_value_as_string(result) == "echo: hello"


async def test_assistant_agent_inside_another_assistant_agent() -> None:
    inner_model = ReplayChatCompletionClient(
        [calls(FunctionCall(id="q", name="query", arguments="{}")), "Inner summary."], model_info=info()
    )
    inner = AssistantAgent("researcher", model_client=inner_model, tools=[query], reflect_on_tool_use=True)
    outer_model = ReplayChatCompletionClient(
        [calls(call("researcher", "Find the fact.")), "Outer answer."], model_info=info()
    )
    outer = AssistantAgent("boss", model_client=outer_model, tools=[AgentTool(inner)], reflect_on_tool_use=True)

    result = await outer.run(task="What is the fact?")

    kinds = [(type(m).__name__, m.source) for m in result.messages]
    assert kinds == [
        ("TextMessage", "user"),
        ("ToolCallRequestEvent", "boss"),
        ("TextMessage", "user"),  # the inner run's task, streamed through the outer agent
        ("ToolCallRequestEvent", "researcher"),
        ("ToolCallExecutionEvent", "researcher"),
        ("TextMessage", "researcher"),
        ("ToolCallExecutionEvent", "boss"),
        ("TextMessage", "boss"),
    ]
    assert result.messages[2].to_text() == "Find the fact."
    execution = result.messages[6]
    assert isinstance(execution, ToolCallExecutionEvent)
    assert execution.content[0].content == "researcher: Inner summary."
    assert result.messages[-1].to_text() == "Outer answer."
    # The inner agent got the task as a user message, and the outer model saw the tool's text result.
    assert inner_model.create_calls[0]["messages"][-1].content == "Find the fact."
    assert outer_model.create_calls[1]["messages"][-1].content[0].content == "researcher: Inner summary."


async def test_agent_tool_with_last_message_only() -> None:
    inner = AssistantAgent("helper", model_client=ReplayChatCompletionClient(["Just this."]))
    outer_model = ReplayChatCompletionClient([calls(call("helper", "Help."))], model_info=info())
    tool = AgentTool(inner, return_value_as_last_message=True)
    result = await AssistantAgent("boss", model_client=outer_model, tools=[tool]).run(task="go")
    summary = result.messages[-1]
    assert isinstance(summary, ToolCallSummaryMessage)
    assert summary.content == "Just this."


async def test_agent_tool_continues_the_inner_conversation_and_keeps_its_state() -> None:
    inner_model = ReplayChatCompletionClient(["one", "two"])
    inner = AssistantAgent("helper", model_client=inner_model, system_message=None)
    tool = AgentTool(inner, return_value_as_last_message=True)
    await tool.run_json({"task": "first"}, CancellationToken())
    second = await tool.run_json({"task": "second"}, CancellationToken())
    assert tool.return_value_as_string(second) == "two"
    assert [m.content for m in inner_model.create_calls[1]["messages"]] == ["first", "one", "second"]

    state = await tool.save_state_json()
    copy = AgentTool(AssistantAgent("helper", model_client=ReplayChatCompletionClient([])))
    await copy.load_state_json(state)
    assert await copy.save_state_json() == state


async def test_last_message_mode_needs_a_chat_message_at_the_end() -> None:
    tool = AgentTool(EchoAgent("echo"), return_value_as_last_message=True)
    with pytest.raises(ValueError, match="return_value_as_last_message=False"):
        tool.return_value_as_string(TaskResult(messages=[]))


async def test_two_agent_tools_called_in_parallel_stream_into_the_outer_agent() -> None:
    first = AssistantAgent("first", model_client=ReplayChatCompletionClient(["from first"]))
    second = AssistantAgent("second", model_client=ReplayChatCompletionClient(["from second"]))
    outer_model = ReplayChatCompletionClient(
        [calls(call("first", "a", "1"), call("second", "b", "2"))], model_info=info()
    )
    outer = AssistantAgent("boss", model_client=outer_model, tools=[AgentTool(first), AgentTool(second)])
    result = await outer.run(task="go")
    inner_answers = {m.to_text() for m in result.messages[2:-2] if isinstance(m, TextMessage) and m.source != "user"}
    assert inner_answers == {"from first", "from second"}
    assert result.messages[-1].to_text() == "first: from first\nsecond: from second"


async def test_a_failing_inner_agent_becomes_an_error_result() -> None:
    inner = AssistantAgent("helper", model_client=ReplayChatCompletionClient([]))  # no scripted answers left
    outer_model = ReplayChatCompletionClient([calls(call("helper", "Help."))], model_info=info())
    result = await AssistantAgent("boss", model_client=outer_model, tools=[AgentTool(inner)]).run(task="go")
    execution = result.messages[-2]
    assert isinstance(execution, ToolCallExecutionEvent)
    assert execution.content[0].is_error
    assert "No more mock responses" in execution.content[0].content


async def test_cancelling_the_outer_turn_cancels_the_inner_agent() -> None:
    started = asyncio.Event()

    async def stall() -> str:
        """Wait for ever."""
        started.set()
        await asyncio.Event().wait()
        return "never"

    inner_model = ReplayChatCompletionClient(
        [calls(FunctionCall(id="s", name="stall", arguments="{}"))], model_info=info()
    )
    inner = AssistantAgent("helper", model_client=inner_model, tools=[stall])
    outer_model = ReplayChatCompletionClient([calls(call("helper", "Help."))], model_info=info())
    outer = AssistantAgent("boss", model_client=outer_model, tools=[AgentTool(inner)])
    token = CancellationToken()
    turn = asyncio.ensure_future(outer.on_messages([TextMessage(content="go", source="user")], token))
    await started.wait()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await turn


class TakeTurnsTeam(Team):
    """A minimal team: each member answers once, in order, seeing everything said before it."""

    def __init__(self, members: Sequence[BaseChatAgent]) -> None:
        self._members = list(members)
        self.runs = 0

    @property
    def name(self) -> str:
        return "take_turns"

    @property
    def description(self) -> str:
        return "Members answer in turn."

    async def run(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> TaskResult:
        result: TaskResult | None = None
        async for item in self.run_stream(task=task, cancellation_token=cancellation_token):
            if isinstance(item, TaskResult):
                result = item
        assert result is not None
        return result

    async def run_stream(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | TaskResult, None]:
        self.runs += 1
        assert isinstance(task, str)
        thread: list[BaseChatMessage] = [TextMessage(content=task, source="user")]
        yield thread[0]
        for member in self._members:
            response = await member.on_messages(thread[-1:], cancellation_token or CancellationToken())
            thread.append(response.chat_message)
            yield response.chat_message
        yield TaskResult(messages=thread, stop_reason="every member answered")

    async def reset(self) -> None:
        self.runs = 0

    async def pause(self) -> None:
        pass

    async def resume(self) -> None:
        pass

    async def save_state(self) -> Mapping[str, Any]:
        return {"runs": self.runs}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.runs = state["runs"]


async def test_team_tool_streams_the_team_run_into_the_calling_agent() -> None:
    team = TakeTurnsTeam([EchoAgent("first"), EchoAgent("second")])
    tool = TeamTool(team, name="echo_team", description="Two echoes.", return_value_as_last_message=True)
    assert (tool.name, tool.description, tool.team) == ("echo_team", "Two echoes.", team)

    outer_model = ReplayChatCompletionClient([calls(call("echo_team", "ping"))], model_info=info())
    outer = AssistantAgent("boss", model_client=outer_model, tools=[tool])
    result = await outer.run(task="go")

    assert isinstance(result.messages[1], ToolCallRequestEvent)
    streamed = [(m.source, m.to_text()) for m in result.messages[2:-2]]
    assert streamed == [("user", "ping"), ("first", "ping"), ("second", "ping")]
    assert result.messages[-1].to_text() == "ping"


async def test_team_tool_result_text_and_state() -> None:
    team = TakeTurnsTeam([EchoAgent("first"), EchoAgent("second")])
    tool = TeamTool(team, name="echo_team", description="Two echoes.")
    result = await tool.run_json({"task": "hello"}, CancellationToken())
    assert tool.return_value_as_string(result) == "first: hello\n\nsecond: hello"

    state = await tool.save_state_json()
    other = TeamTool(TakeTurnsTeam([]), name="echo_team", description="Two echoes.")
    await other.load_state_json(state)
    assert await other.save_state_json() == state == {"runs": 1}
