"""The prompt: Salon messages (and the offered tools) as role/content dicts for the model's own chat template.

A GGUF chat model knows only system, user and assistant turns of plain text, so tool calls, tool
results and the tool descriptions are written into those turns here, in the JSON form the tool-call
grammar and parser of ``_tool_calls`` use.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from salon.models import (
    AssistantMessage,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
    UserMessage,
)

from ._tool_calls import parameters_schema

if TYPE_CHECKING:
    from salon.tools import ToolSchema

__all__ = ["chat_messages"]


def chat_messages(messages: Sequence[LLMMessage], tools: Sequence[ToolSchema], forced: bool) -> list[dict[str, str]]:
    """Turn Salon messages into role/content dicts for the model's own chat template."""
    out: list[dict[str, str]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            out.append({"role": "system", "content": message.content})
        elif isinstance(message, UserMessage):
            if isinstance(message.content, str):
                text = message.content
            else:
                if any(not isinstance(part, str) for part in message.content):
                    raise ValueError("this model cannot read images (model_info['vision'] is false); send text only.")
                text = "\n".join(str(part) for part in message.content)
            out.append({"role": "user", "content": text})
        elif isinstance(message, AssistantMessage):
            if isinstance(message.content, str):
                out.append({"role": "assistant", "content": message.content})
            else:
                calls = [
                    json.dumps({"name": call.name, "arguments": _loads_or_text(call.arguments)})
                    for call in message.content
                ]
                out.append({"role": "assistant", "content": "\n".join(calls)})
        elif isinstance(message, FunctionExecutionResultMessage):
            for result in message.content:
                kind = "error" if result.is_error else "result"
                out.append(
                    {"role": "user", "content": f"Tool {result.name} ({result.call_id}) {kind}: {result.content}"}
                )
        else:  # pragma: no cover - LLMMessage is a closed union
            raise TypeError(f"unknown message type {type(message).__name__}")
    if tools:
        lines = [
            "You can call these tools."
            + (
                " Answer with one call."
                if forced
                else ' To call one, answer with only {"name": <tool name>, "arguments": {...}}.'
            )
        ]
        for tool in tools:
            lines.append(json.dumps({"name": tool["name"], "description": tool.get("description", "")}))
            lines.append("arguments schema: " + json.dumps(parameters_schema(tool)))
        text = "\n".join(lines)
        if out and out[0]["role"] == "system":
            out[0] = {"role": "system", "content": out[0]["content"] + "\n\n" + text}
        else:
            out.insert(0, {"role": "system", "content": text})
    return out


def _loads_or_text(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments
