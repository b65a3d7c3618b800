"""Salon's LLM messages, tools and tool choice in the shape of Anthropic's Messages API.

Pure functions over plain dicts (no SDK import), so the mapping is testable on its own. The rules:

- every :class:`~salon.models.SystemMessage`, wherever it stands, goes into the top-level ``system``
  text, in order, joined by a blank line (the API has no system role inside ``messages``);
- user messages and tool results become ``user`` turns, assistant messages ``assistant`` turns, and
  consecutive turns of the same role are merged into one, so roles always alternate; in a merged user
  turn the ``tool_result`` blocks come first, as the API requires;
- an assistant tool-call message becomes ``thinking`` blocks (when the client remembers them, see
  :class:`ThinkingMemory`; always first in their turn), its ``thought`` as a text block, then one
  ``tool_use`` block per call;
- empty texts are left out (the API rejects empty text blocks) and the final assistant text loses its
  trailing whitespace (the API rejects that too); the caller's messages are never modified.
"""

from __future__ import annotations

import base64
import json
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from salon.models import (
    AssistantMessage,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
    UserMessage,
)

if TYPE_CHECKING:
    from salon.tools import Tool, ToolSchema

__all__ = [
    "ThinkingMemory",
    "to_anthropic_messages",
    "to_anthropic_tool_choice",
    "to_anthropic_tools",
    "tool_names_in",
]

_THINKING = frozenset({"thinking", "redacted_thinking"})
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")

Block = dict[str, Any]
Turn = dict[str, Any]


class ThinkingMemory:
    """The thinking blocks (with their signatures) that came with recent tool calls, by tool-call id.

    With extended thinking on, Anthropic requires the assistant turn that made tool calls to be sent
    back with its thinking blocks, signature included; :class:`~salon.models.AssistantMessage` has no
    place for a signature, so the client remembers them here (bounded, oldest forgotten first) and puts
    them back when the same calls are sent again.
    """

    def __init__(self, max_entries: int = 1024) -> None:
        self._blocks: OrderedDict[str, list[Block]] = OrderedDict()
        self._max_entries = max_entries

    def remember(self, call_ids: Sequence[str], blocks: Sequence[Block]) -> None:
        """Keep ``blocks`` (thinking / redacted_thinking) for the calls ``call_ids``."""
        if not blocks or not call_ids:
            return
        kept = [dict(block) for block in blocks]
        for call_id in call_ids:
            self._blocks[call_id] = kept
            self._blocks.move_to_end(call_id)
        while len(self._blocks) > self._max_entries:
            self._blocks.popitem(last=False)

    def recall(self, call_ids: Sequence[str]) -> list[Block]:
        """The blocks remembered for the first of ``call_ids`` that has any (copies)."""
        for call_id in call_ids:
            blocks = self._blocks.get(call_id)
            if blocks is not None:
                return [dict(block) for block in blocks]
        return []


def _media_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"


def _image_block(part: Any) -> Block:
    to_base64 = getattr(part, "to_base64", None)
    if not callable(to_base64):
        raise ValueError(
            f"UserMessage content parts must be str or an image with to_base64(); got {type(part).__name__}."
        )
    data = str(to_base64())
    media_type = _media_type(base64.b64decode(data[:64] + "=" * (-len(data[:64]) % 4)))
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}


def _text(text: str) -> list[Block]:
    return [{"type": "text", "text": text}] if text.strip() else []


def _user_blocks(message: UserMessage) -> list[Block]:
    if isinstance(message.content, str):
        return _text(message.content)
    blocks: list[Block] = []
    for part in message.content:
        blocks.extend(_text(part) if isinstance(part, str) else [_image_block(part)])
    return blocks


def _arguments(arguments: str, name: str) -> Any:
    """A call's JSON arguments as the object ``tool_use.input`` needs."""
    try:
        parsed = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        # A model that produced broken JSON: send the text back under a key rather than fail the request.
        return {"raw_arguments": arguments}
    return parsed if isinstance(parsed, dict) else {"value": parsed}


def _assistant_blocks(message: AssistantMessage, thinking: ThinkingMemory | None) -> list[Block]:
    if isinstance(message.content, str):
        return _text(message.content)
    blocks: list[Block] = []
    if thinking is not None:
        blocks.extend(thinking.recall([call.id for call in message.content]))
    if message.thought:
        blocks.extend(_text(message.thought))
    for call in message.content:
        blocks.append(
            {"type": "tool_use", "id": call.id, "name": call.name, "input": _arguments(call.arguments, call.name)}
        )
    return blocks


def _result_blocks(message: FunctionExecutionResultMessage) -> list[Block]:
    blocks: list[Block] = []
    for result in message.content:
        block: Block = {"type": "tool_result", "tool_use_id": result.call_id}
        if result.content.strip():
            block["content"] = result.content
        if result.is_error:
            block["is_error"] = True
        blocks.append(block)
    return blocks


def to_anthropic_messages(
    messages: Sequence[LLMMessage], *, thinking: ThinkingMemory | None = None
) -> tuple[str | None, list[Turn]]:
    """Map a conversation to ``(system, messages)`` for ``messages.create`` (see the module docstring)."""
    system_parts: list[str] = []
    turns: list[Turn] = []
    for message in messages:
        role: Literal["user", "assistant"]
        if isinstance(message, SystemMessage):
            if message.content.strip():
                system_parts.append(message.content)
            continue
        if isinstance(message, UserMessage):
            role, blocks = "user", _user_blocks(message)
        elif isinstance(message, AssistantMessage):
            role, blocks = "assistant", _assistant_blocks(message, thinking)
        elif isinstance(message, FunctionExecutionResultMessage):
            role, blocks = "user", _result_blocks(message)
        else:  # pragma: no cover - LLMMessage is a closed union
            raise ValueError(f"Unknown message type {type(message).__name__}.")
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:  # stable sorts keep the rest in order
        if turn["role"] == "user":  # tool results first
            turn["content"].sort(key=lambda block: block["type"] != "tool_result")
        else:  # thinking first (a merged turn may have it after an earlier text)
            turn["content"].sort(key=lambda block: block["type"] not in _THINKING)
    if turns and turns[-1]["role"] == "assistant":
        last = turns[-1]["content"]
        if last and last[-1]["type"] == "text":
            stripped = last[-1]["text"].rstrip()
            last[-1] = {**last[-1], "text": stripped}
    system = "\n\n".join(system_parts) if system_parts else None
    return system, turns


def _schema_of(tool: Tool | ToolSchema) -> ToolSchema:
    if isinstance(tool, Mapping):
        return tool
    return tool.schema


def to_anthropic_tools(tools: Sequence[Tool | ToolSchema]) -> list[dict[str, Any]]:
    """Tool definitions (``name``, ``description``, ``input_schema``); a bad name is a ``ValueError``."""
    converted: list[dict[str, Any]] = []
    for tool in tools:
        schema = _schema_of(tool)
        name = schema["name"]
        if not _TOOL_NAME.match(name):
            raise ValueError(
                f"Tool name {name!r} is not valid for Anthropic: use 1 to 128 letters, digits, '_' or '-'."
            )
        parameters: dict[str, Any] = dict(schema.get("parameters") or {"type": "object", "properties": {}})
        parameters.setdefault("type", "object")
        definition: dict[str, Any] = {"name": name, "input_schema": parameters}
        if schema.get("description"):
            definition["description"] = schema["description"]
        converted.append(definition)
    return converted


def tool_names_in(turns: Sequence[Turn]) -> list[str]:
    """Names of the tools called in ``turns`` (first-use order, no repeats)."""
    names: dict[str, None] = {}
    for turn in turns:
        for block in turn["content"]:
            if block.get("type") == "tool_use":
                names[block["name"]] = None
    return list(names)


def to_anthropic_tool_choice(
    tool_choice: Tool | Literal["auto", "required", "none"], tool_names: Sequence[str]
) -> dict[str, Any]:
    """``auto`` / ``required`` (Anthropic's ``any``) / ``none`` / one tool, checked against ``tool_names``."""
    if tool_choice == "auto":
        return {"type": "auto"}
    if tool_choice == "required":
        return {"type": "any"}
    if tool_choice == "none":
        return {"type": "none"}
    name = getattr(tool_choice, "name", None)
    if not isinstance(name, str):
        raise ValueError(f"tool_choice must be 'auto', 'required', 'none' or a Tool; got {tool_choice!r}.")
    if name not in tool_names:
        raise ValueError(
            f"tool_choice names the tool {name!r}, which is not among the tools of this call "
            f"({', '.join(tool_names) or 'none'}); pass it in tools= too."
        )
    return {"type": "tool", "name": name}
