"""Argument checks against MCP input schemas, and the adapters' arguments model (no server needed)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from salon_mcp._args_model import arguments_model
from salon_mcp._arguments import ArgumentChecker

ADD = {
    "type": "object",
    "properties": {"augend": {"type": "integer"}, "addend": {"type": "integer"}},
    "required": ["augend", "addend"],
}
STRICT = {
    "type": "object",
    "properties": {"url": {"type": "string", "minLength": 1}, "raw": {"type": "boolean", "default": False}},
    "required": ["url"],
    "additionalProperties": False,
}

values = st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none(), st.floats(allow_nan=False))


def is_json_integer(value: object) -> bool:
    """JSON Schema's ``integer``: a number with no fractional part (``2.0`` is one), never a boolean."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


@given(st.dictionaries(st.sampled_from(["augend", "addend", "other"]), values))
def test_checker_accepts_exactly_what_the_schema_accepts(arguments: dict[str, Any]) -> None:
    problems = ArgumentChecker("add", ADD).check(arguments)
    bad = {name for name in ("augend", "addend") if name not in arguments or not is_json_integer(arguments[name])}
    assert (problems is None) == (not bad)
    if problems is not None:
        assert {argument for argument, _ in problems.problems} == bad
        assert str(problems).startswith("Invalid arguments for tool 'add':")


@given(st.dictionaries(st.sampled_from(["augend", "addend"]), st.integers()))
def test_the_arguments_model_agrees_on_required_arguments(arguments: dict[str, int]) -> None:
    model = arguments_model("add", ADD)
    try:
        validated = model.model_validate(arguments)
    except ValidationError:
        assert set(arguments) != {"augend", "addend"}
    else:
        assert validated.model_dump(by_alias=True, exclude_unset=True) == arguments


def test_extra_arguments_refused_when_the_schema_says_so() -> None:
    problems = ArgumentChecker("fetch", STRICT).check({"url": "http://x", "loud": True})
    assert problems is not None
    assert str(problems) == (
        "Invalid arguments for tool 'fetch':\n  - argument 'loud': is not an argument of this tool (it takes: url, raw)"
    )


def test_constraints_beyond_types() -> None:
    problems = ArgumentChecker("fetch", STRICT).check({"url": ""})
    assert problems is not None and "argument 'url':" in str(problems) and "should be non-empty" in str(problems)


def test_a_malformed_schema_leaves_judging_to_the_server() -> None:
    assert ArgumentChecker("odd", {"type": "object", "properties": {"x": {"type": 5}}}).check({"x": 1}) is None


def test_awkward_property_names_survive_the_model() -> None:
    schema = {
        "type": "object",
        "properties": {"class": {"type": "string"}, "max-length": {"type": "integer"}, "_private": {}},
        "required": ["class"],
    }
    model = arguments_model("odd-tool", schema)
    validated = model.model_validate({"class": "a", "max-length": 3, "_private": [1]})
    assert validated.model_dump(by_alias=True, exclude_unset=True) == {"class": "a", "max-length": 3, "_private": [1]}
