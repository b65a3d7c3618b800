"""Tool calls as JSON: the schemas that constrain generation to a call, and the calls read back from text.

A small local model cannot be trusted to write a well-formed call, so a forced call is generated under a
grammar made from the tool's JSON Schema (:func:`call_schema`, made stricter by :func:`grammar_schema`), and
an answer is turned into :class:`~salon.FunctionCall` objects only when it is exactly such a call
(:func:`parse_calls`). None of this needs llama.cpp; the client wires it to generation.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from salon import FunctionCall

if TYPE_CHECKING:
    from salon.tools import Tool, ToolSchema

__all__ = ["call_schema", "grammar_schema", "parameters_schema", "parse_calls", "tool_schema"]

_MAX_ENUMERATED_RANGE = 1000


def tool_schema(tool: Tool | ToolSchema) -> ToolSchema:
    """The schema of a tool, or the schema itself when given one."""
    schema = getattr(tool, "schema", None)
    if schema is not None:
        return schema  # type: ignore[no-any-return]
    return tool  # type: ignore[return-value]


def parameters_schema(schema: ToolSchema) -> dict[str, Any]:
    """The JSON Schema of the tool's arguments (an empty object schema when it declares none)."""
    parameters = schema.get("parameters")
    if parameters is None:
        return {"type": "object", "properties": {}}
    return dict(parameters)


def call_schema(schema: ToolSchema) -> dict[str, Any]:
    """The JSON Schema of one call of ``schema``'s tool: ``{"name": <const>, "arguments": {...}}``."""
    return {
        "type": "object",
        "properties": {"name": {"const": schema["name"]}, "arguments": parameters_schema(schema)},
        "required": ["name", "arguments"],
        "additionalProperties": False,
    }


def grammar_schema(node: Any) -> Any:
    """``node`` with bounded integer ranges written as ``enum``s, which the grammar converter enforces.

    llama-cpp-python's JSON-Schema-to-grammar converter ignores ``minimum``/``maximum``; a small integer
    range listed as an enum makes the bounds hold in the generated arguments too. Larger ranges and
    non-integer bounds stay as they are (documented as not enforced).
    """
    if isinstance(node, list):
        return [grammar_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: grammar_schema(value) for key, value in node.items()}
    if out.get("type") == "integer" and "enum" not in out:
        low, high = out.get("minimum"), out.get("maximum")
        if isinstance(out.get("exclusiveMinimum"), int):
            low = out["exclusiveMinimum"] + 1
        if isinstance(out.get("exclusiveMaximum"), int):
            high = out["exclusiveMaximum"] - 1
        if isinstance(low, int) and isinstance(high, int) and 0 <= high - low < _MAX_ENUMERATED_RANGE:
            return {key: value for key, value in out.items() if key not in ("type",)} | {
                "enum": list(range(low, high + 1))
            }
    return out


def parse_calls(text: str, names: set[str]) -> list[FunctionCall]:
    """The calls in ``text`` if it is exactly one call object (or one per line), else ``[]``."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        return []
    candidates = [stripped, *stripped.splitlines()]
    for block in (candidates[:1], candidates[1:]):
        calls: list[FunctionCall] = []
        for line in block:
            try:
                data = json.loads(line)
            except ValueError:
                break
            if not (isinstance(data, dict) and data.get("name") in names and isinstance(data.get("arguments"), dict)):
                break
            calls.append(
                FunctionCall(
                    id=f"call_{uuid.uuid4().hex[:24]}", name=data["name"], arguments=json.dumps(data["arguments"])
                )
            )
        else:
            if calls:
                return calls
    return []
