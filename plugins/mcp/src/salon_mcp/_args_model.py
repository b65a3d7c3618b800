"""A pydantic arguments model built from an MCP tool's JSON Schema, for the tool adapters.

Salon's :class:`~salon.tools.BaseTool` validates arguments with a pydantic model. An MCP tool brings a
JSON Schema instead; this builds a permissive model from it (top-level types and required arguments),
while the adapter keeps showing models the server's own schema.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

__all__ = ["arguments_model"]

_SIMPLE_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list[Any],
    "object": dict[str, Any],
    "null": None,
}


class _McpArguments(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


def _python_type(schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if isinstance(kind, str):
        return _SIMPLE_TYPES.get(kind, Any)
    if isinstance(kind, list) and kind and all(isinstance(k, str) and k in _SIMPLE_TYPES for k in kind):
        python: Any = None
        for k in kind:
            t = type(None) if _SIMPLE_TYPES[k] is None else _SIMPLE_TYPES[k]
            python = t if python is None else python | t
        return python
    return Any


def _field_name(name: str, taken: set[str]) -> str:
    candidate = re.sub(r"\W", "_", name) or "arg"
    if candidate[0].isdigit() or keyword.iskeyword(candidate) or candidate.startswith("_"):
        candidate = f"arg_{candidate.lstrip('_')}"
    while candidate in taken or hasattr(BaseModel, candidate):
        candidate += "_"
    return candidate


def arguments_model(tool_name: str, input_schema: Mapping[str, Any]) -> type[BaseModel]:
    """Build the arguments model: one field per property (aliased to its JSON name), extras allowed."""
    properties: Mapping[str, Any] = input_schema.get("properties") or {}
    required = set(input_schema.get("required") or [])
    fields: dict[str, Any] = {}
    taken: set[str] = set()
    for name, schema in properties.items():
        field_name = _field_name(name, taken)
        taken.add(field_name)
        python = _python_type(schema if isinstance(schema, Mapping) else {})
        description = schema.get("description") if isinstance(schema, Mapping) else None
        if name in required:
            fields[field_name] = (python, Field(alias=name, description=description))
        else:
            fields[field_name] = (
                python | None if python is not Any else Any,
                Field(None, alias=name, description=description),
            )
    model_name = re.sub(r"\W", "_", tool_name) + "Args"
    return create_model(model_name, __base__=_McpArguments, **fields)
