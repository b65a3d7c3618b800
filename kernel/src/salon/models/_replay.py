"""A model client that replays scripted responses: the offline stand-in for tests, demos and docs."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from .._constants import EVENT_LOGGER_NAME
from ..logging import LLMCallEvent, LLMStreamEndEvent, LLMStreamStartEvent
from ._model_client import NO_EXTRA_ARGS, ChatCompletionClient
from ._model_info import ModelFamily, ModelInfo, validate_model_info
from ._types import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    RequestUsage,
    UserMessage,
)

if TYPE_CHECKING:
    from .._cancellation_token import CancellationToken
    from ..tools import Tool, ToolSchema

__all__ = ["ReplayChatCompletionClient"]

_event_logger = logging.getLogger(EVENT_LOGGER_NAME)
_logger = logging.getLogger(__name__)

_CHUNK = re.compile(r"\S+\s*|\s+")


class _WordCounter:
    """Counts whitespace-separated words, remembering the count of each text it has seen.

    A conversation grows by a message or two per call while every earlier message is re-sent, so a
    client that re-splits the whole prompt on every call does work quadratic in the conversation's
    length. Remembering counts per text makes a repeated message cost one dict lookup (the string's
    hash is cached by Python on the string object itself). The memory is bounded: the oldest entries
    are forgotten first.
    """

    __slots__ = ("_counts", "_max_entries")

    def __init__(self, max_entries: int = 8192) -> None:
        self._counts: dict[str, int] = {}
        self._max_entries = max_entries

    def text(self, text: str) -> int:
        counts = self._counts
        count = counts.get(text)
        if count is None:
            count = len(text.split())
            if len(counts) >= self._max_entries:
                del counts[next(iter(counts))]
            counts[text] = count
        return count

    def message(self, message: LLMMessage) -> int:
        content = message.content
        if isinstance(content, str):
            return self.text(content)
        total = 0
        if isinstance(message, AssistantMessage):
            for call in message.content:
                if isinstance(call, str):  # pragma: no cover - the model forbids it, kept for robustness
                    continue
                total += self.text(call.name) + self.text(call.arguments)
        elif isinstance(message, FunctionExecutionResultMessage):
            for result in message.content:
                total += self.text(result.content)
        elif isinstance(message, UserMessage):
            for part in message.content:
                if isinstance(part, str):
                    total += self.text(part)
        return total


def _tool_schema(tool: Tool | ToolSchema) -> Any:
    schema = getattr(tool, "schema", None)
    return schema if schema is not None else tool


class ReplayChatCompletionClient(ChatCompletionClient):
    """A :class:`ChatCompletionClient` that returns scripted responses in order.

    Each call to :meth:`create` or :meth:`create_stream` takes the next scripted response; when none are
    left it raises ``ValueError("No more mock responses available")``, and :meth:`reset` starts over.
    A response scripted as a string becomes a :class:`CreateResult` with ``finish_reason="stop"``; a
    response scripted as a :class:`CreateResult` (for tool calls, thoughts or exact usage) is returned as
    scripted.

    Tokens are whitespace-separated words, counted over every text a request carries (message texts,
    tool-call names and arguments, tool results, tool schemas), with per-text memoisation so that a
    long conversation does not make each call slower. Like AutoGen's replay client, results report
    ``cached=True`` unless :meth:`set_cached_bool_value` says otherwise (they are replays, after all).

    Differences from AutoGen's client, each deliberate: streamed chunks keep the text's own whitespace
    (``"".join(chunks) == result.content``); tool calls and results count towards tokens (AutoGen counts
    only string contents); :meth:`remaining_tokens` is ``token_limit - count_tokens(messages)``, so a
    :class:`~salon.model_context.TokenLimitedChatCompletionContext` can trim against it; a cancelled token
    raises :class:`asyncio.CancelledError` without using up a response; calls are logged as
    :class:`~salon.logging.LLMCallEvent` (and stream start/end events) like a real client's.

    Args:
        chat_completions: The responses, in the order calls receive them.
        model_info: What the pretend model can do; by default nothing beyond text (family ``unknown``).
        token_limit: The pretend context window, in words, used by :meth:`remaining_tokens`.

    Example::

        client = ReplayChatCompletionClient(["Hello!", "Goodbye."])
        result = await client.create([UserMessage(content="Hi", source="user")])
        assert result.content == "Hello!"
    """

    def __init__(
        self,
        chat_completions: Sequence[str | CreateResult],
        model_info: ModelInfo | None = None,
        *,
        token_limit: int = 10000,
    ) -> None:
        self.chat_completions: list[str | CreateResult] = list(chat_completions)
        self.provided_message_count = len(self.chat_completions)
        if model_info is None:
            model_info = ModelInfo(
                vision=False,
                function_calling=False,
                json_output=False,
                family=ModelFamily.UNKNOWN,
                structured_output=False,
            )
        else:
            validate_model_info(model_info)
        self._model_info = model_info
        self._total_available_tokens = token_limit
        self._cur_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._total_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._current_index = 0
        self._cached_bool_value = True
        self._create_calls: list[dict[str, Any]] = []
        self._counter = _WordCounter()
        self._warned_tool_choice = False

    @property
    def create_calls(self) -> list[dict[str, Any]]:
        """The arguments of every :meth:`create` call so far, oldest first (for assertions in tests)."""
        return self._create_calls

    # -- calls ----------------------------------------------------------------------------------------

    def _next_response(
        self,
        messages: Sequence[LLMMessage],
        tools: Sequence[Tool | ToolSchema],
        tool_choice: object,
        cancellation_token: CancellationToken | None,
    ) -> tuple[str | CreateResult, int]:
        """Check the call may proceed and return the scripted response with the prompt's token count."""
        if cancellation_token is not None and cancellation_token.is_cancelled():
            raise asyncio.CancelledError("the call's cancellation token was cancelled")
        if tool_choice != "auto" and not self._warned_tool_choice:
            self._warned_tool_choice = True
            _logger.warning("ReplayChatCompletionClient ignores tool_choice=%r: responses are scripted.", tool_choice)
        if self._current_index >= len(self.chat_completions):
            raise ValueError(
                f"No more mock responses available: all {len(self.chat_completions)} scripted responses "
                "were used. Script more responses, or call reset() to replay them from the start."
            )
        return self.chat_completions[self._current_index], self.count_tokens(messages, tools=tools)

    def _finish(self, usage: RequestUsage) -> None:
        self._cur_usage = usage
        self._total_usage.prompt_tokens += usage.prompt_tokens
        self._total_usage.completion_tokens += usage.completion_tokens
        self._current_index += 1

    def _as_result(self, response: str | CreateResult, prompt_tokens: int) -> tuple[CreateResult, RequestUsage]:
        if isinstance(response, str):
            usage = RequestUsage(prompt_tokens=prompt_tokens, completion_tokens=self._counter.text(response))
            result = CreateResult(finish_reason="stop", content=response, usage=usage, cached=self._cached_bool_value)
            return result, usage
        # A scripted result is returned as scripted (tests assert its exact usage); the client's own
        # counters use the measured prompt and the scripted completion, as AutoGen's do.
        return response.model_copy(), RequestUsage(prompt_tokens, response.usage.completion_tokens)

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = NO_EXTRA_ARGS,
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        """Return the next scripted response (see the class docstring)."""
        response, prompt_tokens = self._next_response(messages, tools, tool_choice, cancellation_token)
        result, usage = self._as_result(response, prompt_tokens)
        self._finish(usage)
        self._create_calls.append(
            {
                "messages": messages,
                "tools": tools,
                "json_output": json_output,
                "extra_create_args": extra_create_args,
                "cancellation_token": cancellation_token,
            }
        )
        if _event_logger.isEnabledFor(logging.INFO):
            _event_logger.info(
                LLMCallEvent(
                    messages=list(messages),
                    response=result,
                    prompt_tokens=usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens,
                )
            )
        return result

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = NO_EXTRA_ARGS,
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Stream the next scripted response.

        A string response is yielded word by word (each chunk keeps its trailing whitespace), then as the
        final :class:`CreateResult`. A scripted :class:`CreateResult` is yielded alone, as in AutoGen.
        Cancelling the token between chunks stops the stream with :class:`asyncio.CancelledError`; the
        response then stays unused.
        """
        response, prompt_tokens = self._next_response(messages, tools, tool_choice, cancellation_token)
        if _event_logger.isEnabledFor(logging.INFO):
            _event_logger.info(LLMStreamStartEvent(messages=list(messages)))
        result, usage = self._as_result(response, prompt_tokens)
        if isinstance(response, str):
            for chunk in _CHUNK.findall(response):
                if cancellation_token is not None and cancellation_token.is_cancelled():
                    raise asyncio.CancelledError("the call's cancellation token was cancelled")
                yield chunk
        if cancellation_token is not None and cancellation_token.is_cancelled():
            raise asyncio.CancelledError("the call's cancellation token was cancelled")
        self._finish(usage)
        if _event_logger.isEnabledFor(logging.INFO):
            _event_logger.info(
                LLMStreamEndEvent(
                    response=result, prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens
                )
            )
        yield result

    # -- bookkeeping ----------------------------------------------------------------------------------

    async def close(self) -> None:
        """Nothing to release."""

    def actual_usage(self) -> RequestUsage:
        """Usage of the most recent call."""
        return self._cur_usage

    def total_usage(self) -> RequestUsage:
        """Usage summed since construction or the last :meth:`reset`."""
        return self._total_usage

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()) -> int:
        """Count the words of every text in ``messages`` and in the tools' JSON schemas."""
        message = self._counter.message
        total = sum(message(m) for m in messages)
        for tool in tools:
            total += self._counter.text(json.dumps(_tool_schema(tool), sort_keys=True))
        return total

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()) -> int:
        """``token_limit`` minus :meth:`count_tokens`; negative when the request would not fit."""
        return self._total_available_tokens - self.count_tokens(messages, tools=tools)

    def set_cached_bool_value(self, value: bool) -> None:
        """Set the ``cached`` flag of the results made from string responses (``True`` by default)."""
        self._cached_bool_value = value

    def reset(self) -> None:
        """Start the script again from its first response and zero the usage counters."""
        self._cur_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._total_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._current_index = 0

    @property
    def model_info(self) -> ModelInfo:
        """What the pretend model can do."""
        return self._model_info
