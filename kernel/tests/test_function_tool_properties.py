"""Property tests: FunctionTool on generated signatures.

For generated functions with int/str/float/bool/list/optional/Literal/model parameters (some with
defaults, some with names that clash with pydantic's own attributes), the schema accepts generated valid
arguments and the tool passes them through unchanged; invalid, missing and unknown arguments are refused
by both the schema and the tool, and the tool's error names the argument.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import keyword
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from salon import CancellationToken
from salon.tools import FunctionTool, ToolArgumentsError


class Point(BaseModel):
    x: int
    y: int = 0


@dataclass(frozen=True)
class Kind:
    """A parameter type: its annotation, valid JSON values, invalid ones, and what the function receives."""

    annotation: Any
    valid: st.SearchStrategy[Any]
    invalid: st.SearchStrategy[Any]
    received: Callable[[Any], Any] = lambda value: value


ints = st.integers(-(10**9), 10**9)
texts = st.text(max_size=20)
floats = st.floats(allow_nan=False, allow_infinity=False, width=32)
not_a_number = st.sampled_from(["abc", [1], {"a": 1}, None])

KINDS: dict[str, Kind] = {
    "int": Kind(int, ints, st.sampled_from(["abc", 1.5, [1], {"a": 1}, None])),
    "str": Kind(str, texts, st.sampled_from([123, 1.5, [], {}, None, True])),
    "float": Kind(float, floats | ints, not_a_number),
    "bool": Kind(bool, st.booleans(), st.sampled_from(["maybe", 2, [], None, {}])),
    "list[int]": Kind(list[int], st.lists(ints, max_size=5), st.sampled_from(["abc", 5, ["x"], None, {"a": 1}])),
    "list[str]": Kind(list[str], st.lists(texts, max_size=5), st.sampled_from([5, [1], None, "abc"])),
    "int | None": Kind(int | None, st.none() | ints, st.sampled_from(["abc", [], {}, 1.5])),
    "str | None": Kind(str | None, st.none() | texts, st.sampled_from([5, [], {}])),
    "Literal": Kind(
        Literal["red", "green", "blue"], st.sampled_from(["red", "green", "blue"]), st.sampled_from(["purple", 1, None])
    ),
    "Point": Kind(
        Point,
        st.fixed_dictionaries({"x": ints}, optional={"y": ints}),
        st.sampled_from([{"x": "left"}, {"y": 1}, "abc", 5, None, [1]]),
        lambda value: Point(**value),
    ),
    "Annotated[int]": Kind(Annotated[int, "An annotated number"], ints, st.sampled_from(["abc", [1], None])),
}

# Names that shadow BaseModel attributes are included on purpose: the tool must alias them.
names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True) | st.sampled_from(
    ["json", "schema", "copy", "model_config", "dict"]
)
names = names.filter(lambda name: not keyword.iskeyword(name) and name != "cancellation_token")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    default: Any = inspect.Parameter.empty


@st.composite
def signatures(draw: st.DrawFn) -> list[Param]:
    chosen = draw(st.lists(names, min_size=0, max_size=6, unique=True))
    params = []
    for name in chosen:
        kind = draw(st.sampled_from(sorted(KINDS)))
        default: Any = inspect.Parameter.empty
        if kind != "Point" and draw(st.booleans()):
            default = draw(KINDS[kind].valid)
        params.append(Param(name, kind, default))
    return params


def make_function(params: list[Param], is_async: bool) -> Callable[..., Any]:
    """A function whose keyword-only parameters are ``params`` and that returns what it was given."""

    def sync_fn(**kwargs: Any) -> dict[str, Any]:
        return kwargs

    async def async_fn(**kwargs: Any) -> dict[str, Any]:
        return kwargs

    func: Any = async_fn if is_async else sync_fn
    func.__signature__ = inspect.Signature(
        [
            inspect.Parameter(
                p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default, annotation=KINDS[p.kind].annotation
            )
            for p in params
        ],
        return_annotation=dict[str, Any],
    )
    func.__annotations__ = {p.name: KINDS[p.kind].annotation for p in params} | {"return": dict[str, Any]}
    func.__name__ = "generated"
    return cast(Callable[..., Any], func)


# -- a small JSON Schema validator for the subset pydantic emits for these types --------------------------


def _type_ok(expected: str, value: Any) -> bool:
    checks: dict[str, Callable[[Any], bool]] = {
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
    }
    return checks[expected](value)


def schema_accepts(schema: dict[str, Any], value: Any) -> bool:
    if "anyOf" in schema:
        return any(schema_accepts(option, value) for option in schema["anyOf"])
    if "enum" in schema and not any(type(value) is type(option) and value == option for option in schema["enum"]):
        return False
    if "type" in schema and not _type_ok(schema["type"], value):
        return False
    if schema.get("type") == "array" and "items" in schema:
        return all(schema_accepts(schema["items"], item) for item in value)
    if schema.get("type") == "object":
        properties = schema.get("properties", {})
        if any(name not in value for name in schema.get("required", [])):
            return False
        if schema.get("additionalProperties") is False and any(name not in properties for name in value):
            return False
        return all(schema_accepts(properties[name], item) for name, item in value.items() if name in properties)
    return True


def run(tool: FunctionTool, args: dict[str, Any]) -> Any:
    return asyncio.run(tool.run_json(json.loads(json.dumps(args)), CancellationToken()))


PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(params=signatures(), is_async=st.booleans(), data=st.data())
def test_valid_arguments_pass_the_schema_and_reach_the_function(
    params: list[Param], is_async: bool, data: st.DataObject
) -> None:
    tool = FunctionTool(make_function(params, is_async), description="Generated.")
    parameters: dict[str, Any] = dict(tool.schema["parameters"])
    assert list(parameters["properties"]) == [p.name for p in params]
    assert set(parameters["required"]) == {p.name for p in params if p.default is inspect.Parameter.empty}
    args: dict[str, Any] = {}
    for p in params:
        if p.default is inspect.Parameter.empty or data.draw(st.booleans()):
            args[p.name] = data.draw(KINDS[p.kind].valid)
    assert schema_accepts(parameters, args)
    received = run(tool, args)
    expected = {p.name: KINDS[p.kind].received(args[p.name]) if p.name in args else p.default for p in params}
    assert received == expected


@PROPERTY_SETTINGS
@given(params=signatures().filter(bool), data=st.data())
def test_invalid_argument_is_refused_by_schema_and_tool_naming_it(params: list[Param], data: st.DataObject) -> None:
    tool = FunctionTool(make_function(params, is_async=True), description="Generated.")
    bad = data.draw(st.sampled_from(params))
    args = {p.name: data.draw(KINDS[p.kind].valid) for p in params if p.default is inspect.Parameter.empty}
    args[bad.name] = data.draw(KINDS[bad.kind].invalid)
    assert not schema_accepts(dict(tool.schema["parameters"]), args)
    with pytest.raises(ToolArgumentsError) as info:
        run(tool, args)
    assert bad.name in [argument for argument, _ in info.value.problems]
    assert f"argument {bad.name!r}" in str(info.value) and "'generated'" in str(info.value)


@PROPERTY_SETTINGS
@given(params=signatures(), data=st.data())
def test_missing_and_unknown_arguments_are_named(params: list[Param], data: st.DataObject) -> None:
    tool = FunctionTool(make_function(params, is_async=True), description="Generated.")
    required = [p for p in params if p.default is inspect.Parameter.empty]
    args = {p.name: data.draw(KINDS[p.kind].valid) for p in required}
    unknown = data.draw(names.filter(lambda name: name not in {p.name for p in params}))
    missing = data.draw(st.sampled_from(required)) if required else None
    if missing is not None:
        del args[missing.name]
    args[unknown] = 1
    with pytest.raises(ToolArgumentsError) as info:
        run(tool, args)
    named = [argument for argument, _ in info.value.problems]
    assert unknown in named
    if missing is not None:
        assert missing.name in named


@PROPERTY_SETTINGS
@given(params=signatures())
def test_strict_mode_accepts_exactly_the_signatures_without_defaults(params: list[Param]) -> None:
    func = make_function(params, is_async=True)
    optional = [p.name for p in params if p.default is not inspect.Parameter.empty]
    if optional:
        with pytest.raises(ValueError, match="strict") as info:
            FunctionTool(func, description="Generated.", strict=True)
        assert all(name in str(info.value) for name in optional)
    else:
        schema = FunctionTool(func, description="Generated.", strict=True).schema
        assert schema["strict"] is True
        assert set(schema["parameters"]["required"]) == set(schema["parameters"]["properties"])
        assert schema["parameters"]["additionalProperties"] is False
