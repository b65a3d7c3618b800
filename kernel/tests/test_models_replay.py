"""ReplayChatCompletionClient: scripted responses, AutoGen's behaviour, and Salon's deliberate differences."""

from __future__ import annotations

import asyncio
import json
import logging
import warnings

import pytest

from salon import EVENT_LOGGER_NAME, CancellationToken, FunctionCall
from salon.logging import LLMCallEvent
from salon.models import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    ModelInfo,
    ReplayChatCompletionClient,
    RequestUsage,
    SystemMessage,
    UserMessage,
)
from salon.models._replay import _WordCounter


def user(text: str) -> UserMessage:
    return UserMessage(content=text, source="user")


async def test_responses_come_in_order_and_run_out_with_a_clear_error() -> None:
    client = ReplayChatCompletionClient(["first", "second"])
    assert (await client.create([user("a")])).content == "first"
    assert (await client.create([user("b")])).content == "second"
    with pytest.raises(ValueError, match=r"No more mock responses available.*reset"):
        await client.create([user("c")])
    client.reset()
    assert client.total_usage() == RequestUsage(0, 0)
    assert (await client.create([user("a")])).content == "first"


async def test_string_responses_are_results_with_word_usage() -> None:
    client = ReplayChatCompletionClient(["three word answer"])
    result = await client.create([SystemMessage(content="be brief"), user("what is it")])
    assert result.finish_reason == "stop"
    assert result.usage == RequestUsage(prompt_tokens=5, completion_tokens=3)
    assert result.cached is True  # AutoGen's default: a replay is not a fresh answer
    client.set_cached_bool_value(False)
    client.reset()
    assert (await client.create([user("x")])).cached is False


async def test_scripted_results_keep_their_usage_while_counters_measure_the_prompt() -> None:
    """As in AutoGen: tests assert a scripted result's exact usage; the client counts the real prompt."""
    scripted = CreateResult(finish_reason="stop", content="ok", usage=RequestUsage(10, 5), cached=False, thought="t")
    client = ReplayChatCompletionClient([scripted])
    result = await client.create([user("four words right here")])
    assert result == scripted and result is not scripted
    assert client.actual_usage() == RequestUsage(prompt_tokens=4, completion_tokens=5)


async def test_create_calls_are_recorded() -> None:
    client = ReplayChatCompletionClient(["a"])
    token = CancellationToken()
    await client.create([user("x")], json_output=True, extra_create_args={"seed": 1}, cancellation_token=token)
    (call,) = client.create_calls
    assert call["json_output"] is True
    assert call["extra_create_args"] == {"seed": 1}
    assert call["cancellation_token"] is token
    assert [m.content for m in call["messages"]] == ["x"]


async def test_stream_chunks_keep_the_text_exactly() -> None:
    """AutoGen re-joins words with single spaces; Salon's chunks join back into the exact text."""
    text = "  Line one,\n\tline   two.  "
    client = ReplayChatCompletionClient([text])
    items = [item async for item in client.create_stream([user("go")])]
    *chunks, final = items
    assert all(isinstance(chunk, str) for chunk in chunks) and len(chunks) > 1
    assert "".join(str(chunk) for chunk in chunks) == text
    assert isinstance(final, CreateResult) and final.content == text


async def test_a_scripted_result_streams_alone() -> None:
    call = FunctionCall(id="1", arguments="{}", name="f")
    scripted = CreateResult(finish_reason="function_calls", content=[call], usage=RequestUsage(1, 1), cached=False)
    client = ReplayChatCompletionClient([scripted])
    items = [item async for item in client.create_stream([user("go")])]
    assert items == [scripted]


async def test_a_cancelled_call_does_not_use_up_a_response() -> None:
    client = ReplayChatCompletionClient(["kept"])
    token = CancellationToken()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await client.create([user("x")], cancellation_token=token)
    with pytest.raises(asyncio.CancelledError):
        async for _ in client.create_stream([user("x")], cancellation_token=token):
            pass
    assert (await client.create([user("x")])).content == "kept"
    assert len(client.create_calls) == 1


def test_tokens_count_every_text_a_request_carries() -> None:
    """Tool calls, tool results, list contents and tool schemas count (AutoGen counts string contents only)."""
    client = ReplayChatCompletionClient([])
    conversation: list[LLMMessage] = [
        UserMessage(content=["two words", "three more words"], source="user"),
        AssistantMessage(content=[FunctionCall(id="1", arguments='{"city": "Oslo"}', name="weather")], source="a"),
        FunctionExecutionResultMessage(
            content=[FunctionExecutionResult(content="cold and dark", name="w", call_id="1")]
        ),
    ]
    assert client.count_tokens(conversation) == 5 + (1 + 2) + 3
    tool = {"name": "weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {}}}
    with_tool = client.count_tokens(conversation, tools=[tool])  # type: ignore[list-item]
    assert with_tool == client.count_tokens(conversation) + len(json.dumps(tool, sort_keys=True).split())


def test_remaining_tokens_are_the_limit_minus_the_prompt() -> None:
    client = ReplayChatCompletionClient([], token_limit=10)
    assert client.remaining_tokens([user("one two three")]) == 7
    assert client.remaining_tokens([user(" ".join(["w"] * 12))]) == -2


def test_word_counts_are_remembered_so_long_histories_stay_cheap() -> None:
    """Re-sending a conversation re-splits none of its messages (AutoGen's re-splits all of them)."""

    class CountingStr(str):
        splits = 0

        def split(self, *args: object, **kwargs: object) -> list[str]:
            CountingStr.splits += 1
            return super().split()

    counter = _WordCounter()
    texts = [CountingStr(f"message number {i}") for i in range(100)]
    assert sum(counter.text(t) for t in texts) == 300
    assert CountingStr.splits == 100
    assert sum(counter.text(t) for t in texts) == 300
    assert CountingStr.splits == 100


def test_the_word_count_memory_is_bounded() -> None:
    counter = _WordCounter(max_entries=3)
    for i in range(10):
        counter.text(f"text {i}")
    assert len(counter._counts) == 3
    assert list(counter._counts) == ["text 7", "text 8", "text 9"]


def test_model_info_defaults_validation_and_capabilities() -> None:
    client = ReplayChatCompletionClient([])
    assert client.model_info["family"] == "unknown" and client.model_info["function_calling"] is False
    with pytest.raises(ValueError, match="vision"):
        ReplayChatCompletionClient([], model_info={"family": "x"})  # type: ignore[arg-type]
    info = ModelInfo(vision=True, function_calling=True, json_output=False, family="x", structured_output=False)
    with pytest.warns(DeprecationWarning, match="model_info"):
        capabilities = ReplayChatCompletionClient([], model_info=info).capabilities
    assert capabilities == {"vision": True, "function_calling": True, "json_output": False}


async def test_tool_choice_is_ignored_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    client = ReplayChatCompletionClient(["a", "b"])
    with caplog.at_level(logging.WARNING, logger="salon.models._replay"):
        await client.create([user("x")], tool_choice="required")
        await client.create([user("x")], tool_choice="none")
    assert [r.getMessage() for r in caplog.records].count(
        "ReplayChatCompletionClient ignores tool_choice='required': responses are scripted."
    ) == 1
    assert len(caplog.records) == 1


async def test_calls_are_logged_only_when_someone_listens() -> None:
    """With the event logger above INFO, no event object is even built."""
    logger = logging.getLogger(EVENT_LOGGER_NAME)
    built: list[object] = []

    class Spy(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            built.append(record.msg)

    spy = Spy()
    logger.addHandler(spy)
    previous = logger.level
    try:
        logger.setLevel(logging.WARNING)
        client = ReplayChatCompletionClient(["a", "b"])
        await client.create([user("x")])
        assert built == []
        logger.setLevel(logging.INFO)
        await client.create([user("x")])
    finally:
        logger.removeHandler(spy)
        logger.setLevel(previous)
    (event,) = built
    assert isinstance(event, LLMCallEvent)
    assert event.kwargs["response"]["content"] == "b"


async def test_capabilities_warning_is_a_deprecation() -> None:
    client = ReplayChatCompletionClient([])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _ = client.capabilities
    assert [w.category for w in caught] == [DeprecationWarning]
