"""Response reading: the fields of OpenAI's answers (and of the servers that copy its API) mapped to Salon's.

Both a complete response and a stream need the same mappings: finish reasons (servers spell them
differently), the reasoning some servers add in non-standard fields, log-probabilities, and the
``<think>`` block R1-family models write inline. They live here so both paths read answers alike.
"""

from __future__ import annotations

import re
from typing import Any

from salon.models import ChatCompletionTokenLogprob, FinishReasons, ModelFamily, TopLogprob

__all__ = ["convert_logprobs", "extra_text", "split_thought", "to_finish_reason"]

_THINK = re.compile(r"^\s*<think>(.*?)</think>\s*", re.DOTALL)


def to_finish_reason(reason: str | None) -> FinishReasons:
    """The Salon finish reason for a server's ``finish_reason`` (``"unknown"`` for one Salon does not know)."""
    if reason in ("stop", "length", "content_filter"):
        return reason  # type: ignore[return-value]
    if reason in ("tool_calls", "function_call"):
        return "function_calls"
    if reason in ("end_turn", "eos"):
        return "stop"
    if reason in ("max_tokens",):
        return "length"
    return "unknown"


def extra_text(obj: Any, *names: str) -> str | None:
    """A non-standard string field some servers add (``reasoning_content``, ``reasoning``)."""
    extra = getattr(obj, "model_extra", None) or {}
    for name in names:
        value = extra.get(name)
        if value is None:
            value = getattr(obj, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def convert_logprobs(choice: Any) -> list[ChatCompletionTokenLogprob] | None:
    """The log-probabilities of a choice (or a streamed delta's choice), or ``None`` when it has none."""
    logprobs = getattr(choice, "logprobs", None)
    content = getattr(logprobs, "content", None) if logprobs is not None else None
    if not content:
        return None
    return [
        ChatCompletionTokenLogprob(
            token=item.token,
            logprob=item.logprob,
            top_logprobs=[TopLogprob(logprob=top.logprob, bytes=top.bytes) for top in item.top_logprobs or []],
            bytes=item.bytes,
        )
        for item in content
    ]


def split_thought(content: str, thought: str | None, family: str) -> tuple[str, str | None]:
    """Reasoning an R1-family model wrote inline as ``<think>...</think>`` becomes the thought (as in AutoGen)."""
    if thought is None and family == ModelFamily.R1 and "<think>" in content:
        match = _THINK.match(content)
        if match:
            return content[match.end() :], match.group(1).strip()
    return content, thought
