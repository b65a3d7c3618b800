"""Error texts for tool calls: what a model reads when its call went wrong, so it can correct the call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

__all__ = ["ToolArgumentsError", "format_tool_error"]

_MAX_INPUT_REPR = 80


def _show_input(value: Any) -> str:
    text = repr(value)
    if len(text) > _MAX_INPUT_REPR:
        text = text[: _MAX_INPUT_REPR - 3] + "..."
    return f"got {text} of type {type(value).__name__}"


class ToolArgumentsError(ValueError):
    """A tool was called with arguments its schema does not accept.

    The message names the tool, each offending argument, what was expected and what was given, so a
    model reading it in a tool result can correct its call. It is a :class:`ValueError`, as the
    pydantic error it wraps is; that error stays available as ``__cause__``.

    Attributes:
        tool_name: The tool that refused the arguments.
        problems: One ``(argument, explanation)`` pair per problem; the argument is ``""`` when the
            arguments as a whole were wrong (not a JSON object).
    """

    def __init__(self, tool_name: str, problems: Sequence[tuple[str, str]]) -> None:
        self.tool_name = tool_name
        self.problems = list(problems)
        lines = [f"Invalid arguments for tool {tool_name!r}:"]
        for argument, explanation in self.problems:
            lines.append(f"  - argument {argument!r}: {explanation}" if argument else f"  - {explanation}")
        super().__init__("\n".join(lines))

    @classmethod
    def from_validation_error(
        cls, tool_name: str, error: ValidationError, accepted: Sequence[str]
    ) -> ToolArgumentsError:
        """Translate pydantic's validation error into argument-level explanations.

        Args:
            tool_name: The tool's name.
            error: What validating the arguments raised.
            accepted: The tool's argument names, listed when a call gives an unknown one.
        """
        problems: list[tuple[str, str]] = []
        for item in error.errors(include_url=False):
            loc = item.get("loc", ())
            kind = item.get("type", "")
            if not loc:
                problems.append(
                    ("", f"the arguments must be a JSON object of named arguments; {_show_input(item.get('input'))}")
                )
                continue
            argument = str(loc[0])
            where = "" if len(loc) == 1 else f"at {'.'.join(str(part) for part in loc)}: "
            if kind == "missing":
                detail = "is required but missing" if len(loc) == 1 else "required field is missing"
            elif kind == "extra_forbidden" and len(loc) == 1:
                takes = ", ".join(accepted) if accepted else "no arguments"
                detail = f"is not an argument of this tool (it takes: {takes})"
            else:
                detail = f"{item.get('msg', 'invalid value')} ({_show_input(item.get('input'))})"
            problems.append((argument, where + detail))
        return cls(tool_name, problems)


def format_tool_error(error: BaseException) -> str:
    """Render an exception raised by a tool call as the text of an error result.

    The exception's type is kept (``KeyError: 'city'`` says more than ``'city'``), and so are its
    notes and, for an exception group, every exception in it, one per line.
    """
    if isinstance(error, BaseExceptionGroup):
        return "\n".join(format_tool_error(inner) for inner in error.exceptions)
    if isinstance(error, ToolArgumentsError):
        text = str(error)
    else:
        message = str(error)
        text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    notes = getattr(error, "__notes__", None)
    if isinstance(notes, list) and notes:
        text += "\n" + "\n".join(str(note) for note in notes)
    return text
