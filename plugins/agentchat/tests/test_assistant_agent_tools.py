"""AssistantAgent with tools: concurrent calls, errors, summaries, the tool loop, reflection, workbenches."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import pytest
from pydantic import BaseModel

from salon import CancellationToken, FunctionCall
from salon.models import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    ModelFamily,
    ModelInfo,
    ReplayChatCompletionClient,
    RequestUsage,
    UserMessage,
)
from salon.tools import BaseStreamTool, FunctionTool, StaticWorkbench, ToolResult, ToolSchema, Workbench
from salon_agentchat.agents import AssistantAgent
from salon_agentchat.messages import (
    TextMessage,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    ToolCallSummaryMessage,
)

USAGE = RequestUsage(prompt_tokens=5, completion_tokens=2)


def info() -> ModelInfo:
    return ModelInfo(
        vision=False, function_calling=True, json_output=True, family=ModelFamily.UNKNOWN, structured_output=True
    )


def calls(*specs: tuple[str, dict[str, Any]] | FunctionCall, thought: str | None = None) -> CreateResult:
    content = [
        spec
        if isinstance(spec, FunctionCall)
        else FunctionCall(id=f"c{i}", name=spec[0], arguments=json.dumps(spec[1]))
        for i, spec in enumerate(specs)
    ]
    return CreateResult(finish_reason="function_calls", content=content, usage=USAGE, cached=False, thought=thought)


def client(*responses: str | CreateResult) -> ReplayChatCompletionClient:
    return ReplayChatCompletionClient(list(responses), model_info=info())


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


async def shout(text: str) -> str:
    """Upper-case the text."""
    return text.upper()


def broken(text: str) -> str:
    """Always fails."""
    raise RuntimeError(f"cannot handle {text}")


async def test_one_tool_call_ends_the_turn_with_a_summary_by_default() -> None:
    model = client(calls(("add", {"a": 2, "b": 3})))
    agent = AssistantAgent("calc", model_client=model, tools=[add])

    result = await agent.run(task="2+3?")

    assert [type(m) for m in result.messages] == [
        TextMessage,
        ToolCallRequestEvent,
        ToolCallExecutionEvent,
        ToolCallSummaryMessage,
    ]
    request, execution, summary = result.messages[1:]
    assert isinstance(request, ToolCallRequestEvent) and request.models_usage == USAGE
    assert isinstance(execution, ToolCallExecutionEvent)
    assert execution.content == [FunctionExecutionResult(content="5", name="add", call_id="c0", is_error=False)]
    assert isinstance(summary, ToolCallSummaryMessage)
    assert summary.content == "5"
    assert summary.tool_calls == request.content
    assert summary.results == execution.content
    # The tool offered to the model is the FunctionTool's schema.
    assert [t["name"] for t in model.create_calls[0]["tools"]] == ["add"]


async def test_tool_call_and_results_stay_in_the_context_for_the_next_turn() -> None:
    model = client(calls(("add", {"a": 1, "b": 1})), "It is 2.")
    agent = AssistantAgent("calc", model_client=model, tools=[add], system_message=None)
    await agent.run(task="1+1?")
    await agent.run(task="Say it.")
    sent = model.create_calls[1]["messages"]
    assert [type(m) for m in sent] == [UserMessage, AssistantMessage, FunctionExecutionResultMessage, UserMessage]
    assert sent[2].content[0].content == "2"


async def test_parallel_tool_calls_run_concurrently() -> None:
    barrier = asyncio.Barrier(2)

    async def meet(who: str) -> str:
        """Wait until the other call arrives too; a sequential run would time out here."""
        await asyncio.wait_for(barrier.wait(), timeout=5)
        return f"{who} met"

    model = client(calls(("meet", {"who": "left"}), ("meet", {"who": "right"})))
    result = await AssistantAgent("a", model_client=model, tools=[meet]).run(task="go")

    summary = result.messages[-1]
    assert isinstance(summary, ToolCallSummaryMessage)
    assert [r.content for r in summary.results] == ["left met", "right met"]
    assert not any(r.is_error for r in summary.results)
    assert [r.call_id for r in summary.results] == ["c0", "c1"]


async def test_tool_errors_become_error_results_and_the_turn_goes_on() -> None:
    model = client(
        calls(
            ("broken", {"text": "x"}),
            FunctionCall(id="bad", name="add", arguments="{not json"),
            ("add", {"a": 1}),
            ("missing", {}),
            ("add", {"a": 1, "b": 2}),
        )
    )
    agent = AssistantAgent("a", model_client=model, tools=[add, broken])
    result = await agent.run(task="go")
    execution = result.messages[2]
    assert isinstance(execution, ToolCallExecutionEvent)
    failing, bad_json, bad_args, missing, ok = execution.content
    assert failing.is_error and "cannot handle x" in failing.content
    assert bad_json.is_error and "not valid JSON" in bad_json.content
    assert bad_args.is_error and "'b'" in bad_args.content
    assert missing.is_error and missing.content == "Error: tool 'missing' not found in any workbench"
    assert ok == FunctionExecutionResult(content="3", name="add", call_id="c4", is_error=False)


async def test_empty_arguments_mean_no_arguments() -> None:
    def ping() -> str:
        """Answer pong."""
        return "pong"

    model = client(calls(FunctionCall(id="1", name="ping", arguments="")))
    result = await AssistantAgent("a", model_client=model, tools=[ping]).run(task="go")
    assert result.messages[-1].to_text() == "pong"


async def test_summary_format_string_sees_every_field() -> None:
    model = client(calls(("add", {"a": 1, "b": 2}), ("broken", {"text": "y"})))
    agent = AssistantAgent(
        "a",
        model_client=model,
        tools=[add, broken],
        tool_call_summary_format="{tool_name}({arguments}) -> {result} [error={is_error}]",
    )
    result = await agent.run(task="go")
    first, second = result.messages[-1].to_text().split("\n")
    assert first == 'add({"a": 1, "b": 2}) -> 3 [error=False]'
    assert second.startswith('broken({"text": "y"}) -> ') and second.endswith("[error=True]")


async def test_summary_formatter_overrides_the_format_string() -> None:
    def formatter(call: FunctionCall, result: FunctionExecutionResult) -> str:
        return f"{'FAILED' if result.is_error else 'OK'} {call.name}"

    model = client(calls(("add", {"a": 1, "b": 2}), ("broken", {"text": "y"})))
    agent = AssistantAgent(
        "a",
        model_client=model,
        tools=[add, broken],
        tool_call_summary_format="ignored {result}",
        tool_call_summary_formatter=formatter,
    )
    result = await agent.run(task="go")
    assert result.messages[-1].to_text() == "OK add\nFAILED broken"


async def test_tool_loop_runs_until_a_text_answer() -> None:
    model = client(calls(("add", {"a": 1, "b": 1})), calls(("add", {"a": 2, "b": 2})), "Done: 4.")
    agent = AssistantAgent("a", model_client=model, tools=[add], max_tool_iterations=5)
    result = await agent.run(task="go")
    assert len(model.create_calls) == 3
    assert [type(m) for m in result.messages] == [
        TextMessage,
        ToolCallRequestEvent,
        ToolCallExecutionEvent,
        ToolCallRequestEvent,
        ToolCallExecutionEvent,
        TextMessage,
    ]
    assert result.messages[-1].to_text() == "Done: 4."


async def test_tool_loop_stops_at_max_tool_iterations_with_the_last_round_summarised() -> None:
    model = client(*(calls(("add", {"a": i, "b": 0})) for i in range(10)))
    agent = AssistantAgent("a", model_client=model, tools=[add], max_tool_iterations=3)
    result = await agent.run(task="go")
    assert len(model.create_calls) == 3
    assert sum(isinstance(m, ToolCallExecutionEvent) for m in result.messages) == 3
    summary = result.messages[-1]
    assert isinstance(summary, ToolCallSummaryMessage)
    assert summary.content == "2"  # only the last round


async def test_reflect_on_tool_use_asks_the_model_again_without_tools() -> None:
    model = client(calls(("add", {"a": 2, "b": 2})), "The answer is 4.")
    agent = AssistantAgent("a", model_client=model, tools=[add], reflect_on_tool_use=True)
    result = await agent.run(task="2+2?")
    final = result.messages[-1]
    assert isinstance(final, TextMessage) and final.content == "The answer is 4."
    assert len(model.create_calls) == 2
    assert model.create_calls[1]["tools"] == ()
    assert isinstance(model.create_calls[1]["messages"][-1], FunctionExecutionResultMessage)
    # The reflection is remembered.
    messages = await agent.model_context.get_messages()
    assert messages[-1] == AssistantMessage(content="The answer is 4.", source="a")


async def test_reflect_on_tool_use_defaults_on_with_structured_output() -> None:
    class Sum(BaseModel):
        value: int

    model = client(calls(("add", {"a": 2, "b": 2})), '{"value": 4}')
    agent = AssistantAgent("a", model_client=model, tools=[add], output_content_type=Sum)
    result = await agent.run(task="2+2?")
    assert result.messages[-1].content == Sum(value=4)  # type: ignore[union-attr]
    assert model.create_calls[1]["json_output"] is Sum


async def test_reflection_that_answers_with_tool_calls_is_an_error() -> None:
    model = client(calls(("add", {"a": 2, "b": 2})), calls(("add", {"a": 1, "b": 1})))
    agent = AssistantAgent("a", model_client=model, tools=[add], reflect_on_tool_use=True)
    with pytest.raises(RuntimeError, match="Reflect on tool use produced no valid text response"):
        await agent.run(task="go")


async def test_workbench_instead_of_tools() -> None:
    workbench = StaticWorkbench([FunctionTool(add, description="Add.")])
    model = client(calls(("add", {"a": 4, "b": 5})))
    result = await AssistantAgent("a", model_client=model, workbench=workbench).run(task="go")
    assert result.messages[-1].to_text() == "9"


async def test_several_workbenches_each_serve_their_tools() -> None:
    first = StaticWorkbench([FunctionTool(add, description="Add.")])
    second = StaticWorkbench([FunctionTool(shout, description="Shout.")])
    model = client(calls(("add", {"a": 1, "b": 2}), ("shout", {"text": "hi"})))
    agent = AssistantAgent("a", model_client=model, workbench=[first, second])
    result = await agent.run(task="go")
    assert result.messages[-1].to_text() == "3\nHI"
    assert [t["name"] for t in model.create_calls[0]["tools"]] == ["add", "shout"]


async def test_a_workbench_is_listed_before_every_model_call() -> None:
    class GrowingWorkbench(StaticWorkbench):
        """Offers one more tool after the first listing, as a remote server might."""

        listed = 0

        async def list_tools(self) -> list[Any]:
            self.listed += 1
            tools = await super().list_tools()
            return tools if self.listed > 1 else tools[:1]

    workbench = GrowingWorkbench([FunctionTool(add, description="Add."), FunctionTool(shout, description="Shout.")])
    model = client(calls(("add", {"a": 1, "b": 1})), calls(("shout", {"text": "x"})), "done")
    agent = AssistantAgent("a", model_client=model, workbench=workbench, max_tool_iterations=3)
    result = await agent.run(task="go")
    assert [len(c["tools"]) for c in model.create_calls] == [1, 2, 2]
    assert result.messages[4].content[0].content == "X"  # type: ignore[union-attr]


async def test_plain_function_tool_keeps_its_docstring_as_description() -> None:
    model = client("ok")
    await AssistantAgent("a", model_client=model, tools=[add, shout]).run(task="go")
    assert {t["name"]: t["description"] for t in model.create_calls[0]["tools"]} == {
        "add": "Add two integers.",
        "shout": "Upper-case the text.",
    }


async def test_cancelling_the_token_cancels_a_running_tool() -> None:
    started = asyncio.Event()
    finished = False

    async def wait_forever() -> str:
        """Never returns on its own."""
        nonlocal finished
        started.set()
        await asyncio.Event().wait()
        finished = True
        return "unreachable"

    token = CancellationToken()
    model = client(calls(("wait_forever", {})))
    agent = AssistantAgent("a", model_client=model, tools=[wait_forever])
    turn = asyncio.ensure_future(agent.on_messages([TextMessage(content="go", source="u")], token))
    await started.wait()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await turn
    assert not finished


async def test_cancelling_the_token_cancels_parallel_tools() -> None:
    started = asyncio.Semaphore(0)

    async def wait_forever(n: int) -> str:
        """Never returns on its own."""
        started.release()
        await asyncio.Event().wait()
        return "unreachable"

    token = CancellationToken()
    model = client(calls(("wait_forever", {"n": 1}), ("wait_forever", {"n": 2})))
    agent = AssistantAgent("a", model_client=model, tools=[wait_forever])
    turn = asyncio.ensure_future(agent.on_messages([TextMessage(content="go", source="u")], token))
    await started.acquire()
    await started.acquire()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await turn


class Progress(BaseModel):
    step: int


class Count(BaseModel):
    to: int


class Counted(BaseModel):
    total: int


class Counter(BaseStreamTool[Count, Progress, Counted]):
    """A stream tool that reports chat messages and other values on its way."""

    def __init__(self) -> None:
        super().__init__(Count, Counted, "count", "Count up, reporting each step.")

    async def run_stream(self, args: Count, cancellation_token: CancellationToken) -> AsyncGenerator[Any, None]:
        for step in range(1, args.to + 1):
            yield TextMessage(content=f"step {step}", source="counter")
        yield Progress(step=args.to)  # not an AgentChat message: warned about, not shown
        yield Counted(total=args.to)


async def test_stream_tool_messages_are_passed_on_before_the_results() -> None:
    model = client(calls(("count", {"to": 2})))
    agent = AssistantAgent("a", model_client=model, tools=[Counter()])
    with pytest.warns(UserWarning, match="streamed a Progress"):
        items = [
            i async for i in agent.on_messages_stream([TextMessage(content="go", source="u")], CancellationToken())
        ]
    assert [type(i).__name__ for i in items] == [
        "ToolCallRequestEvent",
        "TextMessage",
        "TextMessage",
        "ToolCallExecutionEvent",
        "Response",
    ]
    assert [i.content for i in items[1:3]] == ["step 1", "step 2"]
    assert items[3].content[0].content == '{"total": 2}'
    assert items[-1].inner_messages == items[:-1]


class RaisingWorkbench(Workbench):
    """A broken workbench: it raises instead of returning error results."""

    async def list_tools(self) -> list[ToolSchema]:
        return [ToolSchema(name="explode", description="Raise.", parameters={"type": "object", "properties": {}})]

    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
        call_id: str | None = None,
    ) -> ToolResult:
        raise ConnectionError("server went away")

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def reset(self) -> None: ...

    async def save_state(self) -> Mapping[str, Any]:
        return {}

    async def load_state(self, state: Mapping[str, Any]) -> None: ...


async def test_a_workbench_that_raises_gives_an_error_result() -> None:
    model = client(calls(("explode", {})))
    result = await AssistantAgent("a", model_client=model, workbench=RaisingWorkbench()).run(task="go")
    summary = result.messages[-1]
    assert isinstance(summary, ToolCallSummaryMessage)
    assert summary.results[0].is_error
    assert summary.content == "Error: ConnectionError: server went away"


async def test_arguments_that_are_not_an_object_are_an_error_result() -> None:
    model = client(calls(FunctionCall(id="1", name="add", arguments="[1, 2]")))
    result = await AssistantAgent("a", model_client=model, tools=[add]).run(task="go")
    assert result.messages[-1].to_text() == "Error: the arguments must be a JSON object, got list."
