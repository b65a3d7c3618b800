"""How Claude's answers become CreateResults: thinking, usage, stop reasons, events, token estimates."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from salon import EVENT_LOGGER_NAME
from salon.logging import LLMCallEvent, LLMStreamEndEvent, LLMStreamStartEvent
from salon.models import AssistantMessage, CreateResult, LLMMessage, RequestUsage, SystemMessage, UserMessage
from salon.testing import AnthropicReply, AnthropicTestServer
from salon_anthropic import AnthropicChatCompletionClient

from .conftest import API_KEY, MODEL

THINKING = {"type": "thinking", "thinking": "Paris is the capital.", "signature": "sig-1"}
WEATHER = {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}


def user(text: str) -> UserMessage:
    return UserMessage(content=text, source="user")


@pytest.fixture
async def client(server: AnthropicTestServer) -> AsyncIterator[AnthropicChatCompletionClient]:
    made = AnthropicChatCompletionClient(model=MODEL, base_url=server.url, api_key=API_KEY, max_retries=0)
    yield made
    await made.close()


async def both(client: AnthropicChatCompletionClient, server: AnthropicTestServer, reply: AnthropicReply) -> list[Any]:
    """The result of create and of create_stream (with its chunks) for the same scripted reply."""
    server.script(reply, reply)
    created = await client.create([user("Q?")], tools=[WEATHER])
    items = [item async for item in client.create_stream([user("Q?")], tools=[WEATHER])]
    return [created, items]


async def test_thinking_becomes_the_thought(client: AnthropicChatCompletionClient, server: AnthropicTestServer) -> None:
    created, items = await both(client, server, AnthropicReply([THINKING, {"type": "text", "text": "Paris."}]))
    for result in (created, items[-1]):
        assert (result.content, result.thought, result.finish_reason) == ("Paris.", "Paris is the capital.", "stop")
    chunks = items[:-1]
    assert "".join(chunks) == "Paris.", "thinking is not streamed as text chunks"


async def test_text_alongside_tool_calls_is_part_of_the_thought(
    client: AnthropicChatCompletionClient, server: AnthropicTestServer
) -> None:
    blocks = [
        THINKING,
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
    ]
    created, items = await both(client, server, AnthropicReply(blocks))
    for result in (created, items[-1]):
        assert result.finish_reason == "function_calls"
        assert result.thought == "Paris is the capital.\n\nLet me check."
        assert [(c.id, c.name, json.loads(c.arguments)) for c in result.content] == [
            ("toolu_1", "get_weather", {"city": "Paris"})
        ]


async def test_usage_counts_prompt_cache_reads(
    client: AnthropicChatCompletionClient, server: AnthropicTestServer
) -> None:
    reply = AnthropicReply.text("cached", input_tokens=10, output_tokens=3, cache_read_input_tokens=90)
    created, items = await both(client, server, reply)
    assert created.usage == items[-1].usage == RequestUsage(prompt_tokens=100, completion_tokens=3)
    assert client.total_usage() == RequestUsage(prompt_tokens=200, completion_tokens=6)


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("refusal", "content_filter"),
        ("pause_turn", "unknown"),
    ],
)
async def test_stop_reasons(
    client: AnthropicChatCompletionClient, server: AnthropicTestServer, stop_reason: str, finish_reason: str
) -> None:
    created, items = await both(client, server, AnthropicReply.text("x", stop_reason=stop_reason))
    assert created.finish_reason == items[-1].finish_reason == finish_reason


async def test_events_carry_the_request_and_never_the_key(
    client: AnthropicChatCompletionClient, server: AnthropicTestServer
) -> None:
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger(EVENT_LOGGER_NAME)
    handler = Collect()
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        server.script("one", "two")
        messages: list[LLMMessage] = [SystemMessage(content="Sys"), user("Hello")]
        await client.create(messages)
        _ = [item async for item in client.create_stream(messages)]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    events = [record.msg for record in records]
    call = next(e for e in events if isinstance(e, LLMCallEvent))
    assert call.kwargs["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}]
    assert call.kwargs["response"]["content"] == [{"type": "text", "text": "one"}]
    assert any(isinstance(e, LLMStreamStartEvent) for e in events)
    end = next(e for e in events if isinstance(e, LLMStreamEndEvent))
    assert end.kwargs["response"]["content"] == "two"
    for event in events:
        assert API_KEY not in str(event)


async def test_a_finished_stream_result_is_the_last_item(
    client: AnthropicChatCompletionClient, server: AnthropicTestServer
) -> None:
    server.script(AnthropicReply([{"type": "text", "text": "Hello "}, {"type": "text", "text": "world"}]))
    items = [item async for item in client.create_stream([user("Hi")])]
    assert isinstance(items[-1], CreateResult) and items[-1].content == "Hello world"
    assert "".join(i for i in items if isinstance(i, str)) == "Hello world"


def test_token_estimates_are_offline_and_plausible(client: AnthropicChatCompletionClient) -> None:
    text = "The quick brown fox jumps over the lazy dog. " * 20  # ~200 real tokens
    count = client.count_tokens([user(text)])
    assert 150 <= count <= 260
    with_tools = client.count_tokens([user(text)], tools=[WEATHER])
    assert with_tools > count + 300, "tools add their definitions and the tool-use preamble"
    longer = client.count_tokens([user(text), AssistantMessage(content="Sure.", source="a")])
    assert longer > count
    assert client.remaining_tokens([user(text)]) == 200_000 - count


@pytest.mark.parametrize(
    ("model", "family", "structured"),
    [
        ("claude-sonnet-4-6", "claude-4-sonnet", True),
        ("claude-sonnet-4-5-20250929", "claude-4-sonnet", True),
        ("claude-sonnet-4-20250514", "claude-4-sonnet", False),
        ("claude-sonnet-4-0", "claude-4-sonnet", False),
        ("claude-opus-4-1-20250805", "claude-4-opus", False),
        ("claude-opus-4-5-20251101", "claude-4-opus", True),
        ("claude-haiku-4-5", "claude-4-haiku", True),
        ("claude-3-7-sonnet-latest", "claude-3-7-sonnet", False),
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku", False),
    ],
)
def test_known_models(model: str, family: str, structured: bool) -> None:
    from salon_anthropic._model_info import model_info_for

    info = model_info_for(model)
    assert (info["family"], info["structured_output"], info["function_calling"], info["vision"]) == (
        family,
        structured,
        True,
        True,
    )
