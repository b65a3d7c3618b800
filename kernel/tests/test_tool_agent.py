"""ToolAgent and tool_agent_caller_loop on the in-process runtime."""

from __future__ import annotations

import asyncio
import json
import pickle
from collections.abc import AsyncIterator

import pytest

from salon import AgentId, CancellationToken, FunctionCall, SingleThreadedAgentRuntime
from salon.models import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    ReplayChatCompletionClient,
    RequestUsage,
    UserMessage,
)
from salon.tool_agent import (
    InvalidToolArgumentsException,
    ToolAgent,
    ToolException,
    ToolExecutionException,
    ToolNotFoundException,
    tool_agent_caller_loop,
)
from salon.tools import FunctionTool

started = asyncio.Event()


async def add(a: int, b: int) -> int:
    return a + b


def explode(reason: str) -> str:
    raise RuntimeError(f"exploded: {reason}")


async def wait_forever() -> str:
    started.set()
    await asyncio.sleep(3600)
    return "never"


TOOLS = [
    FunctionTool(add, description="Add two numbers."),
    FunctionTool(explode, description="Always fails."),
    FunctionTool(wait_forever, description="Never returns."),
]
TOOL_AGENT = AgentId("tools", "default")


@pytest.fixture
async def runtime() -> AsyncIterator[SingleThreadedAgentRuntime]:
    rt = SingleThreadedAgentRuntime()
    await ToolAgent.register(rt, "tools", lambda: ToolAgent("runs tools", TOOLS))
    rt.start()
    yield rt
    await rt.stop()


def call(name: str, arguments: object, call_id: str = "c1") -> FunctionCall:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return FunctionCall(id=call_id, arguments=text, name=name)


async def test_a_call_returns_the_tool_output_as_text(runtime: SingleThreadedAgentRuntime) -> None:
    result = await runtime.send_message(call("add", {"a": 2, "b": 3}), TOOL_AGENT)
    assert result == FunctionExecutionResult(content="5", name="add", call_id="c1", is_error=False)


@pytest.mark.parametrize(
    ("message", "error", "text"),
    [
        (
            call("nope", {}),
            ToolNotFoundException,
            "Error: Tool not found: nope (available: add, explode, wait_forever)",
        ),
        (call("add", "{not json"), InvalidToolArgumentsException, "Error: Invalid arguments: {not json"),
        (call("add", [1, 2]), InvalidToolArgumentsException, "expected a JSON object"),
        (call("add", {"a": "two", "b": 3}), InvalidToolArgumentsException, "argument 'a'"),
        (call("explode", {"reason": "boom"}), ToolExecutionException, "Error: exploded: boom"),
    ],
)
async def test_failures_reach_the_caller_as_tool_exceptions(
    runtime: SingleThreadedAgentRuntime, message: FunctionCall, error: type[ToolException], text: str
) -> None:
    with pytest.raises(error) as info:
        await runtime.send_message(message, TOOL_AGENT)
    assert info.value.call_id == "c1" and info.value.name == message.name
    assert text in info.value.content
    assert str(info.value) == info.value.content  # AutoGen's str() is empty


def test_tool_exceptions_pickle_and_stay_hashable() -> None:
    error = ToolExecutionException(call_id="c", content="Error: x", name="t")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ToolExecutionException
    assert (copy.call_id, copy.content, copy.name) == ("c", "Error: x", "t")
    assert {error: 1}[error] == 1
    assert not isinstance(error, Exception)  # a BaseException, as in AutoGen


async def test_cancelling_the_sender_cancels_the_tool(runtime: SingleThreadedAgentRuntime) -> None:
    started.clear()
    token = CancellationToken()
    pending = asyncio.ensure_future(
        runtime.send_message(call("wait_forever", {}), TOOL_AGENT, cancellation_token=token)
    )
    await asyncio.wait_for(started.wait(), 5)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(pending, 5)


def tool_calls(*calls: FunctionCall) -> CreateResult:
    return CreateResult(finish_reason="function_calls", content=list(calls), usage=RequestUsage(1, 1), cached=False)


async def test_the_caller_loop_runs_tools_until_the_model_answers(runtime: SingleThreadedAgentRuntime) -> None:
    model = ReplayChatCompletionClient(
        [
            tool_calls(call("add", {"a": 1, "b": 2}, "c1"), call("nope", {}, "c2")),
            tool_calls(call("explode", {"reason": "x"}, "c3")),
            "All done.",
        ]
    )
    question: list[LLMMessage] = [UserMessage(content="Add 1 and 2.", source="user")]
    produced = await tool_agent_caller_loop(runtime, TOOL_AGENT, model, question, TOOLS, caller_source="calc")
    assert [type(m) for m in produced] == [
        AssistantMessage,
        FunctionExecutionResultMessage,
        AssistantMessage,
        FunctionExecutionResultMessage,
        AssistantMessage,
    ]
    first_results = produced[1]
    assert isinstance(first_results, FunctionExecutionResultMessage)
    assert [(r.call_id, r.is_error) for r in first_results.content] == [("c1", False), ("c2", True)]
    assert first_results.content[0].content == "3"
    assert first_results.content[1].content.startswith("Error: Tool not found: nope")  # not "Error: Error: ..."
    final = produced[-1]
    assert isinstance(final, AssistantMessage) and final.content == "All done." and final.source == "calc"
    assert question == [UserMessage(content="Add 1 and 2.", source="user")]
    # the model saw the whole conversation each time, and the tools' schemas
    last_call = model.create_calls[-1]
    assert len(last_call["messages"]) == 1 + 4
    assert [tool.name for tool in last_call["tools"]] == ["add", "explode", "wait_forever"]


async def test_the_loop_returns_at_once_when_the_model_calls_no_tool(runtime: SingleThreadedAgentRuntime) -> None:
    model = ReplayChatCompletionClient(["Just text."])
    produced = await tool_agent_caller_loop(
        runtime, TOOL_AGENT, model, [UserMessage(content="hi", source="user")], [tool.schema for tool in TOOLS]
    )
    assert produced == [AssistantMessage(content="Just text.", source="assistant")]


async def test_unexpected_errors_end_the_loop(runtime: SingleThreadedAgentRuntime) -> None:
    model = ReplayChatCompletionClient([tool_calls(call("add", {"a": 1, "b": 1}))])
    missing = AgentId("no_such_type", "default")
    with pytest.raises(LookupError):
        await tool_agent_caller_loop(runtime, missing, model, [UserMessage(content="hi", source="user")], TOOLS)
