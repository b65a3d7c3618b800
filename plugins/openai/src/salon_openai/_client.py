"""The chat-completions clients: :class:`OpenAIChatCompletionClient`, :class:`AzureOpenAIChatCompletionClient`.

Both speak OpenAI's chat-completions API through the official ``openai`` SDK, so they work with OpenAI,
Azure OpenAI, and every server that copies the API (Gemini's OpenAI-compatible endpoint, Ollama,
llama.cpp's server, vLLM, ...). Retries (429 and 5xx, honouring ``Retry-After``) and timeouts are the
SDK's; the errors it raises keep their types and gain a note saying what Salon tried.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import re
import warnings
from collections.abc import AsyncGenerator, Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, SecretStr

from salon import EVENT_LOGGER_NAME, CancellationToken, FunctionCall
from salon.logging import LLMCallEvent, LLMStreamEndEvent, LLMStreamStartEvent
from salon.models import (
    ChatCompletionClient,
    ChatCompletionTokenLogprob,
    CreateResult,
    FinishReasons,
    LLMMessage,
    ModelCapabilities,
    ModelFamily,
    ModelInfo,
    RequestUsage,
    TopLogprob,
    validate_model_info,
)
from salon.tools import Tool, ToolSchema

from . import _model_info
from ._messages import to_openai_messages, tool_param
from ._tokens import TokenCounter

if TYPE_CHECKING:
    from openai import AsyncAzureOpenAI, AsyncOpenAI, AsyncStream
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

__all__ = ["AzureOpenAIChatCompletionClient", "BaseOpenAIChatCompletionClient", "OpenAIChatCompletionClient"]

_event_logger = logging.getLogger(EVENT_LOGGER_NAME)
_logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Request arguments a client sets itself; ``extra_create_args`` may not set them.
_RESERVED_ARGS = frozenset({"messages", "stream", "n", "functions", "function_call"})

#: Request arguments the constructors accept and send with every call (AutoGen's create-args options).
_CREATE_OPTIONS = (
    "frequency_penalty",
    "logit_bias",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "response_format",
    "seed",
    "stop",
    "temperature",
    "top_p",
    "user",
    "parallel_tool_calls",
    "reasoning_effort",
    "stream_options",
    "logprobs",
    "top_logprobs",
    "metadata",
    "service_tier",
    "store",
    "extra_body",
    "extra_headers",
    "extra_query",
)

_DEFAULT_TOKEN_LIMIT = 128_000
_THINK = re.compile(r"^\s*<think>(.*?)</think>\s*", re.DOTALL)


def _allowed_create_args() -> frozenset[str]:
    """Every keyword ``chat.completions.create`` takes (read from the installed SDK), less the reserved ones."""
    from openai.resources.chat.completions import AsyncCompletions

    names = set(inspect.signature(AsyncCompletions.create).parameters) - {"self"}
    return frozenset(names - _RESERVED_ARGS)


def _finish_reason(reason: str | None) -> FinishReasons:
    if reason in ("stop", "length", "content_filter"):
        return reason  # type: ignore[return-value]
    if reason in ("tool_calls", "function_call"):
        return "function_calls"
    if reason in ("end_turn", "eos"):
        return "stop"
    if reason in ("max_tokens",):
        return "length"
    return "unknown"


def _extra(obj: Any, *names: str) -> str | None:
    """A non-standard string field some servers add (``reasoning_content``, ``reasoning``)."""
    extra = getattr(obj, "model_extra", None) or {}
    for name in names:
        value = extra.get(name)
        if value is None:
            value = getattr(obj, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def _response_format_for(model: type[BaseModel]) -> dict[str, Any]:
    """A ``json_schema`` response format that constrains the model to ``model``'s strict JSON Schema."""
    from openai import pydantic_function_tool

    # The SDK's public helper builds the strict form of the schema (every object closed, all keys required).
    strict_schema = pydantic_function_tool(model)["function"].get("parameters", {})
    return {
        "type": "json_schema",
        "json_schema": {"name": model.__name__, "schema": dict(strict_schema), "strict": True},
    }


def _convert_logprobs(choice: Any) -> list[ChatCompletionTokenLogprob] | None:
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


class _Request:
    """One prepared request: the SDK's keyword arguments and the messages as sent (for events)."""

    __slots__ = ("args", "messages", "tools")

    def __init__(self, args: dict[str, Any], messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> None:
        self.args = args
        self.messages = messages
        self.tools = tools


class BaseOpenAIChatCompletionClient(ChatCompletionClient):
    """What the OpenAI and Azure OpenAI clients share: requests, responses, streaming, usage, tokens.

    Not constructed directly: use :class:`OpenAIChatCompletionClient` or :class:`AzureOpenAIChatCompletionClient`.
    """

    _salon_component_: ClassVar[tuple[str, str]]

    def __init__(
        self,
        client: AsyncOpenAI | AsyncAzureOpenAI,
        *,
        create_args: Mapping[str, Any],
        model_info: ModelInfo | None = None,
        model_capabilities: ModelCapabilities | None = None,
        add_name_prefixes: bool = False,
        include_name_in_message: bool = True,
        token_limit: int | None = None,
        raw_config: Mapping[str, Any] | None = None,
    ) -> None:
        self._client = client
        model = create_args.get("model")
        if not isinstance(model, str) or not model:
            raise ValueError("model is required: the name of the model to call, e.g. model='gpt-4o-mini'.")
        if model_info is None and model_capabilities is not None:
            warnings.warn("model_capabilities is deprecated; pass model_info.", DeprecationWarning, stacklevel=3)
            model_info = ModelInfo(
                vision=model_capabilities["vision"],
                function_calling=model_capabilities["function_calling"],
                json_output=model_capabilities["json_output"],
                family=ModelFamily.UNKNOWN,
                structured_output=False,
            )
        if model_info is None:
            model_info = _model_info.get_info(model)
        else:
            validate_model_info(model_info)
        self._model_info: ModelInfo = model_info
        self._create_args: dict[str, Any] = dict(create_args)
        self._add_name_prefixes = add_name_prefixes
        self._include_name_in_message = include_name_in_message
        self._token_limit = token_limit or _model_info.get_token_limit(model) or _DEFAULT_TOKEN_LIMIT
        self._tokens = TokenCounter(_model_info.encoding_name(str(model_info["family"])))
        self._raw_config: dict[str, Any] = dict(raw_config or {})
        self._actual_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._total_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._allowed_args: frozenset[str] | None = None
        self._closed = False

    # -- requests ------------------------------------------------------------------------------------

    def _prepare(
        self,
        messages: Sequence[LLMMessage],
        tools: Sequence[Tool | ToolSchema],
        tool_choice: Tool | Literal["auto", "required", "none"],
        json_output: bool | type[BaseModel] | None,
        extra_create_args: Mapping[str, Any],
    ) -> _Request:
        if self._allowed_args is None:
            self._allowed_args = _allowed_create_args()
        unknown = sorted(set(extra_create_args) - self._allowed_args)
        if unknown:
            reserved = [name for name in unknown if name in _RESERVED_ARGS]
            hint = (
                f"{', '.join(reserved)} {'is' if len(reserved) == 1 else 'are'} set by the client itself"
                if reserved
                else "send provider-specific fields through extra_create_args={'extra_body': {...}}"
            )
            raise ValueError(
                f"extra_create_args has arguments chat.completions.create does not take: {unknown}; {hint}."
            )
        args = {**self._create_args, **extra_create_args}
        info = self._model_info

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
            include_name_in_message=self._include_name_in_message,
            add_name_prefixes=self._add_name_prefixes,
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
        return _Request(args, oai_messages, oai_tools)

    async def _linked(self, awaitable: Awaitable[T], cancellation_token: CancellationToken | None) -> T:
        """Await ``awaitable``, cancelled when the token is; SDK errors get a note saying what was tried."""
        try:
            if cancellation_token is None:
                return await awaitable
            task = asyncio.ensure_future(awaitable)
            cancellation_token.link_future(task)
            return await task
        except Exception as error:
            self._annotate(error)
            raise

    def _annotate(self, error: BaseException) -> None:
        import openai

        client = self._client
        attempts = f"{client.max_retries + 1} attempt(s) (max_retries={client.max_retries})"
        if isinstance(error, openai.APITimeoutError):
            error.add_note(
                f"salon_openai: {self.model!r} did not answer within the timeout ({client.timeout}) in {attempts}; "
                "raise the client's timeout or max_retries."
            )
        elif isinstance(error, openai.APIConnectionError):
            error.add_note(f"salon_openai: could not reach {client.base_url} in {attempts}; is the server running?")
        elif isinstance(error, openai.APIStatusError):
            if error.status_code == 429 or error.status_code >= 500:
                error.add_note(
                    f"salon_openai: {client.base_url} answered HTTP {error.status_code} to every one of {attempts}; "
                    "wait and try again, or raise max_retries."
                )
            elif error.status_code in (401, 403):
                error.add_note("salon_openai: check api_key (or the OPENAI_API_KEY / AZURE_OPENAI_API_KEY variable).")
            elif error.status_code == 404:
                error.add_note(f"salon_openai: is {self.model!r} served at {client.base_url}?")

    @staticmethod
    def _check_token(cancellation_token: CancellationToken | None) -> None:
        if cancellation_token is not None and cancellation_token.is_cancelled():
            raise asyncio.CancelledError("the call's cancellation token was cancelled")

    def _finish(self, usage: RequestUsage) -> None:
        self._actual_usage = usage
        self._total_usage = RequestUsage(
            prompt_tokens=self._total_usage.prompt_tokens + usage.prompt_tokens,
            completion_tokens=self._total_usage.completion_tokens + usage.completion_tokens,
        )

    def _estimated_usage(self, messages: Sequence[LLMMessage], tools: Sequence[Any], result_text: str) -> RequestUsage:
        """The usage counted offline, for servers that report none."""
        schemas = [tool_param(tool)["function"] for tool in tools]
        return RequestUsage(
            prompt_tokens=self._tokens.prompt(messages, schemas),
            completion_tokens=self._tokens.text(result_text) if result_text else 0,
        )

    def _split_thought(self, content: str, thought: str | None) -> tuple[str, str | None]:
        """Reasoning an R1-family model wrote inline as ``<think>...</think>`` becomes the thought (as in AutoGen)."""
        if thought is None and self._model_info["family"] == ModelFamily.R1 and "<think>" in content:
            match = _THINK.match(content)
            if match:
                return content[match.end() :], match.group(1).strip()
        return content, thought

    # -- create ---------------------------------------------------------------------------------------

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        """Ask the model for one complete response (see :meth:`salon.models.ChatCompletionClient.create`).

        Tool calls come back as ``list[FunctionCall]`` with their arguments exactly as the model wrote them,
        even when that is not valid JSON: the agent running the tool reports that to the model as an error
        result. Text the model wrote beside tool calls, and reasoning a server reports
        (``reasoning_content``, ``<think>`` blocks), become :attr:`CreateResult.thought`.
        """
        self._check_token(cancellation_token)
        request = self._prepare(messages, tools, tool_choice, json_output, extra_create_args)
        send: Any = self._client.chat.completions.create  # the request is built as plain dicts
        completion: ChatCompletion = await self._linked(
            send(messages=request.messages, stream=False, **request.args), cancellation_token
        )
        if not completion.choices:
            raise RuntimeError(f"{self.model!r} returned a response without choices: {completion!r}")
        choice = completion.choices[0]
        message = choice.message
        thought = _extra(message, "reasoning_content", "reasoning")
        content: str | list[FunctionCall]
        tool_calls: list[Any] = [c for c in message.tool_calls or [] if getattr(c, "function", None) is not None]
        if tool_calls:
            content = [
                FunctionCall(id=call.id or "", arguments=call.function.arguments or "", name=call.function.name)
                for call in tool_calls
            ]
            finish_reason: FinishReasons = "function_calls"
            if message.content:
                thought = f"{thought}\n{message.content}" if thought else message.content
            text_for_count = "".join(call.name + call.arguments for call in content)
        else:
            content, thought = self._split_thought(message.content or "", thought)
            finish_reason = _finish_reason(choice.finish_reason)
            text_for_count = content
        if completion.usage is not None:
            usage = RequestUsage(
                prompt_tokens=completion.usage.prompt_tokens or 0,
                completion_tokens=completion.usage.completion_tokens or 0,
            )
        else:
            usage = self._estimated_usage(messages, tools, text_for_count)
        result = CreateResult(
            finish_reason=finish_reason,
            content=content,
            usage=usage,
            cached=False,
            logprobs=_convert_logprobs(choice),
            thought=thought,
        )
        self._finish(usage)
        if _event_logger.isEnabledFor(logging.INFO):
            _event_logger.info(
                LLMCallEvent(
                    messages=request.messages,
                    response=completion.model_dump(mode="json"),
                    prompt_tokens=usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens,
                    tools=request.tools,
                )
            )
        return result

    # -- streaming ------------------------------------------------------------------------------------

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
        include_usage: bool | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Stream the response: text chunks, then exactly one final :class:`CreateResult`.

        Usage is real: the request asks for it (``stream_options={"include_usage": True}``) unless
        ``include_usage=False`` is passed or ``stream_options`` is set otherwise; a server that reports no
        usage anyway gets it counted offline. Tool-call deltas are assembled into ``list[FunctionCall]``
        and are not yielded as text. Cancelling the token stops the stream with
        :class:`asyncio.CancelledError` and closes the connection.
        """
        self._check_token(cancellation_token)
        request = self._prepare(messages, tools, tool_choice, json_output, extra_create_args)
        stream_options = dict(request.args.get("stream_options") or {})
        if include_usage is not None:
            if "include_usage" in stream_options and stream_options["include_usage"] != include_usage:
                raise ValueError("include_usage and stream_options['include_usage'] disagree; set one of them.")
            stream_options["include_usage"] = include_usage
        stream_options.setdefault("include_usage", True)
        request.args["stream_options"] = stream_options
        if _event_logger.isEnabledFor(logging.INFO):
            _event_logger.info(LLMStreamStartEvent(messages=request.messages, tools=request.tools))
        send: Any = self._client.chat.completions.create
        stream: AsyncStream[ChatCompletionChunk] = await self._linked(
            send(messages=request.messages, stream=True, **request.args), cancellation_token
        )
        text: list[str] = []
        reasoning: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        finish: str | None = None
        usage_reported: Any = None
        logprobs: list[ChatCompletionTokenLogprob] = []
        iterator = stream.__aiter__()
        try:
            while True:
                self._check_token(cancellation_token)
                try:
                    chunk = await self._linked(iterator.__anext__(), cancellation_token)
                except StopAsyncIteration:
                    break
                if chunk.usage is not None:
                    usage_reported = chunk.usage
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                if choice.finish_reason is not None:
                    finish = choice.finish_reason
                delta = choice.delta
                chunk_logprobs = _convert_logprobs(choice)
                if chunk_logprobs:
                    logprobs.extend(chunk_logprobs)
                thought_piece = _extra(delta, "reasoning_content", "reasoning")
                if thought_piece:
                    reasoning.append(thought_piece)
                if delta.content:
                    text.append(delta.content)
                    yield delta.content
                for call in delta.tool_calls or []:
                    entry = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                    if call.id:
                        entry["id"] = call.id
                    if call.function is not None:
                        if call.function.name:
                            entry["name"] += call.function.name
                        if call.function.arguments:
                            entry["arguments"] += call.function.arguments
            self._check_token(cancellation_token)
        finally:
            await stream.close()

        thought = "".join(reasoning) or None
        content: str | list[FunctionCall]
        if calls:
            content = [
                FunctionCall(id=c["id"], arguments=c["arguments"], name=c["name"]) for _, c in sorted(calls.items())
            ]
            finish_reason: FinishReasons = "function_calls"
            if text:
                joined = "".join(text)
                thought = f"{thought}\n{joined}" if thought else joined
            text_for_count = "".join(call.name + call.arguments for call in content)
        else:
            content, thought = self._split_thought("".join(text), thought)
            finish_reason = _finish_reason(finish)
            text_for_count = content
        if usage_reported is not None:
            usage = RequestUsage(
                prompt_tokens=usage_reported.prompt_tokens or 0,
                completion_tokens=usage_reported.completion_tokens or 0,
            )
        else:
            usage = self._estimated_usage(messages, tools, text_for_count)
        result = CreateResult(
            finish_reason=finish_reason,
            content=content,
            usage=usage,
            cached=False,
            logprobs=logprobs or None,
            thought=thought,
        )
        self._finish(usage)
        if _event_logger.isEnabledFor(logging.INFO):
            _event_logger.info(
                LLMStreamEndEvent(
                    response=result, prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens
                )
            )
        yield result

    # -- bookkeeping ----------------------------------------------------------------------------------

    @property
    def model(self) -> str:
        """The model name requests are sent with."""
        return str(self._create_args["model"])

    async def close(self) -> None:
        """Close the SDK client's connections; calling it again does nothing."""
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
        """Count the prompt tokens offline (see ``docs/plugins/openai.md`` for the accuracy)."""
        schemas = [tool_param(tool)["function"] for tool in tools]
        return self._tokens.prompt(messages, schemas)

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()) -> int:
        """The model's context window (``token_limit``) minus :meth:`count_tokens`."""
        return self._token_limit - self.count_tokens(messages, tools=tools)

    @property
    def model_info(self) -> ModelInfo:
        """What the model can do."""
        return self._model_info

    def dump_options(self) -> dict[str, Any]:
        """The options this client was made with, as config data (the API key as a ``SecretStr``: masked)."""
        return dict(self._raw_config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"

    def __getstate__(self) -> Any:
        raise TypeError(f"{type(self).__name__} cannot be pickled; rebuild it from dump_options() or a config.")


def _secret(value: str | SecretStr | None) -> str | None:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _split_options(
    options: Mapping[str, Any], create_args: dict[str, Any], raw: dict[str, Any], client_kwargs: dict[str, Any]
) -> None:
    for name, value in options.items():
        if value is None:
            continue
        raw[name] = value
        create_args[name] = value
    for name in ("timeout", "max_retries", "default_headers", "organization", "project"):
        value = client_kwargs.get(name)
        if value is not None:
            raw[name] = value
    if isinstance(create_args.get("response_format"), type):
        raw.pop("response_format", None)


class OpenAIChatCompletionClient(BaseOpenAIChatCompletionClient):
    r"""A chat model behind OpenAI's chat-completions API: OpenAI itself or any compatible server.

    The port of ``autogen_ext.models.openai.OpenAIChatCompletionClient``; the same keyword options::

        client = OpenAIChatCompletionClient(model="gpt-4o-mini")  # api_key from OPENAI_API_KEY
        local = OpenAIChatCompletionClient(
            model="llama3.2",
            base_url="http://localhost:11434/v1",
            api_key="ollama",
            model_info={"vision": False, "function_calling": True, "json_output": True,
                        "family": "unknown", "structured_output": True},
        )

    Args:
        model: The model name sent with each request; also how ``model_info`` is looked up.
        api_key: The key; default ``OPENAI_API_KEY`` (``GEMINI_API_KEY`` for ``gemini-*`` models).
        base_url: Another OpenAI-compatible server (``.../v1``); ``gemini-*`` models default to Google's.
        organization: The OpenAI organization id.
        project: The OpenAI project id.
        timeout: Seconds to wait for a response (per attempt).
        max_retries: Retries of a request that failed with 408, 409, 429 or 5xx, or a connection
            error, with exponential backoff or the server's ``Retry-After`` (the SDK's default: 2).
        model_info: What the model can do; required for models Salon does not know.
        model_capabilities: Deprecated form of ``model_info``.
        add_name_prefixes: Prefix each user message with ``"<source> said:\\n"``.
        include_name_in_message: Send each message's ``source`` as its ``name`` (default ``True``).
        default_headers: Headers added to every request.
        token_limit: The context window for :meth:`remaining_tokens` (known models have theirs).
        http_client: An ``httpx.AsyncClient`` for the SDK to use.
        **create_args: Sent with every request: ``temperature``, ``seed``, ``max_tokens``,
            ``max_completion_tokens``, ``top_p``, ``stop``, ``frequency_penalty``, ``presence_penalty``,
            ``parallel_tool_calls``, ``reasoning_effort``, ``response_format`` (a dict, or a pydantic model
            class for structured output), ``stream_options``, ``user``, ``extra_body``, ...
    """

    _salon_component_ = ("model_client", "openai")

    def __init__(
        self,
        *,
        model: str,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        model_info: ModelInfo | None = None,
        model_capabilities: ModelCapabilities | None = None,
        add_name_prefixes: bool = False,
        include_name_in_message: bool = True,
        default_headers: Mapping[str, str] | None = None,
        token_limit: int | None = None,
        http_client: Any = None,
        **create_args: Any,
    ) -> None:
        from openai import AsyncOpenAI, OpenAIError

        _check_create_options("OpenAIChatCompletionClient", create_args)
        key = _secret(api_key)
        if model.startswith("gemini-"):
            base_url = base_url or _model_info.GEMINI_OPENAI_BASE_URL
            key = key or os.environ.get("GEMINI_API_KEY")
        client_kwargs: dict[str, Any] = {
            "organization": organization,
            "project": project,
            "default_headers": default_headers,
        }
        if timeout is not None:
            client_kwargs["timeout"] = timeout
        if max_retries is not None:
            client_kwargs["max_retries"] = max_retries
        if http_client is not None:
            client_kwargs["http_client"] = http_client
        try:
            client = AsyncOpenAI(api_key=key, base_url=base_url, **client_kwargs)
        except OpenAIError as e:
            raise ValueError(
                f"No API key for {model!r}: pass api_key=... or set OPENAI_API_KEY"
                + (" (or GEMINI_API_KEY)" if model.startswith("gemini-") else "")
                + "; a local server that checks no key (Ollama, llama.cpp) takes any placeholder, e.g. api_key='none'."
            ) from e
        raw: dict[str, Any] = {"model": model}
        if api_key is not None:
            raw["api_key"] = SecretStr(key or "")
        if base_url is not None:
            raw["base_url"] = base_url
        if model_info is not None:
            raw["model_info"] = dict(model_info)
        if add_name_prefixes:
            raw["add_name_prefixes"] = True
        if not include_name_in_message:
            raw["include_name_in_message"] = False
        if token_limit is not None:
            raw["token_limit"] = token_limit
        args: dict[str, Any] = {"model": model}
        _split_options(create_args, args, raw, client_kwargs)
        super().__init__(
            client,
            create_args=args,
            model_info=model_info,
            model_capabilities=model_capabilities,
            add_name_prefixes=add_name_prefixes,
            include_name_in_message=include_name_in_message,
            token_limit=token_limit,
            raw_config=raw,
        )


class AzureOpenAIChatCompletionClient(BaseOpenAIChatCompletionClient):
    r"""A chat model deployed on Azure OpenAI.

    The port of ``autogen_ext.models.openai.AzureOpenAIChatCompletionClient``::

        client = AzureOpenAIChatCompletionClient(
            azure_deployment="my-gpt-4o",
            model="gpt-4o",
            api_version="2024-06-01",
            azure_endpoint="https://my-resource.openai.azure.com/",
            api_key="...",  # or AZURE_OPENAI_API_KEY, or azure_ad_token_provider=...
        )

    Args:
        model: The OpenAI model behind the deployment (for ``model_info`` and token counting).
        azure_endpoint: The resource's endpoint.
        azure_deployment: The deployment name.
        api_version: The Azure OpenAI API version.
        api_key: The key; default ``AZURE_OPENAI_API_KEY``.
        azure_ad_token: An Entra ID token, instead of a key.
        azure_ad_token_provider: A callable returning Entra ID tokens, instead of a key.
        timeout: Seconds to wait for a response (per attempt).
        max_retries: Retries of failed requests (see :class:`OpenAIChatCompletionClient`).
        model_info: What the model can do; required for models Salon does not know.
        model_capabilities: Deprecated form of ``model_info``.
        add_name_prefixes: Prefix each user message with ``"<source> said:\\n"``.
        include_name_in_message: Send each message's ``source`` as its ``name``.
        default_headers: Headers added to every request.
        token_limit: The context window for :meth:`remaining_tokens`.
        http_client: An ``httpx.AsyncClient`` for the SDK to use.
        **create_args: Sent with every request, as for :class:`OpenAIChatCompletionClient`.
    """

    _salon_component_ = ("model_client", "azure_openai")

    def __init__(
        self,
        *,
        model: str,
        azure_endpoint: str,
        api_version: str,
        azure_deployment: str | None = None,
        api_key: str | SecretStr | None = None,
        azure_ad_token: str | SecretStr | None = None,
        azure_ad_token_provider: Any = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        model_info: ModelInfo | None = None,
        model_capabilities: ModelCapabilities | None = None,
        add_name_prefixes: bool = False,
        include_name_in_message: bool = True,
        default_headers: Mapping[str, str] | None = None,
        token_limit: int | None = None,
        http_client: Any = None,
        **create_args: Any,
    ) -> None:
        from openai import AsyncAzureOpenAI, OpenAIError

        _check_create_options("AzureOpenAIChatCompletionClient", create_args)
        client_kwargs: dict[str, Any] = {"default_headers": default_headers}
        if timeout is not None:
            client_kwargs["timeout"] = timeout
        if max_retries is not None:
            client_kwargs["max_retries"] = max_retries
        if http_client is not None:
            client_kwargs["http_client"] = http_client
        try:
            client = AsyncAzureOpenAI(
                azure_endpoint=azure_endpoint,
                azure_deployment=azure_deployment,
                api_version=api_version,
                api_key=_secret(api_key),
                azure_ad_token=_secret(azure_ad_token),
                azure_ad_token_provider=azure_ad_token_provider,
                **client_kwargs,
            )
        except OpenAIError as e:
            raise ValueError(
                "No credentials for Azure OpenAI: pass api_key=..., azure_ad_token=... or azure_ad_token_provider=..., "
                "or set AZURE_OPENAI_API_KEY."
            ) from e
        raw: dict[str, Any] = {"model": model, "azure_endpoint": azure_endpoint, "api_version": api_version}
        if azure_deployment is not None:
            raw["azure_deployment"] = azure_deployment
        if api_key is not None:
            raw["api_key"] = SecretStr(_secret(api_key) or "")
        if azure_ad_token is not None:
            raw["azure_ad_token"] = SecretStr(_secret(azure_ad_token) or "")
        if model_info is not None:
            raw["model_info"] = dict(model_info)
        if token_limit is not None:
            raw["token_limit"] = token_limit
        args: dict[str, Any] = {"model": model}
        _split_options(create_args, args, raw, client_kwargs)
        super().__init__(
            client,
            create_args=args,
            model_info=model_info,
            model_capabilities=model_capabilities,
            add_name_prefixes=add_name_prefixes,
            include_name_in_message=include_name_in_message,
            token_limit=token_limit,
            raw_config=raw,
        )


def _check_create_options(client_name: str, create_args: Mapping[str, Any]) -> None:
    """Refuse constructor keywords that are not request arguments (a misspelt option would be sent as-is)."""
    unknown = sorted(set(create_args) - set(_CREATE_OPTIONS))
    if unknown:
        raise TypeError(
            f"{client_name} got unknown options {unknown}; request arguments it accepts: {', '.join(_CREATE_OPTIONS)}."
        )
