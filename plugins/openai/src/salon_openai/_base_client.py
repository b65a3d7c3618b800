"""What the OpenAI and Azure OpenAI clients share: :class:`BaseOpenAIChatCompletionClient`.

The calls themselves live here: sending a prepared request through the ``openai`` SDK, linking it to the
cancellation token, reading the answer (whole or streamed), counting usage and logging the call events.
The constructors that make the SDK client (and check its options) are in ``_client``; building a request
is ``_request``'s work and reading the answer's fields ``_response``'s.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncGenerator, Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel

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
    validate_model_info,
)
from salon.tools import Tool, ToolSchema

from . import _model_info
from ._messages import tool_param
from ._request import PreparedRequest, prepare_request
from ._response import convert_logprobs, extra_text, split_thought, to_finish_reason
from ._tokens import TokenCounter

if TYPE_CHECKING:
    from openai import AsyncAzureOpenAI, AsyncOpenAI, AsyncStream
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

__all__ = ["BaseOpenAIChatCompletionClient"]

_event_logger = logging.getLogger(EVENT_LOGGER_NAME)

T = TypeVar("T")

_DEFAULT_TOKEN_LIMIT = 128_000


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
        self._closed = False

    # -- requests ------------------------------------------------------------------------------------

    def _prepare(
        self,
        messages: Sequence[LLMMessage],
        tools: Sequence[Tool | ToolSchema],
        tool_choice: Tool | Literal["auto", "required", "none"],
        json_output: bool | type[BaseModel] | None,
        extra_create_args: Mapping[str, Any],
    ) -> PreparedRequest:
        return prepare_request(
            messages,
            tools,
            tool_choice,
            json_output,
            extra_create_args,
            create_args=self._create_args,
            model_info=self._model_info,
            include_name_in_message=self._include_name_in_message,
            add_name_prefixes=self._add_name_prefixes,
        )

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
        thought = extra_text(message, "reasoning_content", "reasoning")
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
            content, thought = split_thought(message.content or "", thought, self._model_info["family"])
            finish_reason = to_finish_reason(choice.finish_reason)
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
            logprobs=convert_logprobs(choice),
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
                chunk_logprobs = convert_logprobs(choice)
                if chunk_logprobs:
                    logprobs.extend(chunk_logprobs)
                thought_piece = extra_text(delta, "reasoning_content", "reasoning")
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
            content, thought = split_thought("".join(text), thought, self._model_info["family"])
            finish_reason = to_finish_reason(finish)
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
