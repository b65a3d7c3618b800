"""Reading the progress ledger a model writes, and turning the team's thread into model messages."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from salon.models import AssistantMessage, LLMMessage, UserMessage
from salon_agentchat.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
)

from ._prompts import LEDGER_KEYS

__all__ = ["extract_json_objects", "ledger_problem", "thread_to_context"]

_FENCED = re.compile(r"```(?:[a-zA-Z]+)?\s*\n(.*?)```", re.DOTALL)


def extract_json_objects(text: str) -> list[Any]:
    """The JSON values in a model's answer: each fenced code block, else the whole text.

    Models asked for "pure JSON" still wrap it in a ```json fence or add a sentence around it, so when
    the text does not parse as a whole, the span from the first ``{`` to the last ``}`` is tried too.

    Raises:
        json.JSONDecodeError: Nothing in the text parses.
    """
    blocks = _FENCED.findall(text)
    if blocks:
        return [json.loads(block) for block in blocks]
    stripped = text.strip()
    try:
        return [json.loads(stripped)]
    except json.JSONDecodeError:
        start, end = stripped.find("{"), stripped.rfind("}")
        if start == -1 or end <= start:
            raise
        return [json.loads(stripped[start : end + 1])]


def ledger_problem(ledger: Any, participant_names: Sequence[str]) -> str | None:
    """What is wrong with a parsed progress ledger, or None when it can be acted on."""
    if not isinstance(ledger, dict):
        return f"expected a JSON object, got {type(ledger).__name__}"
    for key in LEDGER_KEYS:
        entry = ledger.get(key)
        if not isinstance(entry, dict) or "answer" not in entry or "reason" not in entry:
            return f"key {key!r} must be an object with 'reason' and 'answer'"
    if not ledger["is_request_satisfied"]["answer"] and ledger["next_speaker"]["answer"] not in participant_names:
        return f"next_speaker {ledger['next_speaker']['answer']!r} is not one of {list(participant_names)}"
    return None


def thread_to_context(thread: Sequence[BaseAgentEvent | BaseChatMessage], own_name: str) -> list[LLMMessage]:
    """The thread as model messages: the orchestrator's own words as assistant turns, the rest as user turns.

    Tool-call events are left out (their outcome is in the agent's reply), and so are other events.
    """
    context: list[LLMMessage] = []
    for message in thread:
        if isinstance(message, ToolCallRequestEvent | ToolCallExecutionEvent) or not isinstance(
            message, BaseChatMessage
        ):
            continue
        if message.source == own_name:
            context.append(AssistantMessage(content=message.to_model_text(), source=message.source))
        else:
            model_message = message.to_model_message()
            context.append(UserMessage(content=model_message.content, source=message.source))
    return context
