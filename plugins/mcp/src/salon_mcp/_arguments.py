"""Checking a call's arguments against the tool's JSON Schema before it goes to the server.

Servers word argument errors in many ways, some not at all ("Error executing tool"); checking here
gives every MCP tool the same clear message naming each offending argument, as Salon's own tools do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator, validators  # type: ignore[import-untyped]
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]

from salon.tools import ToolArgumentsError

__all__ = ["ArgumentChecker"]


class ArgumentChecker:
    """Validates arguments against one tool's input schema (compiled once)."""

    def __init__(self, tool_name: str, input_schema: Mapping[str, Any]) -> None:
        self.tool_name = tool_name
        schema = dict(input_schema)
        self._accepted = list(schema.get("properties", {}))
        try:
            validator_class = validators.validator_for(schema, default=Draft202012Validator)
            validator_class.check_schema(schema)
            self._validator: Any = validator_class(schema)
        except SchemaError:
            # A server with a malformed schema: let the server judge the arguments.
            self._validator = None

    def check(self, arguments: Mapping[str, Any]) -> ToolArgumentsError | None:
        """The problems with ``arguments``, or ``None`` when they fit the schema."""
        if self._validator is None:
            return None
        problems: list[tuple[str, str]] = []
        for error in sorted(self._validator.iter_errors(dict(arguments)), key=lambda e: list(map(str, e.path))):
            path = [str(part) for part in error.absolute_path]
            if error.validator == "required" and not path:
                missing = error.message.split("'")[1] if "'" in error.message else error.message
                problems.append((missing, "is required but missing"))
            elif error.validator == "additionalProperties" and not path:
                takes = ", ".join(self._accepted) if self._accepted else "no arguments"
                extra = sorted(set(arguments) - set(self._accepted))
                for name in extra or [""]:
                    problems.append((name, f"is not an argument of this tool (it takes: {takes})"))
            elif path:
                where = "" if len(path) == 1 else f"at {'.'.join(path)}: "
                problems.append((path[0], where + error.message))
            else:
                problems.append(("", error.message))
        return ToolArgumentsError(self.tool_name, problems) if problems else None
