"""Offline token estimates for Claude requests.

Anthropic does not publish Claude's tokenizer; the exact count needs a network call (the API's
``count_tokens`` endpoint). Offline, Salon estimates from the text's shape, the way English prose and
code tokenize (most common words are one token, punctuation is separate, long words split):

- a run of ASCII letters counts one token per 6 letters (rounded up), a run of digits one per 3 digits;
- every other visible ASCII character (punctuation, brackets, operators) is one token, and every
  non-ASCII character is one token (accented and CJK text tokenizes densely);
- each message adds 4 tokens (role markers), the system prompt 4, each tool definition 10 plus its
  JSON text, and a request with tools the ~350-token tool-use preamble Anthropic documents;
- an image counts 1,600 tokens, Anthropic's figure for an image near its size limit.

Accuracy: an estimate, typically within about 25% of the API's count for English prose and code; text
in other scripts, long identifiers and encoded data (base64) are less accurate (non-Latin scripts are
usually over-estimated, random strings under-estimated). Use the API's ``count_tokens`` endpoint where an
exact figure matters.
The estimate grows with every character added, so a longer conversation never counts as fewer tokens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

__all__ = ["estimate_request_tokens", "estimate_text_tokens"]

_PIECES = re.compile(r"[A-Za-z]+|[0-9]+|[^\sA-Za-z0-9]")
_MESSAGE_OVERHEAD = 4
_SYSTEM_OVERHEAD = 4
_TOOL_OVERHEAD = 10
_TOOL_PREAMBLE = 346
_IMAGE_TOKENS = 1600


@lru_cache(maxsize=8192)
def estimate_text_tokens(text: str) -> int:
    """Estimated tokens of one text (memoised, so a re-sent conversation is cheap to count)."""
    total = 0
    for piece in _PIECES.findall(text):
        first = piece[0]
        if first.isascii() and first.isalpha():
            total += -(-len(piece) // 6)
        elif first.isdigit() and first.isascii():
            total += -(-len(piece) // 3)
        else:
            total += 1
    return total


def _block_tokens(block: dict[str, Any]) -> int:
    kind = block.get("type")
    if kind == "text":
        return estimate_text_tokens(block["text"])
    if kind == "image":
        return _IMAGE_TOKENS
    if kind == "tool_use":
        return 4 + estimate_text_tokens(block["name"]) + estimate_text_tokens(json.dumps(block["input"]))
    if kind == "tool_result":
        return 4 + estimate_text_tokens(str(block.get("content", "")))
    if kind == "thinking":
        return estimate_text_tokens(block.get("thinking", ""))
    return 0


def estimate_request_tokens(
    system: str | None, turns: Sequence[dict[str, Any]], tools: Sequence[dict[str, Any]]
) -> int:
    """Estimated input tokens of a request already mapped to Anthropic's shape (see the module docstring)."""
    total = 0
    if system:
        total += _SYSTEM_OVERHEAD + estimate_text_tokens(system)
    for turn in turns:
        total += _MESSAGE_OVERHEAD + sum(_block_tokens(block) for block in turn["content"])
    if tools:
        total += _TOOL_PREAMBLE
        for tool in tools:
            total += _TOOL_OVERHEAD + estimate_text_tokens(json.dumps(tool, sort_keys=True))
    return total
