"""Request building: Salon's ``create`` arguments turned into the keyword arguments of ``chat.completions.create``.

Kept apart from the client because it is pure: it checks what the caller asked for against what the
model can do (tools, JSON output, structured output) and against what the installed SDK accepts, and
builds plain dicts, without touching the network. The clients call :func:`prepare_request` once per call.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel

from salon.models import LLMMessage, ModelInfo
from salon.tools import Tool, ToolSchema

from ._messages import to_openai_messages, tool_param

__all__ = ["PreparedRequest", "prepare_request"]

#: Request arguments a client sets itself; ``extra_create_args`` may not set them.
_RESERVED_ARGS = frozenset({"messages", "stream", "n", "functions", "function_call"})


@functools.cache
def _allowed_create_args() -> frozenset[str]:
    """Every keyword ``chat.completions.create`` takes (read from the installed SDK), less the reserved ones."""
    from openai.resources.chat.completions import AsyncCompletions

    names = set(inspect.signature(AsyncCompletions.create).parameters) - {"self"}
    return frozenset(names - _RESERVED_ARGS)


def _response_format_for(model: type[BaseModel]) -> dict[str, Any]:
    """A ``json_schema`` response format that constrains the model to ``model``'s strict JSON Schema."""
    from openai import pydantic_function_tool

    # The SDK's public helper builds the strict form of the schema (every object closed, all keys required).
    strict_schema = pydantic_function_tool(model)["function"].get("parameters", {})
    return {
        "type": "json_schema",
        "json_schema": {"name": model.__name__, "schema": dict(strict_schema), "strict": True},
    }


class PreparedRequest:
    """One prepared request: the SDK's keyword arguments and the messages as sent (for events)."""

    __slots__ = ("args", "messages", "tools")

    def __init__(self, args: dict[str, Any], messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> None:
        self.args = args
        self.messages = messages
        self.tools = tools


def prepare_request(
    messages: Sequence[LLMMessage],
    tools: Sequence[Tool | ToolSchema],
    tool_choice: Tool | Literal["auto", "required", "none"],
    json_output: bool | type[BaseModel] | None,
    extra_create_args: Mapping[str, Any],
    *,
    create_args: Mapping[str, Any],
    model_info: ModelInfo,
    include_name_in_message: bool,
    add_name_prefixes: bool,
) -> PreparedRequest:
    """Check one call's arguments and build its request, or raise a ``ValueError`` saying what to change.

    Args:
        messages: The conversation to send.
        tools: The tools offered to the model.
        tool_choice: ``"auto"``, ``"required"``, ``"none"`` or the one tool the model must call.
        json_output: ``True`` for JSON mode, a pydantic model class for structured output.
        extra_create_args: The call's own request arguments, over ``create_args``.
        create_args: The client's request arguments (``model``, ``temperature``, ...).
        model_info: What the model can do.
        include_name_in_message: Send each message's ``source`` as its ``name``.
        add_name_prefixes: Prefix each user message with its source.
    """
    allowed_args = _allowed_create_args()
    unknown = sorted(set(extra_create_args) - allowed_args)
    if unknown:
        reserved = [name for name in unknown if name in _RESERVED_ARGS]
        hint = (
            f"{', '.join(reserved)} {'is' if len(reserved) == 1 else 'are'} set by the client itself"
            if reserved
            else "send provider-specific fields through extra_create_args={'extra_body': {...}}"
        )
        raise ValueError(f"extra_create_args has arguments chat.completions.create does not take: {unknown}; {hint}.")
    args = {**create_args, **extra_create_args}
    info = model_info

    response_format = args.get("response_format")
    if isinstance(response_format, type) and issubclass(response_format, BaseModel):
        if json_output is not None and json_output is not False and json_output is not True:
            raise ValueError("Give the pydantic model either as response_format or as json_output, not both.")
        if json_output is None:
            json_output = response_format
        del args["response_format"]
    if json_output is True:
        if not info["json_output"]:
            raise ValueError("The model does not support JSON output (model_info['json_output'] is False).")
        args["response_format"] = {"type": "json_object"}
    elif json_output is False:
        args["response_format"] = {"type": "text"}
    elif isinstance(json_output, type) and issubclass(json_output, BaseModel):
        if not info.get("structured_output", False):
            raise ValueError(
                "The model does not support structured output (model_info['structured_output'] is False); "
                "use json_output=True and describe the JSON in the prompt."
            )
        args["response_format"] = _response_format_for(json_output)
    elif json_output is not None:
        raise ValueError(f"json_output must be a bool or a pydantic model class, got {json_output!r}.")

    oai_messages = to_openai_messages(
        messages,
        vision=bool(info["vision"]),
        include_name_in_message=include_name_in_message,
        add_name_prefixes=add_name_prefixes,
    )
    oai_tools: list[dict[str, Any]] = []
    if tools:
        if not info["function_calling"]:
            raise ValueError("The model does not support tools (model_info['function_calling'] is False).")
        oai_tools = [tool_param(tool) for tool in tools]
        args["tools"] = oai_tools
        if isinstance(tool_choice, str):
            if tool_choice not in ("auto", "required", "none"):
                raise ValueError(f"tool_choice must be 'auto', 'required', 'none' or a Tool, got {tool_choice!r}.")
            args["tool_choice"] = tool_choice
        else:
            name = tool_choice.name
            if name not in {t["function"]["name"] for t in oai_tools}:
                raise ValueError(f"tool_choice names the tool {name!r}, which is not among the tools given.")
            args["tool_choice"] = {"type": "function", "function": {"name": name}}
    else:
        if not isinstance(tool_choice, str):
            raise ValueError(f"tool_choice names the tool {tool_choice.name!r}, but no tools were given.")
        args.pop("parallel_tool_calls", None)  # OpenAI rejects it without tools
    return PreparedRequest(args, oai_messages, oai_tools)
