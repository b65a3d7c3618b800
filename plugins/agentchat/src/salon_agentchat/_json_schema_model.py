"""Build a pydantic model from a JSON schema, for structured messages described as data.

Covers what ``model_json_schema()`` of ordinary pydantic models produces and what people write by hand:
objects with properties and ``required``, the scalar types, arrays, enums, ``anyOf``/``oneOf`` unions,
nullable types, nested objects and ``$ref`` into ``$defs``/``definitions``. Anything else is an error
that names the unsupported construct, rather than a model that silently accepts everything.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

__all__ = ["model_from_json_schema"]

_SCALARS: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool, "null": type(None)}


class _Builder:
    def __init__(self, root: dict[str, Any]) -> None:
        self._defs: dict[str, Any] = {**root.get("definitions", {}), **root.get("$defs", {})}
        self._built: dict[str, type[BaseModel]] = {}

    def model(self, schema: dict[str, Any], name: str) -> type[BaseModel]:
        properties: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        fields: dict[str, Any] = {}
        for prop, sub in properties.items():
            annotation = self.type_of(sub, f"{name}_{prop}")
            description = sub.get("description") if isinstance(sub, dict) else None
            if prop in required:
                fields[prop] = (annotation, Field(description=description))
            else:
                fields[prop] = (annotation | None, Field(default=sub.get("default"), description=description))
        return create_model(name, **fields)

    def type_of(self, schema: Any, name: str) -> Any:
        if schema is True or schema == {}:
            return Any
        if not isinstance(schema, dict):
            raise ValueError(f"JSON schema for {name!r}: expected an object, got {schema!r}")
        if "$ref" in schema:
            return self._ref(schema["$ref"])
        if "enum" in schema:
            return Literal[tuple(schema["enum"])]
        if "const" in schema:
            return Literal[schema["const"]]
        for key in ("anyOf", "oneOf"):
            if key in schema:
                members = [self.type_of(member, f"{name}_{i}") for i, member in enumerate(schema[key])]
                return _union(members)
        kind = schema.get("type")
        if isinstance(kind, list):
            return _union([self.type_of({**schema, "type": k}, name) for k in kind])
        if kind in _SCALARS:
            return _SCALARS[kind]
        if kind == "array":
            return list[self.type_of(schema.get("items", {}), f"{name}_item")]  # type: ignore[misc]
        if kind == "object" or (kind is None and "properties" in schema):
            if "properties" in schema:
                return self.model(schema, schema.get("title", name))
            extra = schema.get("additionalProperties", True)
            return dict[str, self.type_of(extra, f"{name}_value")]  # type: ignore[misc]
        if kind is None:
            return Any
        raise ValueError(f"JSON schema for {name!r}: type {kind!r} is not supported")

    def _ref(self, ref: str) -> Any:
        prefix = next((p for p in ("#/$defs/", "#/definitions/") if ref.startswith(p)), None)
        if prefix is None:
            raise ValueError(f"JSON schema: only local references into $defs are supported, got {ref!r}")
        key = ref[len(prefix) :]
        if key not in self._defs:
            raise ValueError(f"JSON schema: {ref!r} names no definition; defined: {sorted(self._defs)}")
        if key not in self._built:
            target = self._defs[key]
            built = self.type_of(target, key)
            if not (isinstance(built, type) and issubclass(built, BaseModel)):
                return built
            self._built[key] = built
        return self._built[key]


def _union(members: list[Any]) -> Any:
    result = members[0]
    for member in members[1:]:
        result = result | member
    return result


def model_from_json_schema(schema: dict[str, Any], model_name: str) -> type[BaseModel]:
    """A pydantic model whose fields follow ``schema`` (an object schema).

    Raises:
        ValueError: the schema is not an object schema, or uses a construct this builder does not know.
    """
    if schema.get("type", "object") != "object":
        raise ValueError(f"A structured message's JSON schema must describe an object, got type {schema.get('type')!r}")
    return _Builder(schema).model(schema, model_name)
