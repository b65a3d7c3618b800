"""CodeExecutorAgent: runs the code blocks other agents write, or writes, runs and fixes its own.

Without a model client it is a terminal: it finds fenced ``python``/``sh`` blocks in the messages it
receives and answers with what running them printed. With a model client it asks the model for code,
runs it, lets the model decide whether to retry after an error, and finally has the model reflect on
the outcome. Either way an optional approval function sees every block before anything runs.
"""

from __future__ import annotations

import inspect
import logging
import re
import uuid
import warnings
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import ClassVar, TypeAlias, cast

from pydantic import BaseModel, ValidationError

from salon import CancellationToken
from salon.code_executor import CodeBlock, CodeExecutor, CodeResult
from salon.model_context import ChatCompletionContext, UnboundedChatCompletionContext
from salon.models import (
    AssistantMessage,
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    SystemMessage,
    UserMessage,
)

from ..base import Response
from ..messages import (
    BaseAgentEvent,
    BaseChatMessage,
    CodeExecutionEvent,
    CodeGenerationEvent,
    ModelClientStreamingChunkEvent,
    TextMessage,
    ThoughtEvent,
)
from ..utils import add_to_model_context
from ._base_chat_agent import BaseChatAgent

__all__ = [
    "ApprovalFuncType",
    "ApprovalRequest",
    "ApprovalResponse",
    "AsyncApprovalFunc",
    "CodeExecutorAgent",
    "RetryDecision",
    "SyncApprovalFunc",
]

_logger = logging.getLogger(__name__)


class ApprovalRequest(BaseModel):
    """What an approval function is asked to judge before code runs.

    Attributes:
        code: Every block about to run, each in its own markdown fence naming its language.
        context: The agent's model context at that moment (empty for an agent without a model client).
    """

    code: str
    context: list[LLMMessage]


class ApprovalResponse(BaseModel):
    """An approval function's verdict; a refusal's ``reason`` becomes the reported output."""

    approved: bool
    reason: str


class RetryDecision(BaseModel):
    """The structured answer the model gives when asked whether to retry failed code."""

    reason: str
    retry: bool


SyncApprovalFunc: TypeAlias = Callable[[ApprovalRequest], ApprovalResponse]
AsyncApprovalFunc: TypeAlias = Callable[[ApprovalRequest], Awaitable[ApprovalResponse]]
ApprovalFuncType: TypeAlias = SyncApprovalFunc | AsyncApprovalFunc
"""A sync or async function that approves or refuses code before it runs."""

_ModelOutput: TypeAlias = CreateResult | ModelClientStreamingChunkEvent


def without_images(history: Sequence[LLMMessage]) -> list[LLMMessage]:
    """``history`` with every image in a user message replaced by ``<image>``, for text-only models."""
    converted: list[LLMMessage] = []
    for message in history:
        if isinstance(message, UserMessage) and not isinstance(message.content, str):
            text = "\n".join(part if isinstance(part, str) else "<image>" for part in message.content)
            converted.append(UserMessage(content=text, source=message.source))
        else:
            converted.append(message)
    return converted


class CodeExecutorAgent(BaseChatAgent):
    """An agent that executes code from markdown blocks, optionally writing the code itself with a model.

    **Without** ``model_client`` (a terminal for a coding team): each turn collects the blocks fenced as
    one of ``supported_languages`` from the incoming :class:`~salon_agentchat.messages.TextMessage` s
    (only those from ``sources``, when given), runs them all with ``code_executor``, and replies with
    their output, or with :attr:`NO_CODE_BLOCKS_FOUND_MESSAGE`.

    **With** ``model_client``: the model answers the conversation; if the answer holds code blocks they
    run (:class:`~salon_agentchat.messages.CodeGenerationEvent`, then
    :class:`~salon_agentchat.messages.CodeExecutionEvent`), and after a failure the model is asked, as a
    structured :class:`RetryDecision`, whether to try again, up to ``max_retries_on_error`` times.
    Finally the model reflects on the results and that reflection is the reply. An answer without code
    is the reply as it stands.

    ``approval_func`` (sync or async) sees an :class:`ApprovalRequest` before each run; a refusal skips
    the run and reports exit code 1 with the refusal's reason, which the model then sees like any
    other failure. Without it, code runs unreviewed and the constructor warns: prefer a sandboxed
    executor (``salon_docker.DockerCommandLineCodeExecutor``, or ``salon_local``'s bubblewrap sandbox).

    Differences from AutoGen 0.7.5, each deliberate: the incoming messages enter the model context
    once, not once per retry; the reply's ``inner_messages`` hold every event of the turn, not only
    thoughts, so :meth:`run` and :meth:`run_stream` report the same messages; code-generation events
    carry the usage of the model call that produced them, so usage totals add up; streamed chunks carry
    the id of the message they become (``full_message_id``); :meth:`on_reset` clears the model context.

    Args:
        name: The agent's name.
        code_executor: Where the code runs (see :mod:`salon.code_executor`).
        model_client: The model that writes code; without it the agent only runs others' code.
        model_context: The model's memory; an unbounded context by default.
        model_client_stream: Stream the model's answers, yielding
            :class:`~salon_agentchat.messages.ModelClientStreamingChunkEvent` s.
        max_retries_on_error: How many more attempts the model may make after failed code. Needs a
            model client whose ``model_info`` has ``structured_output``.
        description: For selectors; defaults to :attr:`DEFAULT_TERMINAL_DESCRIPTION` without a model
            client and :attr:`DEFAULT_AGENT_DESCRIPTION` with one.
        system_message: The model's system message (``None`` for none); unused without a model client.
        sources: Only run code from messages by these agents; unused with a model client.
        supported_languages: The fence languages to run (case-insensitive); others are ignored.
            Defaults to :attr:`DEFAULT_SUPPORTED_LANGUAGES`.
        approval_func: Reviews code before it runs (see above).

    Raises:
        ValueError: ``max_retries_on_error`` is negative, or positive without a model client that
            supports structured output; ``supported_languages`` is empty.
    """

    DEFAULT_TERMINAL_DESCRIPTION = (
        "A computer terminal that performs no other action than running Python scripts (provided to it quoted "
        "in ```python code blocks), or sh shell scripts (provided to it quoted in ```sh code blocks)."
    )
    DEFAULT_AGENT_DESCRIPTION = (
        "A Code Execution Agent that generates and executes Python and shell scripts based on user instructions. "
        "It ensures correctness, efficiency, and minimal errors while gracefully handling edge cases."
    )
    DEFAULT_SYSTEM_MESSAGE = (
        "You are a Code Execution Agent. Your role is to generate and execute Python code and shell scripts "
        "based on user instructions, ensuring correctness, efficiency, and minimal errors. Handle edge cases "
        "gracefully. Python code should be provided in ```python code blocks, and sh shell scripts should be "
        "provided in ```sh code blocks for execution."
    )
    NO_CODE_BLOCKS_FOUND_MESSAGE = (
        "No code blocks found in the thread. Please provide at least one markdown-encoded code block to execute "
        "(i.e., quoting code in ```python or ```sh code blocks)."
    )
    DEFAULT_SUPPORTED_LANGUAGES: ClassVar[list[str]] = ["python", "sh"]

    def __init__(
        self,
        name: str,
        code_executor: CodeExecutor,
        *,
        model_client: ChatCompletionClient | None = None,
        model_context: ChatCompletionContext | None = None,
        model_client_stream: bool = False,
        max_retries_on_error: int = 0,
        description: str | None = None,
        system_message: str | None = DEFAULT_SYSTEM_MESSAGE,
        sources: Sequence[str] | None = None,
        supported_languages: list[str] | None = None,
        approval_func: ApprovalFuncType | None = None,
    ) -> None:
        if description is None:
            description = self.DEFAULT_TERMINAL_DESCRIPTION if model_client is None else self.DEFAULT_AGENT_DESCRIPTION
        super().__init__(name=name, description=description)
        if not isinstance(code_executor, CodeExecutor):
            raise TypeError(
                f"code_executor must be a salon.code_executor.CodeExecutor (for example "
                f"salon_local.LocalCommandLineCodeExecutor), got {type(code_executor).__name__}."
            )
        if max_retries_on_error < 0:
            raise ValueError(f"max_retries_on_error must be 0 or more, got {max_retries_on_error}.")
        if max_retries_on_error > 0:
            if model_client is None:
                raise ValueError(
                    "max_retries_on_error > 0 needs a model_client: without one the agent only runs code that "
                    "others wrote, and has nobody to fix it."
                )
            if not model_client.model_info.get("structured_output", False):
                raise ValueError(
                    "max_retries_on_error > 0 needs a model client that supports structured output "
                    "(model_info['structured_output'] is False): the retry decision is a structured answer."
                )
        languages = list(self.DEFAULT_SUPPORTED_LANGUAGES if supported_languages is None else supported_languages)
        if not languages or not all(isinstance(lang, str) and lang.strip() for lang in languages):
            raise ValueError(
                f"supported_languages must be a non-empty list of fence languages such as ['python', 'sh'], "
                f"got {supported_languages!r}."
            )
        if approval_func is None:
            warnings.warn(
                "CodeExecutorAgent has no approval_func, so code runs without review. Pass approval_func to "
                "review each block before it runs, and prefer a sandboxed executor.",
                UserWarning,
                stacklevel=2,
            )
        self._code_executor = code_executor
        self._model_client = model_client
        self._model_context = model_context if model_context is not None else UnboundedChatCompletionContext()
        self._model_client_stream = model_client_stream
        self._max_retries_on_error = max_retries_on_error
        self._system_messages = [] if system_message is None else [SystemMessage(content=system_message)]
        self._sources = None if sources is None else list(sources)
        self._supported_languages = languages
        self._approval_func = approval_func
        self._approval_func_is_async = approval_func is not None and (
            inspect.iscoroutinefunction(approval_func)
            or inspect.iscoroutinefunction(getattr(approval_func, "__call__", None))  # noqa: B004
        )
        # Longest names first, so that "shell" is not read as "sh" followed by junk.
        alternatives = "|".join(re.escape(lang.strip()) for lang in sorted(languages, key=len, reverse=True))
        self._code_block_pattern = re.compile(
            rf"```[ \t]*({alternatives})[ \t]*\r?\n(.*?)```", re.DOTALL | re.IGNORECASE
        )

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        """Always a text reply."""
        return (TextMessage,)

    @property
    def model_context(self) -> ChatCompletionContext:
        """The model's memory of the conversation (empty without a model client)."""
        return self._model_context

    # -- code --------------------------------------------------------------------------------------------

    def _extract_markdown_code_blocks(self, markdown_text: str) -> list[CodeBlock]:
        """The fenced blocks of a supported language in ``markdown_text``, in order, code verbatim."""
        return [
            CodeBlock(code=code, language=language.strip())
            for language, code in self._code_block_pattern.findall(markdown_text)
        ]

    async def extract_code_blocks_from_messages(self, messages: Sequence[BaseChatMessage]) -> list[CodeBlock]:
        """The runnable blocks of the text messages from the allowed ``sources``, in message order."""
        blocks: list[CodeBlock] = []
        for message in messages:
            if self._sources is not None and message.source not in self._sources:
                continue
            if isinstance(message, TextMessage):
                blocks.extend(self._extract_markdown_code_blocks(message.content))
        return blocks

    async def _approve(self, code_blocks: Sequence[CodeBlock]) -> ApprovalResponse:
        assert self._approval_func is not None
        fenced = "\n\n".join(f"```{block.language}\n{block.code}\n```" for block in code_blocks)
        request = ApprovalRequest(code=fenced, context=list(await self._model_context.get_messages()))
        if self._approval_func_is_async:
            verdict = await cast(AsyncApprovalFunc, self._approval_func)(request)
        else:
            verdict = cast(SyncApprovalFunc, self._approval_func)(request)
        if not isinstance(verdict, ApprovalResponse):
            raise TypeError(
                "approval_func must return an ApprovalResponse(approved=..., reason=...), "
                f"got {type(verdict).__name__}."
            )
        return verdict

    async def execute_code_block(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> CodeResult:
        """Run ``code_blocks`` after approval, and phrase the result so that a reader (or model) can act on it.

        A refusal is reported as exit code 1 with the reason; a run that printed nothing or failed says so
        in the output, since a bare empty string or error text is easy to misread.
        """
        if self._approval_func is not None:
            verdict = await self._approve(code_blocks)
            if not verdict.approved:
                return CodeResult(exit_code=1, output=f"Code execution was not approved. Reason: {verdict.reason}")
        result = await self._code_executor.execute_code_blocks(code_blocks, cancellation_token=cancellation_token)
        if not result.output.strip():
            output = (
                f"The script ran but produced no output to console. The POSIX exit code was: {result.exit_code}. "
                "If you were expecting output, consider revising the script to ensure content is printed to stdout."
            )
        elif result.exit_code != 0:
            output = (
                f"The script ran, then exited with an error (POSIX exit code: {result.exit_code})\n"
                f"Its output was:\n{result.output}"
            )
        else:
            return result
        return CodeResult(exit_code=result.exit_code, output=output)

    # -- turns -------------------------------------------------------------------------------------------

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        """Handle a turn and return its reply (see :meth:`on_messages_stream`)."""
        async for item in self.on_messages_stream(messages, cancellation_token):
            if isinstance(item, Response):
                return item
        raise AssertionError("CodeExecutorAgent.on_messages_stream ended without a Response.")

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        """Run the code in ``messages``, or have the model write, run, retry and reflect (see the class)."""
        if self._model_client is None:
            blocks = await self.extract_code_blocks_from_messages(messages)
            if not blocks:
                yield Response(chat_message=TextMessage(content=self.NO_CODE_BLOCKS_FOUND_MESSAGE, source=self.name))
                return
            result = await self.execute_code_block(blocks, cancellation_token)
            yield Response(chat_message=TextMessage(content=result.output, source=self.name))
            return
        async for item in self._write_and_run(self._model_client, messages, cancellation_token):
            yield item

    async def _write_and_run(
        self,
        model_client: ChatCompletionClient,
        messages: Sequence[BaseChatMessage],
        cancellation_token: CancellationToken,
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        """The model-driven turn: generate, execute, maybe retry, then reflect."""
        inner: list[BaseAgentEvent | BaseChatMessage] = []
        await add_to_model_context(self._model_context, messages)
        for attempt in range(self._max_retries_on_error + 1):
            message_id = str(uuid.uuid4())
            answer: CreateResult | None = None
            async for output in self._call_model(model_client, message_id, cancellation_token):
                if isinstance(output, CreateResult):
                    answer = output
                else:
                    yield output
            assert answer is not None
            if answer.thought:
                thought = ThoughtEvent(content=answer.thought, source=self.name)
                inner.append(thought)
                yield thought
            if not isinstance(answer.content, str):
                raise RuntimeError(
                    "CodeExecutorAgent asked the model for text with code blocks but got tool calls; "
                    "the model client must not be given tools here."
                )
            await self._model_context.add_message(
                AssistantMessage(content=answer.content, source=self.name, thought=answer.thought)
            )
            blocks = self._extract_markdown_code_blocks(answer.content)
            if not blocks:
                reply = TextMessage(content=answer.content, source=self.name, models_usage=answer.usage, id=message_id)
                yield Response(chat_message=reply, inner_messages=inner)
                return
            generation = CodeGenerationEvent(
                retry_attempt=attempt,
                content=answer.content,
                code_blocks=blocks,
                source=self.name,
                models_usage=answer.usage,
                id=message_id,
            )
            inner.append(generation)
            yield generation
            result = await self.execute_code_block(blocks, cancellation_token)
            await self._model_context.add_message(UserMessage(content=result.output, source=self.name))
            execution = CodeExecutionEvent(retry_attempt=attempt, result=result, source=self.name)
            inner.append(execution)
            yield execution
            if result.exit_code == 0 or attempt == self._max_retries_on_error:
                break
            decision = await self._decide_retry(model_client, result, cancellation_token)
            if decision is None or not decision.retry:
                break
            correction = CodeGenerationEvent(
                retry_attempt=attempt,
                content=f"Attempt number: {attempt + 1}\nProposed correction: {decision.reason}",
                code_blocks=[],
                source=self.name,
            )
            inner.append(correction)
            yield correction
        async for item in self._reflect(model_client, inner, cancellation_token):
            yield item

    async def _decide_retry(
        self, model_client: ChatCompletionClient, result: CodeResult, cancellation_token: CancellationToken
    ) -> RetryDecision | None:
        """Ask the model whether failed code is worth another attempt; ``None`` when its answer is unusable."""
        question = UserMessage(
            content=(
                f"Running the code failed:\n{result.output}\n\n"
                "Decide whether to try again. Answer with 'retry' (true to write corrected code, false to stop) "
                "and 'reason' (what went wrong, why you decided so, and how a new attempt would fix it)."
            ),
            source=self.name,
        )
        history = [*await self._model_context.get_messages(), question]
        answer = await model_client.create(
            self._compatible(model_client, history), json_output=RetryDecision, cancellation_token=cancellation_token
        )
        try:
            return RetryDecision.model_validate_json(str(answer.content))
        except ValidationError as exc:
            _logger.warning("%s: the model's retry decision is not a RetryDecision, so no retry: %s", self.name, exc)
            return None

    async def _reflect(
        self,
        model_client: ChatCompletionClient,
        inner: list[BaseAgentEvent | BaseChatMessage],
        cancellation_token: CancellationToken,
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        """Have the model comment on the execution results; its answer is the turn's reply."""
        message_id = str(uuid.uuid4())
        answer: CreateResult | None = None
        async for output in self._call_model(model_client, message_id, cancellation_token):
            if isinstance(output, CreateResult):
                answer = output
            else:
                yield output
        if answer is None or not isinstance(answer.content, str):
            raise RuntimeError("CodeExecutorAgent's reflection on the execution results produced no text.")
        if answer.thought:
            thought = ThoughtEvent(content=answer.thought, source=self.name)
            inner.append(thought)
            yield thought
        await self._model_context.add_message(
            AssistantMessage(content=answer.content, source=self.name, thought=answer.thought)
        )
        reply = TextMessage(content=answer.content, source=self.name, models_usage=answer.usage, id=message_id)
        yield Response(chat_message=reply, inner_messages=inner)

    async def _call_model(
        self, model_client: ChatCompletionClient, message_id: str, cancellation_token: CancellationToken
    ) -> AsyncGenerator[_ModelOutput, None]:
        """One model call over the system messages and context: chunk events (when streaming), then the result."""
        history = self._compatible(model_client, [*self._system_messages, *await self._model_context.get_messages()])
        if not self._model_client_stream:
            yield await model_client.create(history, cancellation_token=cancellation_token)
            return
        result: CreateResult | None = None
        async for chunk in model_client.create_stream(history, cancellation_token=cancellation_token):
            if isinstance(chunk, CreateResult):
                result = chunk
            elif isinstance(chunk, str):
                yield ModelClientStreamingChunkEvent(content=chunk, source=self.name, full_message_id=message_id)
            else:
                raise RuntimeError(f"The model client streamed a {type(chunk).__name__}; expected str or CreateResult.")
        if result is None:
            raise RuntimeError("The model client's stream ended without its final CreateResult.")
        yield result

    @staticmethod
    def _compatible(model_client: ChatCompletionClient, history: list[LLMMessage]) -> list[LLMMessage]:
        """Drop images for models that cannot see them."""
        return history if model_client.model_info.get("vision", False) else without_images(history)

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Forget the conversation, so the next turn starts as a fresh agent's would."""
        await self._model_context.clear()
