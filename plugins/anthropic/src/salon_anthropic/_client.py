"""``AnthropicChatCompletionClient``: Claude through Anthropic's Messages API (the official ``anthropic`` SDK)."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from anthropic import AsyncAnthropic
from pydantic import BaseModel, SecretStr

from salon import EVENT_LOGGER_NAME, FunctionCall
from salon.logging import LLMCallEvent, LLMStreamEndEvent, LLMStreamStartEvent
from salon.models import (
    ChatCompletionClient,
    CreateResult,
    FinishReasons,
    LLMMessage,
    ModelInfo,
    RequestUsage,
    UserMessage,
    validate_model_info,
)

from ._convert import ThinkingMemory, to_anthropic_messages, to_anthropic_tool_choice, to_anthropic_tools, tool_names_in
from ._model_info import model_info_for, token_limit_for
from ._tokens import estimate_request_tokens

if TYPE_CHECKING:
    from salon import CancellationToken
    from salon.tools import Tool, ToolSchema

__all__ = ["AnthropicChatCompletionClient"]

_event_logger = logging.getLogger(EVENT_LOGGER_NAME)
_logger = logging.getLogger(__name__)

_NO_ARGS: Mapping[str, Any] = MappingProxyType({})
_FORBIDDEN_EXTRA = {"stream": "create_stream()", "messages": "the messages argument", "system": "SystemMessage"}
_STOP_REASONS: dict[str, FinishReasons] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "function_calls",
    "refusal": "content_filter",
}


def _keyword_parameters(function: Any) -> frozenset[str] | None:
    """The keyword arguments ``function`` takes, or ``None`` when it takes any (``**kwargs``)."""
    parameters = inspect.signature(function).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return frozenset(p.name for p in parameters)


def _strict_schema(schema: Any) -> Any:
    """``schema`` with ``additionalProperties: false`` on every object (structured outputs require it)."""
    if isinstance(schema, list):
        return [_strict_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict_schema(value) for key, value in schema.items()}
    if strict.get("type") == "object" and "additionalProperties" not in strict:
        strict["additionalProperties"] = False
    return strict


def _finish_reason(stop_reason: str | None) -> FinishReasons:
    return _STOP_REASONS.get(stop_reason or "", "unknown")


def _usage(usage: Any) -> RequestUsage:
    """Prompt tokens include prompt-cache reads and writes (they are prompt tokens too)."""
    prompt = (
        (getattr(usage, "input_tokens", 0) or 0)
        + (getattr(usage, "cache_creation_input_tokens", 0) or 0)
        + (getattr(usage, "cache_read_input_tokens", 0) or 0)
    )
    return RequestUsage(prompt_tokens=prompt, completion_tokens=getattr(usage, "output_tokens", 0) or 0)


def _arguments_text(tool_input: Any) -> str:
    return tool_input if isinstance(tool_input, str) else json.dumps(tool_input)


def _check_arguments(call: FunctionCall) -> None:
    try:
        json.loads(call.arguments)
    except ValueError:
        _logger.warning(
            "Claude sent arguments for tool %r (call %s) that are not valid JSON; they are passed on as the "
            "raw text, so running the call reports an invalid-arguments error: %r",
            call.name,
            call.id,
            call.arguments[:200],
        )


def _assemble(
    blocks: Sequence[dict[str, Any]], stop_reason: str | None, usage: RequestUsage, memory: ThinkingMemory
) -> CreateResult:
    """Build the result from the response's content blocks (dicts in the API's shape)."""
    texts = [block["text"] for block in blocks if block["type"] == "text"]
    thinking = [block.get("thinking", "") for block in blocks if block["type"] == "thinking"]
    calls = [
        FunctionCall(id=block["id"], arguments=_arguments_text(block["input"]), name=block["name"])
        for block in blocks
        if block["type"] == "tool_use"
    ]
    thinking_text = "".join(thinking) or None
    content: str | list[FunctionCall]
    if calls:
        for call in calls:
            _check_arguments(call)
        memory.remember(
            [call.id for call in calls], [b for b in blocks if b["type"] in ("thinking", "redacted_thinking")]
        )
        content = calls
        parts = [part for part in (thinking_text, "".join(texts)) if part]
        thought = "\n\n".join(parts) or None
    else:
        content = "".join(texts)
        thought = thinking_text
    return CreateResult(
        finish_reason=_finish_reason(stop_reason), content=content, usage=usage, cached=False, thought=thought
    )


class AnthropicChatCompletionClient(ChatCompletionClient):
    """Claude models through Anthropic's Messages API (the port of AutoGen's client of the same name).

    Args:
        model: The model name, e.g. ``"claude-sonnet-4-6"``.
        api_key: The API key; by default the ``ANTHROPIC_API_KEY`` environment variable.
        base_url: Another endpoint speaking the Messages API (a proxy, a gateway, a test server).
        max_tokens: Most tokens one answer may have (the API requires a value; default 4096).
        temperature: Sampling temperature (0 to 1); unset uses the API's default (1.0).
        top_p: Nucleus sampling.
        top_k: Top-k sampling.
        stop_sequences: Texts that end the answer.
        metadata: The request's ``metadata`` (``{"user_id": ...}``).
        thinking: Extended thinking, e.g. ``{"type": "enabled", "budget_tokens": 2048}``; the reasoning
            arrives in :attr:`CreateResult.thought <salon.models.CreateResult.thought>`.
        model_info: What the model can do; required for a model this client does not know.
        timeout: Seconds before a request is abandoned (per attempt); unset uses the SDK's (10 minutes).
        max_retries: Retries of rate-limited (429), overloaded (529) and failed (5xx) requests, with
            exponential backoff that honours ``retry-after``; unset uses the SDK's (2).
        default_headers: Headers sent with every request.

    System messages become the top-level ``system`` text, consecutive same-role messages are merged,
    tool results are sent as ``tool_result`` blocks in a user turn; see ``docs/plugins/anthropic.md``
    for the whole mapping and the deliberate differences from AutoGen's client.
    """

    _salon_component_: ClassVar[tuple[str, str]] = ("model_client", "anthropic")

    def __init__(
        self,
        *,
        model: str,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        max_tokens: int = 4096,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        stop_sequences: Sequence[str] | None = None,
        metadata: Mapping[str, str] | None = None,
        thinking: Mapping[str, Any] | None = None,
        model_info: ModelInfo | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        given_model_info = model_info
        if model_info is None:
            model_info = model_info_for(model)
        else:
            validate_model_info(model_info)
        if isinstance(api_key, SecretStr):
            api_key = api_key.get_secret_value()
        if api_key is None:
            api_key = os.environ.get("ANTHROPIC_API_KEY")
        if not api_key:
            raise ValueError(
                "No Anthropic API key: pass api_key=... or set the ANTHROPIC_API_KEY environment variable."
            )
        self._model = model
        self._model_info = model_info
        self._options: dict[str, Any] = {
            "model": model,
            "base_url": base_url,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "top_p": top_p,
            "top_k": top_k,
            "stop_sequences": list(stop_sequences) if stop_sequences is not None else None,
            "metadata": dict(metadata) if metadata is not None else None,
            "thinking": dict(thinking) if thinking is not None else None,
            "model_info": dict(given_model_info) if given_model_info is not None else None,
            "timeout": timeout,
            "max_retries": max_retries,
            "default_headers": dict(default_headers) if default_headers is not None else None,
        }
        self._create_args: dict[str, Any] = {"model": model, "max_tokens": max_tokens}
        for key in ("temperature", "top_p", "top_k", "stop_sequences", "metadata", "thinking"):
            if self._options[key] is not None:
                self._create_args[key] = self._options[key]
        sdk_args: dict[str, Any] = {"api_key": api_key}
        if base_url is not None:
            sdk_args["base_url"] = base_url
        if timeout is not None:
            sdk_args["timeout"] = timeout
        if max_retries is not None:
            sdk_args["max_retries"] = max_retries
        if default_headers is not None:
            sdk_args["default_headers"] = dict(default_headers)
        self._api_key = SecretStr(api_key)
        self._client = AsyncAnthropic(**sdk_args)
        self._sdk_params = _keyword_parameters(self._client.messages.create)
        self._closed = False
        self._thinking = ThinkingMemory()
        self._actual_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._total_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)

    def __repr__(self) -> str:
        return f"AnthropicChatCompletionClient(model={self._model!r})"

    def dump_options(self) -> dict[str, Any]:
        """The options this client was built with, for ``salon.dump_component`` (the key stays masked)."""
        options = {key: value for key, value in self._options.items() if value is not None}
        options["api_key"] = self._api_key
        return options

    # -- requests -------------------------------------------------------------------------------------

    def _request(
        self,
        messages: Sequence[LLMMessage],
        tools: Sequence[Tool | ToolSchema],
        tool_choice: Tool | Literal["auto", "required", "none"],
        json_output: bool | type[BaseModel] | None,
        extra_create_args: Mapping[str, Any],
    ) -> dict[str, Any]:
        info = self._model_info
        for key, instead in _FORBIDDEN_EXTRA.items():
            if key in extra_create_args:
                raise ValueError(f"extra_create_args may not set {key!r}; use {instead} instead.")
        if isinstance(json_output, type) and not info.get("structured_output"):
            raise ValueError(
                f"The model {self._model!r} has no structured output (model_info['structured_output'] is False): "
                "pass json_output=True and describe the JSON schema in the prompt, or use a tool with that schema."
            )
        if json_output is True and not info["json_output"]:
            raise ValueError(f"The model {self._model!r} has no JSON output (model_info['json_output'] is False).")
        if tools and not info["function_calling"]:
            raise ValueError(f"The model {self._model!r} cannot call tools (model_info['function_calling'] is False).")
        if not info["vision"] and any(
            isinstance(m, UserMessage)
            and not isinstance(m.content, str)
            and any(not isinstance(p, str) for p in m.content)
            for m in messages
        ):
            raise ValueError(f"The model {self._model!r} does not accept images (model_info['vision'] is False).")
        system, turns = to_anthropic_messages(messages, thinking=self._thinking)
        if not turns:
            raise ValueError(
                "Anthropic needs at least one user or assistant message with content; only system messages "
                "(or empty ones) were given."
            )
        request: dict[str, Any] = dict(self._create_args)
        request["messages"] = turns
        if system is not None:
            request["system"] = system
        definitions = to_anthropic_tools(tools)
        if definitions:
            request["tools"] = definitions
            request["tool_choice"] = to_anthropic_tool_choice(tool_choice, [d["name"] for d in definitions])
        else:
            if not isinstance(tool_choice, str):
                to_anthropic_tool_choice(tool_choice, [])  # raises: a forced tool that was not given
            called = tool_names_in(turns)
            if called:
                # The API refuses a history with tool_use blocks unless tools are defined; define the
                # called ones minimally and forbid new calls (the caller offered no tools this time).
                request["tools"] = [{"name": name, "input_schema": {"type": "object"}} for name in called]
                request["tool_choice"] = {"type": "none"}
        request.update(extra_create_args)
        if isinstance(json_output, type):
            schema = _strict_schema(json_output.model_json_schema())
            output_config = dict(request.get("output_config") or {})
            output_config["format"] = {"type": "json_schema", "schema": schema}
            request["output_config"] = output_config
        return request

    def _sdk_kwargs(self, request: dict[str, Any]) -> dict[str, Any]:
        """``request`` as SDK keyword arguments: fields this SDK version does not name go in ``extra_body``.

        SDK releases add and drop request fields (newer ones dropped ``temperature``); the wire format is
        what matters, so unknown fields still reach the API.
        """
        if self._sdk_params is None:
            return request
        kwargs = {key: value for key, value in request.items() if key in self._sdk_params}
        extra = {key: value for key, value in request.items() if key not in self._sdk_params}
        if extra:
            kwargs["extra_body"] = {**extra, **(request.get("extra_body") or {})}
        return kwargs

    async def _within_token(self, awaitable: Any, token: CancellationToken | None) -> Any:
        future = asyncio.ensure_future(awaitable)
        if token is not None:
            token.link_future(future)
        return await future

    def _finish(self, usage: RequestUsage) -> None:
        self._actual_usage = usage
        self._total_usage = RequestUsage(
            prompt_tokens=self._total_usage.prompt_tokens + usage.prompt_tokens,
            completion_tokens=self._total_usage.completion_tokens + usage.completion_tokens,
        )

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = _NO_ARGS,
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        """Send one request and return Claude's whole answer (see the class docstring)."""
        request = self._request(messages, tools, tool_choice, json_output, extra_create_args)
        if cancellation_token is not None and cancellation_token.is_cancelled():
            raise asyncio.CancelledError("the call's cancellation token was cancelled")
        response = await self._within_token(
            self._client.messages.create(**self._sdk_kwargs(request)), cancellation_token
        )
        blocks = [block.model_dump(mode="json", exclude_none=True, warnings=False) for block in response.content]
        usage = _usage(response.usage)
        result = _assemble(blocks, response.stop_reason, usage, self._thinking)
        self._finish(usage)
        if _event_logger.isEnabledFor(logging.INFO):
            _event_logger.info(
                LLMCallEvent(
                    messages=request["messages"],
                    response=response.model_dump(mode="json", exclude_none=True, warnings=False),
                    prompt_tokens=usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens,
                    tools=request.get("tools"),
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
        extra_create_args: Mapping[str, Any] = _NO_ARGS,
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Stream Claude's answer: its text as it arrives, then one :class:`CreateResult` with real usage.

        Thinking is not streamed as text chunks (the chunks join into the answer's text); it is in the
        final result's ``thought``. Cancelling the token stops the stream with ``CancelledError``.
        """
        request = self._request(messages, tools, tool_choice, json_output, extra_create_args)
        request["stream"] = True
        if cancellation_token is not None and cancellation_token.is_cancelled():
            raise asyncio.CancelledError("the call's cancellation token was cancelled")
        if _event_logger.isEnabledFor(logging.INFO):
            _event_logger.info(LLMStreamStartEvent(messages=request["messages"], tools=request.get("tools")))
        stream = await self._within_token(self._client.messages.create(**self._sdk_kwargs(request)), cancellation_token)
        blocks: dict[int, dict[str, Any]] = {}
        partial_json: dict[int, list[str]] = {}
        stop_reason: str | None = None
        usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
        events: AsyncIterator[Any] = stream.__aiter__()
        try:
            while True:
                try:
                    event = await self._within_token(events.__anext__(), cancellation_token)
                except StopAsyncIteration:
                    break
                if cancellation_token is not None and cancellation_token.is_cancelled():
                    raise asyncio.CancelledError("the call's cancellation token was cancelled")
                kind = event.type
                if kind == "message_start":
                    usage = _usage(event.message.usage)
                elif kind == "content_block_start":
                    block = event.content_block.model_dump(mode="json", exclude_none=True, warnings=False)
                    blocks[event.index] = block
                    if block["type"] == "tool_use":
                        partial_json[event.index] = []
                elif kind == "content_block_delta":
                    block = blocks.setdefault(event.index, {"type": "text", "text": ""})
                    delta = event.delta
                    if delta.type == "text_delta":
                        block["text"] = block.get("text", "") + delta.text
                        if delta.text:
                            yield delta.text
                    elif delta.type == "thinking_delta":
                        block["thinking"] = block.get("thinking", "") + delta.thinking
                    elif delta.type == "signature_delta":
                        block["signature"] = delta.signature
                    elif delta.type == "input_json_delta":
                        partial_json.setdefault(event.index, []).append(delta.partial_json)
                elif kind == "message_delta":
                    stop_reason = event.delta.stop_reason or stop_reason
                    delta_usage = _usage(event.usage)
                    usage = RequestUsage(
                        prompt_tokens=delta_usage.prompt_tokens or usage.prompt_tokens,
                        completion_tokens=delta_usage.completion_tokens or usage.completion_tokens,
                    )
        finally:
            await stream.close()
        for index, pieces in partial_json.items():
            text = "".join(pieces)
            blocks[index]["input"] = text if text.strip() else blocks[index].get("input") or {}
        ordered = [blocks[index] for index in sorted(blocks)]
        result = _assemble(ordered, stop_reason, usage, self._thinking)
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
        """Close the SDK's HTTP connections; calling it again does nothing."""
        if not self._closed:
            self._closed = True
            await self._client.close()

    def actual_usage(self) -> RequestUsage:
        """Usage of the most recent call."""
        return self._actual_usage

    def total_usage(self) -> RequestUsage:
        """Usage summed over every call of this client."""
        return self._total_usage

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()) -> int:
        """Estimate the prompt tokens offline (see ``salon_anthropic._tokens`` for the method and accuracy)."""
        system, turns = to_anthropic_messages(messages, thinking=self._thinking)
        return estimate_request_tokens(system, turns, to_anthropic_tools(tools))

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()) -> int:
        """The model's context window minus :meth:`count_tokens` (negative when over)."""
        return token_limit_for(self._model) - self.count_tokens(messages, tools=tools)

    @property
    def model_info(self) -> ModelInfo:
        """What the model can do."""
        return self._model_info
