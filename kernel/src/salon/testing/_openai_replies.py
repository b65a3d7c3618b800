"""What a test scripts into :class:`~salon.testing.OpenAIChatServer` and what it reads back from it.

The replies (text, tool calls, HTTP errors) and the record of a received request are the server's
vocabulary, shared by the server (which queues and records them) and its request handler (which turns
them into OpenAI's wire format); they live apart from both so that a test can read them on one screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from salon import FunctionCall
from salon.models import RequestUsage

__all__ = [
    "OpenAIErrorReply",
    "OpenAIRequest",
    "OpenAIServerReply",
    "OpenAITextReply",
    "OpenAIToolCallsReply",
    "normalize_reply",
]


@dataclass
class OpenAITextReply:
    """A text answer.

    Attributes:
        content: The text (``None`` sends ``"content": null``).
        reasoning: Reasoning text, sent as the message's ``reasoning_content`` (as DeepSeek, vLLM and
            llama.cpp servers do).
        finish_reason: The choice's ``finish_reason``.
        usage: The usage to report; by default words are counted.
        delay: Seconds to wait before answering (for timeout tests).
        chunk_delay: Seconds to wait between streamed chunks.
        model: The ``model`` field of the response; by default the request's.
    """

    content: str | None
    reasoning: str | None = None
    finish_reason: str = "stop"
    usage: RequestUsage | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    model: str | None = None


@dataclass
class OpenAIToolCallsReply:
    """Tool calls, optionally with text beside them.

    The ``arguments`` of each call are sent exactly as given, so a malformed JSON string reaches the
    client as a model would send it.

    Attributes:
        calls: The calls, in order (``id``, ``name``, ``arguments``).
        content: Text sent alongside the calls, if any.
        finish_reason: The choice's ``finish_reason`` (some servers say ``"stop"`` here).
        usage: The usage to report; by default counted.
        delay: Seconds to wait before answering.
        chunk_delay: Seconds to wait between streamed chunks.
    """

    calls: Sequence[FunctionCall]
    content: str | None = None
    finish_reason: str = "tool_calls"
    usage: RequestUsage | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0


@dataclass
class OpenAIErrorReply:
    """An HTTP error in OpenAI's error format (``{"error": {"message", "type", "code", "param"}}``).

    Attributes:
        status: The HTTP status: 429, 500, 503, 400, 401, ...
        message: The error's message.
        retry_after: Seconds sent as ``Retry-After`` (``None`` sends no such header).
        type: The error's ``type``; by default derived from the status.
        code: The error's ``code``.
        delay: Seconds to wait before answering.
    """

    status: int
    message: str = ""
    retry_after: float | None = None
    type: str | None = None
    code: str | None = None
    delay: float = 0.0


OpenAIServerReply: TypeAlias = str | Sequence[FunctionCall] | OpenAITextReply | OpenAIToolCallsReply | OpenAIErrorReply
"""One scripted reply: a text, tool calls, or one of the reply classes for more control."""


@dataclass(frozen=True)
class OpenAIRequest:
    """One request the server received.

    Attributes:
        method: ``"GET"`` or ``"POST"``.
        path: The path, without the query string.
        query: The query string (Azure clients send ``api-version`` there).
        headers: The request headers (names lower-cased).
        json: The decoded JSON body, or ``None``.
    """

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    json: Any


def normalize_reply(reply: OpenAIServerReply) -> OpenAITextReply | OpenAIToolCallsReply | OpenAIErrorReply:
    """The reply object for a scripted reply given as a text or as a list of calls."""
    if isinstance(reply, str):
        return OpenAITextReply(reply)
    if isinstance(reply, OpenAITextReply | OpenAIToolCallsReply | OpenAIErrorReply):
        return reply
    calls = list(reply)
    if not all(isinstance(call, FunctionCall) for call in calls):
        raise TypeError(f"a scripted reply must be a str, a list of FunctionCall or a reply object, got {reply!r}")
    return OpenAIToolCallsReply(calls)
