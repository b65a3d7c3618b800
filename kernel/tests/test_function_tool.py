"""FunctionTool: schemas (as AutoGen makes them), running sync and async functions, cancellation, bad input."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import threading
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from salon import EVENT_LOGGER_NAME, CancellationToken
from salon.logging import ToolCallEvent
from salon.tools import FunctionTool, Tool, ToolArgumentsError

# -- schemas ---------------------------------------------------------------------------------------------


async def get_stock_price(ticker: str, date: Annotated[str, "Date in YYYY/MM/DD"]) -> float:
    return 143.83


def test_seed_stock_price_schema_is_the_one_the_seed_prints() -> None:
    tool = FunctionTool(get_stock_price, description="Get the stock price.")
    assert tool.schema == {
        "name": "get_stock_price",
        "description": "Get the stock price.",
        "parameters": {
            "type": "object",
            "properties": {
                "ticker": {"description": "ticker", "title": "Ticker", "type": "string"},
                "date": {"description": "Date in YYYY/MM/DD", "title": "Date", "type": "string"},
            },
            "required": ["ticker", "date"],
            "additionalProperties": False,
        },
        "strict": False,
    }


def search(
    query: Annotated[str, "What to look for"],
    limit: int = 10,
    exact: bool = False,
    score: float | None = None,
    tags: list[str] | None = None,
    mode: Literal["fast", "deep"] = "fast",
    cancellation_token: CancellationToken | None = None,
) -> list[str]:
    return [query, str(limit), str(exact), str(score), str(tags), mode]


def test_schema_with_defaults_optionals_lists_and_literals_matches_autogen() -> None:
    # The expected value is what autogen-core 0.7.5 gives for the same function.
    assert FunctionTool(search, description="Search.").schema == {
        "name": "search",
        "description": "Search.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"description": "What to look for", "title": "Query", "type": "string"},
                "limit": {"default": 10, "description": "limit", "title": "Limit", "type": "integer"},
                "exact": {"default": False, "description": "exact", "title": "Exact", "type": "boolean"},
                "score": {
                    "anyOf": [{"type": "number"}, {"type": "null"}],
                    "default": None,
                    "description": "score",
                    "title": "Score",
                },
                "tags": {
                    "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}],
                    "default": None,
                    "description": "tags",
                    "title": "Tags",
                },
                "mode": {
                    "default": "fast",
                    "description": "mode",
                    "enum": ["fast", "deep"],
                    "title": "Mode",
                    "type": "string",
                },
            },
            "required": ["query"],
            "additionalProperties": False,
        },
        "strict": False,
    }


def test_no_parameters_matches_autogen() -> None:
    def nothing() -> str:
        return ""

    assert FunctionTool(nothing, description="Nothing.").schema == {
        "name": "nothing",
        "description": "Nothing.",
        "parameters": {"type": "object", "properties": {}, "required": [], "additionalProperties": False},
        "strict": False,
    }


def test_strict_schema_matches_autogen() -> None:
    def strict_fn(a: int, b: Annotated[list[int], "numbers"]) -> int:
        return a

    assert FunctionTool(strict_fn, description="S.", strict=True).schema == {
        "name": "strict_fn",
        "description": "S.",
        "parameters": {
            "type": "object",
            "properties": {
                "a": {"description": "a", "title": "A", "type": "integer"},
                "b": {"description": "numbers", "items": {"type": "integer"}, "title": "B", "type": "array"},
            },
            "required": ["a", "b"],
            "additionalProperties": False,
        },
        "strict": True,
    }


def test_strict_with_defaults_is_refused_when_the_tool_is_made() -> None:
    with pytest.raises(ValueError, match=r"'search' is strict.*optional: limit, exact, score, tags, mode"):
        FunctionTool(search, description="Search.", strict=True)


class Point(BaseModel):
    x: int
    y: int = 0


class Node(BaseModel):
    value: int
    children: list[Node] = []


def test_model_parameter_is_inlined_and_keeps_its_description() -> None:
    def move(to: Annotated[Point, "Where to go"]) -> str:
        return f"{to.x},{to.y}"

    properties = FunctionTool(move, description="Move.").schema["parameters"]["properties"]
    assert properties["to"]["description"] == "Where to go"
    assert properties["to"]["properties"]["x"]["type"] == "integer"
    assert "$ref" not in json.dumps(properties)


def test_recursive_model_keeps_its_definitions() -> None:
    def total(tree: Node) -> int:
        return tree.value + sum(total(child) for child in tree.children)

    tool = FunctionTool(total, description="Sum a tree.")
    parameters: dict[str, Any] = dict(tool.schema["parameters"])
    assert "Node" in parameters["$defs"]
    json.dumps(parameters)  # still plain JSON, no cycles


async def test_recursive_model_arguments_round_trip() -> None:
    def total(tree: Node) -> int:
        return tree.value + sum(total(child) for child in tree.children)

    tool = FunctionTool(total, description="Sum a tree.")
    args = {"tree": {"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}]}}
    assert await tool.run_json(args, CancellationToken()) == 6


def test_pydantic_constraints_in_annotated_are_in_the_schema() -> None:
    def repeat(times: Annotated[int, Field(ge=1, le=5, description="How often")]) -> str:
        return "x" * times

    prop = FunctionTool(repeat, description="Repeat.").schema["parameters"]["properties"]["times"]
    assert (prop["minimum"], prop["maximum"], prop["description"]) == (1, 5, "How often")


async def test_pydantic_constraints_are_enforced() -> None:
    def repeat(times: Annotated[int, "How often", Field(ge=1)]) -> str:
        return "x" * times

    tool = FunctionTool(repeat, description="Repeat.")
    assert tool.schema["parameters"]["properties"]["times"]["description"] == "How often"
    with pytest.raises(ToolArgumentsError, match="times"):
        await tool.run_json({"times": 0}, CancellationToken())


async def test_parameter_named_like_a_model_attribute() -> None:
    def dump(json: str, schema: int = 1) -> str:
        return f"{json}:{schema}"

    tool = FunctionTool(dump, description="Dump.")
    assert list(tool.schema["parameters"]["properties"]) == ["json", "schema"]
    assert tool.schema["parameters"]["properties"]["json"]["title"] == "Json"
    assert await tool.run_json({"json": "a", "schema": 2}, CancellationToken()) == "a:2"
    with pytest.raises(
        ToolArgumentsError, match=r"'json_': is not an argument of this tool \(it takes: json, schema\)"
    ):
        await tool.run_json({"json": "a", "json_": "b"}, CancellationToken())


def test_schema_is_a_fresh_copy() -> None:
    tool = FunctionTool(get_stock_price, description="Get the stock price.")
    tool.schema["parameters"]["properties"].clear()
    assert "ticker" in tool.schema["parameters"]["properties"]


def test_name_types_and_protocol() -> None:
    tool = FunctionTool(search, description="Search.", name="find")
    assert (tool.name, tool.description) == ("find", "Search.")
    assert tool.args_type().__name__ == "findargs"
    assert tool.return_type() == list[str]
    assert tool.state_type() is None
    assert isinstance(tool, Tool)


def test_return_type_without_annotation_is_any_and_annotated_is_unwrapped() -> None:
    def plain(x: int):  # type: ignore[no-untyped-def]
        return x

    def described(x: int) -> Annotated[int, "the same number"]:
        return x

    assert FunctionTool(plain, description="d").return_type() is Any
    assert FunctionTool(described, description="d").return_type() is int


# -- running ---------------------------------------------------------------------------------------------


async def test_run_async_function() -> None:
    tool = FunctionTool(get_stock_price, description="Get the stock price.")
    result = await tool.run_json({"ticker": "AAPL", "date": "2021/01/01"}, CancellationToken())
    assert result == 143.83
    assert tool.return_value_as_string(result) == "143.83"


async def test_defaults_are_applied() -> None:
    tool = FunctionTool(search, description="Search.")
    assert await tool.run_json({"query": "q"}, CancellationToken()) == ["q", "10", "False", "None", "None", "fast"]


async def test_sync_function_runs_in_a_thread_without_blocking_the_loop() -> None:
    released = threading.Event()

    def wait_for_loop() -> bool:
        # Only a coroutine on the event loop sets the event: if this ran on the loop, it would time out.
        return released.wait(timeout=5)

    async def release() -> None:
        await asyncio.sleep(0.01)
        released.set()

    tool = FunctionTool(wait_for_loop, description="Wait.")
    result, _ = await asyncio.gather(tool.run_json({}, CancellationToken()), release())
    assert result is True


async def test_sync_function_sees_context_variables() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var")
    var.set("from the caller")

    def read() -> str:
        return var.get()

    assert await FunctionTool(read, description="Read.").run_json({}, CancellationToken()) == "from the caller"


async def test_cancellation_token_is_injected_and_not_in_the_schema() -> None:
    seen: list[CancellationToken] = []

    async def watch(x: int, cancellation_token: CancellationToken) -> int:
        seen.append(cancellation_token)
        return x

    def watch_sync(x: int, cancellation_token: CancellationToken) -> int:
        seen.append(cancellation_token)
        return x

    token = CancellationToken()
    for func in (watch, watch_sync):
        tool = FunctionTool(func, description="Watch.")
        assert list(tool.schema["parameters"]["properties"]) == ["x"]
        assert await tool.run_json({"x": 1}, token) == 1
    assert seen == [token, token]


async def test_cancelling_the_token_cancels_an_async_function() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow() -> str:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "finished"

    token = CancellationToken()
    call = asyncio.ensure_future(FunctionTool(slow, description="Slow.").run_json({}, token))
    await asyncio.wait_for(started.wait(), 5)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(call, 5)
    assert cancelled.is_set()


async def test_cancelling_the_token_returns_from_a_sync_function_at_once() -> None:
    gate = threading.Event()

    def blocked() -> str:
        gate.wait(timeout=10)
        return "finished"

    token = CancellationToken()
    call = asyncio.ensure_future(FunctionTool(blocked, description="Blocked.").run_json({}, token))
    await asyncio.sleep(0.05)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(call, 5)
    gate.set()  # let the thread finish


async def test_partial_bound_method_and_callable_object() -> None:
    def scale(factor: int, value: int) -> int:
        return factor * value

    class Multiplier:
        def __init__(self, factor: int) -> None:
            self.factor = factor

        def times(self, value: int) -> int:
            return self.factor * value

        async def __call__(self, value: int) -> int:
            return self.factor * value

    double = FunctionTool(functools.partial(scale, 2), description="Double.")
    assert double.name == "scale"
    assert list(double.schema["parameters"]["properties"]) == ["value"]
    assert await double.run_json({"value": 21}, CancellationToken()) == 42
    method = FunctionTool(Multiplier(3).times, description="Triple.")
    assert await method.run_json({"value": 2}, CancellationToken()) == 6
    callable_object = FunctionTool(Multiplier(4), description="Quadruple.", name="quadruple")
    assert await callable_object.run_json({"value": 2}, CancellationToken()) == 8


async def test_positional_only_parameters() -> None:
    def sub(a: int, b: int, /) -> int:
        return a - b

    assert await FunctionTool(sub, description="Subtract.").run_json({"a": 5, "b": 3}, CancellationToken()) == 2


async def test_model_argument_arrives_as_a_model() -> None:
    def norm(p: Point) -> str:
        assert isinstance(p, Point)
        return f"{p.x}/{p.y}"

    assert await FunctionTool(norm, description="Norm.").run_json({"p": {"x": 3}}, CancellationToken()) == "3/0"


async def test_tool_call_event_is_logged_with_the_call_id(caplog: pytest.LogCaptureFixture) -> None:
    tool = FunctionTool(get_stock_price, description="Get the stock price.")
    with caplog.at_level(logging.INFO, logger=EVENT_LOGGER_NAME):
        await tool.run_json({"ticker": "MSFT", "date": "2024/01/02"}, CancellationToken(), call_id="call_7")
    events = [record.msg for record in caplog.records if isinstance(record.msg, ToolCallEvent)]
    assert len(events) == 1
    assert events[0].kwargs["tool_name"] == "get_stock_price"
    assert events[0].kwargs["arguments"] == {"ticker": "MSFT", "date": "2024/01/02"}
    assert (events[0].kwargs["result"], events[0].kwargs["call_id"]) == ("143.83", "call_7")


# -- bad input -------------------------------------------------------------------------------------------


async def test_invalid_arguments_name_the_tool_the_argument_and_what_was_expected() -> None:
    tool = FunctionTool(get_stock_price, description="Get the stock price.")
    with pytest.raises(ToolArgumentsError) as info:
        await tool.run_json({"ticker": 3}, CancellationToken())
    message = str(info.value)
    assert "'get_stock_price'" in message
    assert "argument 'ticker': Input should be a valid string (got 3 of type int)" in message
    assert "argument 'date': is required but missing" in message
    assert info.value.tool_name == "get_stock_price"
    assert [argument for argument, _ in info.value.problems] == ["ticker", "date"]
    assert isinstance(info.value, ValueError)


async def test_unknown_argument_is_refused_and_the_accepted_ones_listed() -> None:
    tool = FunctionTool(get_stock_price, description="Get the stock price.")
    with pytest.raises(
        ToolArgumentsError, match=r"argument 'tickr': is not an argument of this tool \(it takes: ticker, date\)"
    ):
        await tool.run_json({"tickr": "A", "ticker": "A", "date": "d"}, CancellationToken())


async def test_nested_error_names_the_argument_and_the_path() -> None:
    def norm(p: Point) -> str:
        return ""

    with pytest.raises(ToolArgumentsError, match=r"argument 'p': at p\.x: Input should be a valid integer"):
        await FunctionTool(norm, description="Norm.").run_json({"p": {"x": "left"}}, CancellationToken())


async def test_long_invalid_input_is_shortened_in_the_message() -> None:
    with pytest.raises(ToolArgumentsError) as info:
        await FunctionTool(search, description="S.").run_json({"query": "q", "limit": "x" * 500}, CancellationToken())
    assert len(str(info.value)) < 400 and "..." in str(info.value)


def test_missing_annotations_are_listed() -> None:
    def untyped(a, b: int, c=1):  # type: ignore[no-untyped-def]
        return a

    with pytest.raises(ValueError, match=r"'untyped' needs a type annotation.*missing for: a, c"):
        FunctionTool(untyped, description="U.")


def test_variadic_parameters_are_refused() -> None:
    def many(*values: int) -> int:
        return sum(values)

    with pytest.raises(ValueError, match=r"variadic parameter \(\*values\)"):
        FunctionTool(many, description="M.")


def test_lambda_needs_a_name() -> None:
    with pytest.raises(ValueError, match="pass name="):
        FunctionTool(lambda: 1, description="L.")
    assert FunctionTool(lambda: 1, description="L.", name="one").name == "one"


def test_unresolvable_annotation_is_explained() -> None:
    namespace: dict[str, Any] = {}
    exec("from __future__ import annotations\ndef f(x: Missing) -> int:\n    return 1\n", namespace)
    with pytest.raises(TypeError, match=r"Could not resolve the type hints of 'f': NameError"):
        FunctionTool(namespace["f"], description="F.")


def test_global_imports_are_kept() -> None:
    tool = FunctionTool(get_stock_price, description="d", global_imports=["random"])
    assert tool._global_imports == ["random"]
