"""BaseTool, its stateful and streaming variants, ToolResult, and import isolation of the tool packages."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, model_serializer

from salon import CancellationToken
from salon.tools import (
    BaseStreamTool,
    BaseTool,
    BaseToolWithState,
    ImageResultContent,
    StreamTool,
    TextResultContent,
    Tool,
    ToolArgumentsError,
    ToolOverride,
    ToolResult,
)


class AddArgs(BaseModel):
    a: int
    b: int = 0


class Sum(BaseModel):
    total: int


class AddTool(BaseTool[AddArgs, Sum]):
    def __init__(self, strict: bool = False) -> None:
        super().__init__(AddArgs, Sum, "add", "Add numbers.", strict=strict)

    async def run(self, args: AddArgs, cancellation_token: CancellationToken) -> Sum:
        return Sum(total=args.a + args.b)


class LooseArgs(BaseModel):
    model_config = ConfigDict(extra="allow")
    a: int


class LooseTool(BaseTool[LooseArgs, Sum]):
    def __init__(self, strict: bool = False) -> None:
        super().__init__(LooseArgs, Sum, "loose", "Loose.", strict=strict)

    async def run(self, args: LooseArgs, cancellation_token: CancellationToken) -> Sum:
        return Sum(total=args.a + len(args.model_extra or {}))


async def test_base_tool_validates_and_runs() -> None:
    tool = AddTool()
    result = await tool.run_json({"a": 2, "b": 3}, CancellationToken())
    assert result == Sum(total=5)
    assert tool.return_value_as_string(result) == '{"total": 5}'
    assert isinstance(tool, Tool) and not isinstance(tool, StreamTool)
    assert await tool.save_state_json() == {}
    await tool.load_state_json({"ignored": True})


async def test_base_tool_invalid_arguments_name_the_tool_and_argument() -> None:
    with pytest.raises(ToolArgumentsError, match=r"(?s)tool 'add'.*argument 'a': Input should be a valid integer"):
        await AddTool().run_json({"a": "two"}, CancellationToken())


async def test_arguments_that_are_not_an_object_are_explained() -> None:
    with pytest.raises(ToolArgumentsError, match="must be a JSON object of named arguments; got"):
        await AddTool().run_json([1, 2], CancellationToken())  # type: ignore[arg-type]


async def test_a_model_that_allows_extras_keeps_its_own_rules() -> None:
    tool = LooseTool()
    assert (await tool.run_json({"a": 1, "x": 1, "y": 2}, CancellationToken())).total == 3
    assert tool.schema["parameters"]["additionalProperties"] is True


def test_strict_base_tool_checks_at_construction() -> None:
    with pytest.raises(ValueError, match=r"'add' is strict, but these arguments are optional: b"):
        AddTool(strict=True)
    with pytest.raises(ValueError, match=r"'loose' is strict, but its arguments model accepts extra arguments"):
        LooseTool(strict=True)


def test_return_value_as_string() -> None:
    class Output(BaseModel):
        text: str

        @model_serializer
        def _ser(self) -> str:
            return self.text

    tool = AddTool()
    assert tool.return_value_as_string(Output(text="plain")) == "plain"
    assert tool.return_value_as_string([1, 2]) == "[1, 2]"
    assert tool.return_value_as_string({"a": 1}) == "{'a': 1}"  # str(), as in AutoGen


class Counter(BaseModel):
    count: int = 0


class CountArgs(BaseModel):
    step: int = 1


class CountingTool(BaseToolWithState[CountArgs, Counter, Counter]):
    def __init__(self) -> None:
        super().__init__(CountArgs, Counter, Counter, "count", "Count calls.")
        self.state = Counter()

    async def run(self, args: CountArgs, cancellation_token: CancellationToken) -> Counter:
        self.state.count += args.step
        return self.state

    def save_state(self) -> Counter:
        return self.state.model_copy()

    def load_state(self, state: Counter) -> None:
        self.state = state


async def test_stateful_tool_saves_and_loads_json() -> None:
    tool = CountingTool()
    await tool.run_json({"step": 2}, CancellationToken())
    saved = await tool.save_state_json()
    assert json.loads(json.dumps(saved)) == {"count": 2}
    other = CountingTool()
    await other.load_state_json(saved)
    assert other.state.count == 2 and other.state_type() is Counter
    with pytest.raises(ValueError, match="count"):
        await other.load_state_json({"count": "many"})


class Progress(BaseModel):
    percent: int


class Done(BaseModel):
    steps: int


class StepArgs(BaseModel):
    steps: int


class Stepper(BaseStreamTool[StepArgs, Progress, Done]):
    def __init__(self, final: Any = "done") -> None:
        super().__init__(StepArgs, Done, "stepper", "Report progress.")
        self.final = final

    async def run_stream(
        self, args: StepArgs, cancellation_token: CancellationToken
    ) -> AsyncGenerator[Progress | Done, None]:
        for i in range(args.steps):
            yield Progress(percent=100 * (i + 1) // args.steps)
        if self.final == "done":
            yield Done(steps=args.steps)
        elif self.final is not None:
            yield self.final


async def test_stream_tool_streams_then_gives_its_result() -> None:
    tool = Stepper()
    assert isinstance(tool, StreamTool)
    items = [item async for item in tool.run_json_stream({"steps": 2}, CancellationToken())]
    assert items == [Progress(percent=50), Progress(percent=100), Done(steps=2)]
    assert await tool.run_json({"steps": 3}, CancellationToken()) == Done(steps=3)


async def test_stream_tool_must_end_with_its_result() -> None:
    with pytest.raises(TypeError, match=r"must yield its result \(Done\) last, but its last value was a Progress"):
        _ = [item async for item in Stepper(final=None).run_json_stream({"steps": 1}, CancellationToken())]
    with pytest.raises(RuntimeError, match="ended without yielding its result"):
        await Stepper(final=None).run_json({"steps": 0}, CancellationToken())


async def test_stream_tool_validates_arguments() -> None:
    with pytest.raises(ToolArgumentsError, match="argument 'steps'"):
        _ = [item async for item in Stepper().run_json_stream({}, CancellationToken())]


# -- results ---------------------------------------------------------------------------------------------


class FakeImage:
    def to_base64(self) -> str:
        return "aGk="


def test_tool_result_to_text() -> None:
    result = ToolResult(
        name="shot", result=[TextResultContent(content="see:"), ImageResultContent(content=FakeImage())]
    )
    assert result.to_text() == "see:\n[Image: aGk=]"
    assert result.to_text(replace_image="<image>") == "see:\n<image>"
    assert result.is_error is False and result.type == "ToolResult"


def test_tool_result_json_round_trip_keeps_content_kinds() -> None:
    result = ToolResult(
        name="t", result=[TextResultContent(content="a"), TextResultContent(content="b")], is_error=True
    )
    loaded = ToolResult.model_validate_json(result.model_dump_json())
    assert loaded == result and all(isinstance(part, TextResultContent) for part in loaded.result)


def test_tool_override_defaults() -> None:
    assert ToolOverride().model_dump() == {"name": None, "description": None}


# -- import isolation ------------------------------------------------------------------------------------


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(output.split())


def test_import_salon_imports_neither_tools_nor_code_executor() -> None:
    modules = _modules_after("import salon")
    assert {"salon.tools", "salon.code_executor", "pydantic"}.isdisjoint(modules)


def test_code_executor_package_does_not_need_pydantic() -> None:
    modules = _modules_after("import salon.code_executor")
    assert "salon.code_executor" in modules and "pydantic" not in modules and "salon.tools" not in modules
