"""The model-client conformance suite: the behaviour every :class:`~salon.models.ChatCompletionClient` shows."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from typing import Any, ClassVar, Protocol, TypeAlias, TypeVar

import pytest
import pytest_asyncio
from pydantic import BaseModel

from salon import EVENT_LOGGER_NAME, CancellationToken, FunctionCall
from salon.logging import LLMCallEvent, LLMStreamEndEvent, LLMStreamStartEvent
from salon.models import (
    AssistantMessage,
    ChatCompletionClient,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    RequestUsage,
    SystemMessage,
    UserMessage,
    validate_model_info,
)
from salon.tools import ToolSchema

__all__ = ["ClientFactory", "ModelClientConformanceSuite", "ScriptedReply"]

T = TypeVar("T")

ScriptedReply: TypeAlias = str | list[FunctionCall]
"""What the model should answer to one call: a text, or tool calls."""

WEATHER_TOOL: ToolSchema = {
    "name": "get_weather",
    "description": "Get the current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "The city."}},
        "required": ["city"],
        "additionalProperties": False,
    },
}
"""The tool schema the suite offers the model (a plain :class:`~salon.tools.ToolSchema` dict)."""

LONG_TEXT = "one two three four five six seven eight nine ten eleven twelve"


class ClientFactory(Protocol):
    """The ``client_factory`` fixture: makes a client scripted with ``replies``, closed after the test."""

    async def __call__(self, replies: Sequence[ScriptedReply]) -> ChatCompletionClient:
        """Make a client that answers its calls with ``replies``, in order."""
        ...


class _Answer(BaseModel):
    answer: int


class _EventRecorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.events: list[Any] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.events.append(record.msg)


def _user(text: str) -> UserMessage:
    return UserMessage(content=text, source="user")


class ModelClientConformanceSuite:
    """The behaviour every :class:`~salon.models.ChatCompletionClient` must show, as pytest tests.

    The contract (see ``docs/models.md``): ``create`` returns a :class:`~salon.models.CreateResult` with
    the call's usage; ``create_stream`` yields text chunks and then exactly one final ``CreateResult``
    with real usage; tool calls come back as ``list[FunctionCall]``; a cancelled token raises
    :class:`asyncio.CancelledError`; tokens can be counted offline; ``model_info`` is valid; calls are
    logged as :class:`~salon.logging.LLMCallEvent` (streams as start/end events); ``close`` is idempotent.

    How a client author uses it: subclass it in a test module, name the subclass ``Test...``, and
    override :meth:`make_client` to return a client whose model answers its calls with the scripted
    replies, in order (a text, or a list of tool calls). A client for a hosted API points at a local
    server speaking the provider's wire protocol and scripted with the replies::

        class TestMyClient(ModelClientConformanceSuite):
            async def make_client(self, replies):
                server.script(replies)
                return MyChatCompletionClient(model="m", base_url=server.url, api_key="test")

    Scripted replies carry no usage: the client must report what its provider reports. Tests about tools
    are skipped when ``model_info["function_calling"]`` is false, and the JSON test when
    ``model_info["json_output"]`` is false. Every client the suite makes is closed by
    :meth:`dispose_client`. A test that does not apply can be switched off in the subclass with
    ``test_name = None`` (say why in a comment). Every await is bounded by :attr:`timeout`.
    """

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [pytest.mark.asyncio]
    timeout: ClassVar[float] = 30.0

    # -- hooks for implementers -------------------------------------------------------------------------

    async def make_client(self, replies: Sequence[ScriptedReply]) -> ChatCompletionClient:
        """Return a new client whose model answers its calls with ``replies``, in order."""
        raise NotImplementedError(f"{type(self).__name__} must override make_client() to return a scripted client.")

    async def dispose_client(self, client: ChatCompletionClient) -> None:
        """Release a client after a test (``close()`` by default; errors are ignored here, hangs are not)."""
        with contextlib.suppress(Exception):
            await self.within(client.close())

    # -- fixtures and helpers ---------------------------------------------------------------------------

    @pytest_asyncio.fixture
    async def client_factory(self) -> AsyncIterator[ClientFactory]:
        """Make scripted clients on demand; dispose of them when the test ends."""
        made: list[ChatCompletionClient] = []

        async def factory(replies: Sequence[ScriptedReply]) -> ChatCompletionClient:
            client = await self.make_client(replies)
            made.append(client)
            return client

        yield factory
        for client in reversed(made):
            await self.dispose_client(client)

    async def within(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable``, failing the test if it takes longer than :attr:`timeout` seconds."""
        try:
            async with asyncio.timeout(self.timeout):
                return await awaitable
        except TimeoutError:
            pytest.fail(f"timed out after {self.timeout}s awaiting {awaitable!r}", pytrace=False)

    async def drain(self, stream: AsyncIterator[str | CreateResult]) -> list[str | CreateResult]:
        """Collect every item of a stream, bounded by :attr:`timeout`."""

        async def collect() -> list[str | CreateResult]:
            return [item async for item in stream]

        return await self.within(collect())

    @contextlib.contextmanager
    def recorded_events(self) -> Iterator[list[Any]]:
        """Record what is logged on :data:`~salon.EVENT_LOGGER_NAME` at INFO inside the ``with`` block."""
        logger = logging.getLogger(EVENT_LOGGER_NAME)
        recorder = _EventRecorder()
        previous = logger.level
        logger.addHandler(recorder)
        logger.setLevel(logging.INFO)
        try:
            yield recorder.events
        finally:
            logger.removeHandler(recorder)
            logger.setLevel(previous)

    @staticmethod
    def split_stream(items: Sequence[str | CreateResult]) -> tuple[list[str], CreateResult]:
        """Check the stream shape (text chunks, then exactly one final result) and return both parts."""
        assert items, "create_stream yielded nothing; it must end with a CreateResult"
        final = items[-1]
        assert isinstance(final, CreateResult), f"the last item of a stream must be a CreateResult, got {final!r}"
        chunks = items[:-1]
        wrong = [item for item in chunks if not isinstance(item, str)]
        assert not wrong, f"only the last item may be a CreateResult; before it came {wrong!r}"
        return [item for item in chunks if isinstance(item, str)], final

    @staticmethod
    def assert_real_usage(usage: RequestUsage) -> None:
        """A usage with positive prompt and completion counts (what a scripted text reply must report)."""
        assert isinstance(usage, RequestUsage), f"usage must be a RequestUsage, got {usage!r}"
        assert usage.prompt_tokens > 0, f"prompt_tokens must be counted, got {usage}"
        assert usage.completion_tokens > 0, f"completion_tokens must be counted, got {usage}"

    @staticmethod
    def require_tools(client: ChatCompletionClient) -> None:
        """Skip the test when the model cannot call tools."""
        if not client.model_info["function_calling"]:
            pytest.skip("model_info['function_calling'] is false")

    # -- create -----------------------------------------------------------------------------------------

    async def test_create_returns_a_result_with_usage(self, client_factory: ClientFactory) -> None:
        """``create`` returns the model's text as a fresh, finished ``CreateResult`` with real usage."""
        client = await client_factory(["The sky is blue."])
        result = await self.within(client.create([SystemMessage(content="Be brief."), _user("Sky colour?")]))
        assert isinstance(result, CreateResult)
        assert result.content == "The sky is blue."
        assert result.finish_reason == "stop"
        assert result.cached is False
        self.assert_real_usage(result.usage)

    async def test_usage_counters_follow_calls(self, client_factory: ClientFactory) -> None:
        """``actual_usage`` is the last call's usage; ``total_usage`` sums every call."""
        client = await client_factory(["First answer.", "Second, longer answer here."])
        first = await self.within(client.create([_user("One?")]))
        assert client.actual_usage() == first.usage
        second = await self.within(client.create([_user("One?"), _user("Two?")]))
        assert client.actual_usage() == second.usage
        total = client.total_usage()
        assert total.prompt_tokens == first.usage.prompt_tokens + second.usage.prompt_tokens
        assert total.completion_tokens == first.usage.completion_tokens + second.usage.completion_tokens

    async def test_input_messages_are_not_modified(self, client_factory: ClientFactory) -> None:
        """A call leaves the caller's message list and messages exactly as they were."""
        client = await client_factory(["Fine."])
        messages: list[LLMMessage] = [SystemMessage(content="Be kind."), _user("How are you?")]
        before = [message.model_dump() for message in messages]
        await self.within(client.create(messages))
        assert [message.model_dump() for message in messages] == before

    async def test_every_message_kind_is_accepted(self, client_factory: ClientFactory) -> None:
        """System, user and assistant messages (with a thought) can be sent, and tool messages when supported."""
        client = await client_factory(["Done."])
        messages: list[LLMMessage] = [SystemMessage(content="You report the weather."), _user("Weather in Paris?")]
        if client.model_info["function_calling"]:
            call = FunctionCall(id="call_1", arguments=json.dumps({"city": "Paris"}), name="get_weather")
            messages += [
                AssistantMessage(content=[call], thought="I should look it up.", source="assistant"),
                FunctionExecutionResultMessage(
                    content=[FunctionExecutionResult(content="Sunny, 21 C", name="get_weather", call_id="call_1")]
                ),
            ]
        messages += [AssistantMessage(content="It is sunny.", thought="Easy.", source="assistant"), _user("Thanks!")]
        tools = [WEATHER_TOOL] if client.model_info["function_calling"] else []
        result = await self.within(client.create(messages, tools=tools))
        assert result.content == "Done."

    # -- streaming ------------------------------------------------------------------------------------

    async def test_stream_yields_chunks_then_one_final_result(self, client_factory: ClientFactory) -> None:
        """Text chunks that join into the answer, then exactly one ``CreateResult`` with real usage."""
        client = await client_factory([LONG_TEXT])
        chunks, final = self.split_stream(await self.drain(client.create_stream([_user("Count to twelve.")])))
        assert chunks, "a text answer must arrive in at least one chunk"
        assert "".join(chunks) == final.content == LONG_TEXT
        assert final.finish_reason == "stop"
        assert final.cached is False
        self.assert_real_usage(final.usage)

    async def test_stream_usage_counts_in_totals(self, client_factory: ClientFactory) -> None:
        """A streamed call updates ``actual_usage`` and ``total_usage`` like ``create`` does."""
        client = await client_factory(["Streamed answer.", "Created answer."])
        _, streamed = self.split_stream(await self.drain(client.create_stream([_user("Stream?")])))
        assert client.actual_usage() == streamed.usage
        created = await self.within(client.create([_user("Create?")]))
        total = client.total_usage()
        assert total.prompt_tokens == streamed.usage.prompt_tokens + created.usage.prompt_tokens
        assert total.completion_tokens == streamed.usage.completion_tokens + created.usage.completion_tokens

    # -- tools ----------------------------------------------------------------------------------------

    async def test_tool_calls_come_back_as_function_calls(self, client_factory: ClientFactory) -> None:
        """Tool calls are ``list[FunctionCall]`` with the tool's name and JSON arguments."""
        calls = [FunctionCall(id="call_a", arguments=json.dumps({"city": "Oslo"}), name="get_weather")]
        client = await client_factory([calls])
        self.require_tools(client)
        result = await self.within(client.create([_user("Weather in Oslo?")], tools=[WEATHER_TOOL]))
        assert result.finish_reason == "function_calls"
        assert isinstance(result.content, list) and len(result.content) == 1
        call = result.content[0]
        assert isinstance(call, FunctionCall)
        assert call.name == "get_weather"
        assert json.loads(call.arguments) == {"city": "Oslo"}
        assert isinstance(call.id, str)

    async def test_parallel_tool_calls_keep_their_order(self, client_factory: ClientFactory) -> None:
        """Several calls in one response come back in order, each with its own arguments."""
        cities = ["Lima", "Quito", "Bogota"]
        calls = [
            FunctionCall(id=f"call_{i}", arguments=json.dumps({"city": city}), name="get_weather")
            for i, city in enumerate(cities)
        ]
        client = await client_factory([calls])
        self.require_tools(client)
        result = await self.within(client.create([_user("Weather in three cities?")], tools=[WEATHER_TOOL]))
        assert isinstance(result.content, list)
        assert [json.loads(call.arguments)["city"] for call in result.content] == cities

    async def test_streamed_tool_calls_end_in_one_result(self, client_factory: ClientFactory) -> None:
        """Streaming a tool-call response ends with one ``CreateResult`` holding the calls."""
        calls = [FunctionCall(id="call_s", arguments=json.dumps({"city": "Rome"}), name="get_weather")]
        client = await client_factory([calls])
        self.require_tools(client)
        stream = client.create_stream([_user("Weather in Rome?")], tools=[WEATHER_TOOL])
        _, final = self.split_stream(await self.drain(stream))
        assert final.finish_reason == "function_calls"
        assert isinstance(final.content, list)
        assert [(c.name, json.loads(c.arguments)) for c in final.content] == [("get_weather", {"city": "Rome"})]

    async def test_tool_call_round_trip(self, client_factory: ClientFactory) -> None:
        """The calls a model made, sent back with their results, lead to its text answer."""
        calls = [FunctionCall(id="call_r", arguments=json.dumps({"city": "Cairo"}), name="get_weather")]
        client = await client_factory([calls, "It is hot in Cairo."])
        self.require_tools(client)
        conversation: list[LLMMessage] = [_user("Weather in Cairo?")]
        first = await self.within(client.create(conversation, tools=[WEATHER_TOOL]))
        assert isinstance(first.content, list)
        conversation.append(AssistantMessage(content=first.content, source="assistant"))
        conversation.append(
            FunctionExecutionResultMessage(
                content=[
                    FunctionExecutionResult(content="38 C", name=call.name, call_id=call.id) for call in first.content
                ]
            )
        )
        second = await self.within(client.create(conversation, tools=[WEATHER_TOOL]))
        assert second.content == "It is hot in Cairo."
        assert second.finish_reason == "stop"

    # -- JSON -----------------------------------------------------------------------------------------

    async def test_json_output(self, client_factory: ClientFactory) -> None:
        """With ``json_output`` set (``True``, or a pydantic model when supported) the answer is that JSON."""
        client = await client_factory(['{"answer": 42}', '{"answer": 7}'])
        if not client.model_info["json_output"]:
            pytest.skip("model_info['json_output'] is false")
        result = await self.within(client.create([_user("Answer in JSON.")], json_output=True))
        assert isinstance(result.content, str)
        assert json.loads(result.content) == {"answer": 42}
        if client.model_info.get("structured_output"):
            structured = await self.within(client.create([_user("Answer in JSON.")], json_output=_Answer))
            assert isinstance(structured.content, str)
            assert _Answer.model_validate_json(structured.content) == _Answer(answer=7)

    # -- cancellation ---------------------------------------------------------------------------------

    async def test_cancelled_token_cancels_create(self, client_factory: ClientFactory) -> None:
        """A call made with an already cancelled token raises ``CancelledError``."""
        client = await client_factory(["Never seen."])
        token = CancellationToken()
        token.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.within(client.create([_user("Hello?")], cancellation_token=token))

    async def test_cancelling_the_token_stops_a_stream(self, client_factory: ClientFactory) -> None:
        """Cancelling the token after the first chunk ends the stream with ``CancelledError``, no final result."""
        client = await client_factory([LONG_TEXT])
        token = CancellationToken()
        seen: list[str | CreateResult] = []

        async def consume() -> None:
            async for item in client.create_stream([_user("Count to twelve.")], cancellation_token=token):
                seen.append(item)
                token.cancel()

        with pytest.raises(asyncio.CancelledError):
            await self.within(consume())
        assert seen, "the stream should have yielded a chunk before the token was cancelled"
        assert not any(isinstance(item, CreateResult) for item in seen), "a cancelled stream must not finish"

    # -- tokens and model info ------------------------------------------------------------------------

    async def test_count_tokens(self, client_factory: ClientFactory) -> None:
        """Token counts are positive, grow with the conversation, and include tool schemas."""
        client = await client_factory([])
        short: list[LLMMessage] = [_user("Hello there.")]
        longer: list[LLMMessage] = [
            *short,
            AssistantMessage(content="Hi! How can I help?", source="a"),
            _user("Tell me a joke."),
        ]
        assert client.count_tokens(short) > 0
        assert client.count_tokens(longer) > client.count_tokens(short)
        if client.model_info["function_calling"]:
            assert client.count_tokens(short, tools=[WEATHER_TOOL]) > client.count_tokens(short)

    async def test_remaining_tokens_shrink_as_the_conversation_grows(self, client_factory: ClientFactory) -> None:
        """``remaining_tokens`` falls by what the added messages count."""
        client = await client_factory([])
        short: list[LLMMessage] = [_user("Hello there.")]
        longer: list[LLMMessage] = [*short, _user("A second question, rather longer than the first one.")]
        assert client.remaining_tokens(short) > client.remaining_tokens(longer)

    async def test_model_info_is_valid(self, client_factory: ClientFactory) -> None:
        """``model_info`` passes :func:`validate_model_info` without warnings; capabilities agree with it."""
        client = await client_factory([])
        info = client.model_info
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            validate_model_info(info)
        for key in ("vision", "function_calling", "json_output", "structured_output"):
            assert isinstance(info[key], bool), f"model_info[{key!r}] must be a bool, got {info[key]!r}"
        assert isinstance(info["family"], str)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            capabilities = client.capabilities
        assert capabilities["function_calling"] == info["function_calling"]
        assert capabilities["vision"] == info["vision"]

    # -- events and lifecycle -------------------------------------------------------------------------

    async def test_calls_are_logged_with_their_usage(self, client_factory: ClientFactory) -> None:
        """``create`` logs one ``LLMCallEvent``; a stream logs a start and an end event; tokens match usage."""
        client = await client_factory(["Logged answer.", "Streamed answer."])
        with self.recorded_events() as events:
            created = await self.within(client.create([_user("Log me.")]))
            _, streamed = self.split_stream(await self.drain(client.create_stream([_user("Stream me.")])))
        calls = [event for event in events if isinstance(event, LLMCallEvent)]
        assert len(calls) == 1, f"expected one LLMCallEvent for one create, got {events!r}"
        assert (calls[0].prompt_tokens, calls[0].completion_tokens) == (
            created.usage.prompt_tokens,
            created.usage.completion_tokens,
        )
        assert len([event for event in events if isinstance(event, LLMStreamStartEvent)]) == 1
        ends = [event for event in events if isinstance(event, LLMStreamEndEvent)]
        assert len(ends) == 1
        assert (ends[0].prompt_tokens, ends[0].completion_tokens) == (
            streamed.usage.prompt_tokens,
            streamed.usage.completion_tokens,
        )
        for event in events:
            json.dumps(event.kwargs)  # events must render as JSON

    async def test_close_is_idempotent(self, client_factory: ClientFactory) -> None:
        """``close`` can be called twice (agents and their owners both close shared clients)."""
        client = await client_factory(["Bye."])
        await self.within(client.create([_user("Hi")]))
        await self.within(client.close())
        await self.within(client.close())
