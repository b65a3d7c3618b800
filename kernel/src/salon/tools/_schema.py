"""Tool schemas: the JSON Schema a model sees for a tool, built from the tool's pydantic arguments model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict, cast

from pydantic import BaseModel

__all__ = ["ParametersSchema", "ToolSchema", "parameters_schema"]


class ParametersSchema(TypedDict):
    """The JSON Schema of a tool's arguments: always an object.

    Attributes:
        type: Always ``"object"``.
        properties: One JSON Schema per argument.
        required: The arguments a call must give.
        additionalProperties: Whether arguments beyond ``properties`` are accepted.
    """

    type: str
    properties: dict[str, Any]
    required: NotRequired[Sequence[str]]
    additionalProperties: NotRequired[bool]


class ToolSchema(TypedDict):
    """What a model client sends a provider to describe one tool (OpenAI's function-tool shape).

    Attributes:
        parameters: The arguments' schema.
        name: The name the model calls the tool by.
        description: What the tool does and when to use it; models choose tools by it.
        strict: Whether the provider must constrain the model to exactly this schema
            (OpenAI structured outputs).
    """

    parameters: NotRequired[ParametersSchema]
    name: str
    description: NotRequired[str]
    strict: NotRequired[bool]


class _CannotInlineError(Exception):
    """A ``$ref`` refers to itself (or to nothing), so it cannot be expanded in place."""


def _inline(node: Any, defs: dict[str, Any], expanding: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs, expanding) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref[len("#/$defs/") :]
        if name in expanding or name not in defs:
            raise _CannotInlineError(name)
        resolved = dict(_inline(defs[name], defs, (*expanding, name)))
        # Keys beside the $ref (the argument's description, its default) describe this use of the
        # model, so they are kept and win over the model's own keys.
        resolved.update({key: _inline(value, defs, expanding) for key, value in node.items() if key != "$ref"})
        return resolved
    return {key: _inline(value, defs, expanding) for key, value in node.items()}


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Expand ``$ref``s to ``$defs`` in place, as providers handle inline schemas best.

    A recursive model (a tree node holding a list of nodes) cannot be expanded; its schema keeps
    ``$defs`` and the references, which is still valid JSON Schema.
    """
    defs = schema.get("$defs")
    if not isinstance(defs, dict):
        return schema
    body = {key: value for key, value in schema.items() if key != "$defs"}
    try:
        return cast(dict[str, Any], _inline(body, defs, ()))
    except _CannotInlineError:
        return schema


def parameters_schema(args_type: type[BaseModel], *, tool_name: str, strict: bool) -> ParametersSchema:
    """Build a tool's :class:`ParametersSchema` from its arguments model.

    Args:
        args_type: The pydantic model that validates the tool's arguments.
        tool_name: The tool's name, for error messages.
        strict: Check that the schema satisfies strict mode.

    Raises:
        ValueError: ``strict`` is true but an argument is optional or extra arguments are allowed; the
            message names the tool and the arguments and says how to fix it.
    """
    model_schema = _inline_refs(args_type.model_json_schema())
    properties: dict[str, Any] = model_schema.get("properties", {})
    parameters = ParametersSchema(
        type="object",
        properties=properties,
        required=list(model_schema.get("required", [])),
        additionalProperties=bool(model_schema.get("additionalProperties", False)),
    )
    if "$defs" in model_schema:
        cast(dict[str, Any], parameters)["$defs"] = model_schema["$defs"]
    if strict:
        optional = [name for name in properties if name not in model_schema.get("required", [])]
        if optional:
            raise ValueError(
                f"Tool {tool_name!r} is strict, but these arguments are optional: {', '.join(optional)}. "
                "Strict mode requires every argument to be required: remove their defaults or pass strict=False."
            )
        if parameters.get("additionalProperties"):
            raise ValueError(
                f"Tool {tool_name!r} is strict, but its arguments model accepts extra arguments. "
                "Strict mode forbids them: drop extra='allow' from the model or pass strict=False."
            )
    return parameters
