"""StaticWorkbench and StaticStreamWorkbench: the conformance suite, overrides, error texts, state, streaming."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Sequence

import pytest
from pydantic import BaseModel

from salon import TRACE_LOGGER_NAME, CancellationToken
from salon.testing import CONFORMANCE_TOOL_NAMES, WorkbenchConformanceSuite, conformance_tools
from salon.tools import (
    BaseStreamTool,
    BaseToolWithState,
    FunctionTool,
    StaticStreamWorkbench,
    StaticWorkbench,
    Tool,
    ToolOverride,
    ToolResult,
    Workbench,
)


class TestStaticWorkbench(WorkbenchConformanceSuite):
    async def make_workbench(self, tools: Sequence[Tool]) -> Workbench:
        return StaticWorkbench(tools)


class TestStaticStreamWorkbench(WorkbenchConformanceSuite):
    async def make_workbench(self, tools: Sequence[Tool]) -> Workbench:
        return StaticStreamWorkbench(tools)


def test_suite_is_not_collected_by_itself() -> None:
    assert not WorkbenchConformanceSuite.__name__.startswith("Test")


async def test_make_workbench_must_be_overridden() -> None:
    with pytest.raises(NotImplementedError, match="make_workbench"):
        await WorkbenchConformanceSuite().make_workbench([])


async def test_suite_catches_a_workbench_that_raises_instead_of_returning_errors() -> None:
    class Raising(StaticWorkbench):
        async def call_tool(self, name, arguments=None, cancellation_token=None, call_id=None):  # type: ignore[no-untyped-def]
            result = await super().call_tool(name, arguments, cancellation_token, call_id)
            if result.is_error:
                raise RuntimeError(result.to_text())
            return result

    with pytest.raises(RuntimeError, match="the disk is full"):
        await WorkbenchConformanceSuite().test_tool_exception_is_an_error_result(Raising(conformance_tools()))


# -- overrides -------------------------------------------------------------------------------------------


def _tools() -> list[Tool]:
    def add(a: int, b: int) -> int:
        return a + b

    def shout(text: str) -> str:
        return text.upper()

    return [FunctionTool(add, description="Add."), FunctionTool(shout, description="Shout.")]


async def test_overrides_rename_and_redescribe() -> None:
    tools = _tools()
    workbench = StaticWorkbench(
        tools,
        {"add": ToolOverride(name="plus", description="Add two numbers."), "shout": ToolOverride(description="Loud.")},
    )
    schemas = {schema["name"]: schema for schema in await workbench.list_tools()}
    assert set(schemas) == {"plus", "shout"}
    assert schemas["plus"]["description"] == "Add two numbers."
    assert schemas["plus"]["parameters"] == tools[0].schema["parameters"]
    assert schemas["shout"]["description"] == "Loud."
    assert (tools[0].name, tools[0].schema["description"]) == ("add", "Add.")  # the tool is unchanged
    result = await workbench.call_tool("plus", {"a": 1, "b": 2})
    assert (result.name, result.to_text(), result.is_error) == ("plus", "3", False)
    original = await workbench.call_tool("add", {"a": 1, "b": 2})  # the tool's own name still works
    assert (original.name, original.to_text()) == ("add", "3")


async def test_overrides_may_swap_names() -> None:
    workbench = StaticWorkbench(_tools(), {"add": ToolOverride(name="shout"), "shout": ToolOverride(name="add")})
    assert (await workbench.call_tool("add", {"text": "hi"})).to_text() == "HI"
    assert (await workbench.call_tool("shout", {"a": 1, "b": 1})).to_text() == "2"


def test_override_conflicts_are_refused() -> None:
    with pytest.raises(ValueError, match="Tools 'add' and 'shout' would both be shown as 'shout'"):
        StaticWorkbench(_tools(), {"add": ToolOverride(name="shout")})
    with pytest.raises(ValueError, match="Tools 'add' and 'shout' would both be shown as 'x'"):
        StaticWorkbench(_tools(), {"add": ToolOverride(name="x"), "shout": ToolOverride(name="x")})
    with pytest.raises(ValueError, match="tool_overrides names tools that are not in the workbench: 'missing'"):
        StaticWorkbench(_tools(), {"missing": ToolOverride(name="x")})
    with pytest.raises(ValueError, match="empty name"):
        StaticWorkbench(_tools(), {"add": ToolOverride(name="")})


def test_duplicate_tool_names_are_refused() -> None:
    with pytest.raises(ValueError, match="Two tools are named 'add'"):
        StaticWorkbench([*_tools(), _tools()[0]])


# -- error texts -----------------------------------------------------------------------------------------


async def test_error_texts_say_what_was_wrong() -> None:
    workbench = StaticWorkbench(conformance_tools())
    failed = await workbench.call_tool("fail", {"reason": "the disk is full"})
    assert failed.to_text() == "ConformanceToolError: the disk is full"
    invalid = await workbench.call_tool("add", {"augend": "many"})
    assert invalid.to_text() == (
        "Invalid arguments for tool 'add':\n"
        "  - argument 'augend': Input should be a valid integer, unable to parse string as an integer "
        "(got 'many' of type str)\n"
        "  - argument 'addend': is required but missing"
    )
    unknown = await workbench.call_tool("nope")
    assert unknown.to_text() == f"Tool 'nope' not found. Available tools: {', '.join(CONFORMANCE_TOOL_NAMES)}."


async def test_exception_groups_notes_and_empty_messages_are_kept() -> None:
    def group() -> str:
        raise ExceptionGroup("several", [KeyError("city"), ValueError("bad date")])

    def noted() -> str:
        error = RuntimeError("failed")
        error.add_note("while fetching the forecast")
        raise error

    def bare() -> str:
        raise TimeoutError

    workbench = StaticWorkbench([FunctionTool(f, description="x") for f in (group, noted, bare)])
    assert (await workbench.call_tool("group")).to_text() == "KeyError: 'city'\nValueError: bad date"
    assert (await workbench.call_tool("noted")).to_text() == "RuntimeError: failed\nwhile fetching the forecast"
    assert (await workbench.call_tool("bare")).to_text() == "TimeoutError"


async def test_failures_are_logged_with_their_traceback(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=TRACE_LOGGER_NAME):
        await StaticWorkbench(conformance_tools()).call_tool("fail", {"reason": "boom"})
    records = [
        record
        for record in caplog.records
        if record.name == TRACE_LOGGER_NAME and "'fail' failed" in record.getMessage()
    ]
    assert len(records) == 1 and records[0].exc_info is not None


# -- state -----------------------------------------------------------------------------------------------


class Counter(BaseModel):
    count: int = 0


class Step(BaseModel):
    step: int = 1


class CountingTool(BaseToolWithState[Step, Counter, Counter]):
    def __init__(self) -> None:
        super().__init__(Step, Counter, Counter, "count", "Count.")
        self.state = Counter()

    async def run(self, args: Step, cancellation_token: CancellationToken) -> Counter:
        self.state = Counter(count=self.state.count + args.step)
        return self.state

    def save_state(self) -> Counter:
        return self.state

    def load_state(self, state: Counter) -> None:
        self.state = state


async def test_state_round_trips_per_tool() -> None:
    workbench = StaticWorkbench([CountingTool(), *_tools()])
    await workbench.call_tool("count", {"step": 5})
    state = await workbench.save_state()
    assert state == {"type": "StaticWorkbenchState", "tools": {"count": {"count": 5}, "add": {}, "shout": {}}}
    fresh_tool = CountingTool()
    await StaticWorkbench([fresh_tool]).load_state(state)
    assert fresh_tool.state.count == 5


async def test_bad_state_is_refused() -> None:
    with pytest.raises(ValueError, match="Not a StaticWorkbench state"):
        await StaticWorkbench(_tools()).load_state({"tools": "nothing"})


# -- streaming -------------------------------------------------------------------------------------------


class Progress(BaseModel):
    percent: int


class Done(BaseModel):
    steps: int


class Steps(BaseModel):
    steps: int
    fail_after: int = -1
    hang: bool = False


class Stepper(BaseStreamTool[Steps, Progress, Done]):
    def __init__(self) -> None:
        super().__init__(Steps, Done, "stepper", "Report progress.")
        self.closed = False

    async def run_stream(
        self, args: Steps, cancellation_token: CancellationToken
    ) -> AsyncGenerator[Progress | Done, None]:
        try:
            for i in range(args.steps):
                if i == args.fail_after:
                    raise RuntimeError(f"step {i} broke")
                yield Progress(percent=i)
            if args.hang:
                await asyncio.sleep(60)
            yield Done(steps=args.steps)
        finally:
            self.closed = True


async def test_stream_yields_progress_then_a_result() -> None:
    workbench = StaticStreamWorkbench([Stepper()], {"stepper": ToolOverride(name="progress")})
    items = [item async for item in workbench.call_tool_stream("progress", {"steps": 2})]
    assert items[:2] == [Progress(percent=0), Progress(percent=1)]
    assert items[2] == ToolResult.model_validate(
        {"name": "progress", "result": [{"type": "TextResultContent", "content": '{"steps": 2}'}]}
    )


async def test_stream_failure_keeps_the_progress_then_gives_an_error() -> None:
    workbench = StaticStreamWorkbench([Stepper()])
    items = [item async for item in workbench.call_tool_stream("stepper", {"steps": 3, "fail_after": 2})]
    assert items[:2] == [Progress(percent=0), Progress(percent=1)]
    assert isinstance(items[2], ToolResult) and items[2].is_error
    assert items[2].to_text() == "RuntimeError: step 2 broke"


async def test_stream_of_plain_tool_and_unknown_tool() -> None:
    workbench = StaticStreamWorkbench(_tools())
    assert [item.to_text() async for item in workbench.call_tool_stream("add", {"a": 2, "b": 2})] == ["4"]
    [unknown] = [item async for item in workbench.call_tool_stream("nope")]
    assert unknown.is_error and "'nope' not found" in unknown.to_text()
    [invalid] = [item async for item in StaticStreamWorkbench([Stepper()]).call_tool_stream("stepper", {})]
    assert invalid.is_error and "argument 'steps'" in invalid.to_text()


async def test_cancelling_a_stuck_stream() -> None:
    tool = Stepper()
    workbench = StaticStreamWorkbench([tool])
    token = CancellationToken()
    seen: list[object] = []

    async def consume() -> None:
        async for item in workbench.call_tool_stream("stepper", {"steps": 1, "hang": True}, token):
            seen.append(item)

    consumer = asyncio.ensure_future(consume())
    await asyncio.sleep(0.05)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(consumer, 5)
    assert tool.closed
