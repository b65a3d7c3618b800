"""Failure modes through the real SDK: retries with backoff, timeouts, broken tool JSON, bad configuration."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import anthropic
import pytest

from salon import AgentId, CancellationToken, SingleThreadedAgentRuntime
from salon.models import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    UserMessage,
)
from salon.testing import AnthropicFailure, AnthropicReply, AnthropicTestServer
from salon.tool_agent import ToolAgent, tool_agent_caller_loop
from salon.tools import FunctionTool
from salon_anthropic import AnthropicChatCompletionClient

from .conftest import API_KEY, MODEL


def user(text: str) -> UserMessage:
    return UserMessage(content=text, source="user")


@pytest.fixture
async def make_client(server: AnthropicTestServer) -> AsyncIterator[Callable[..., AnthropicChatCompletionClient]]:
    made: list[AnthropicChatCompletionClient] = []

    def make(**options: Any) -> AnthropicChatCompletionClient:
        client = AnthropicChatCompletionClient(model=MODEL, base_url=server.url, api_key=API_KEY, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


def retry_counts(server: AnthropicTestServer) -> list[str | None]:
    return [request.headers.get("x-stainless-retry-count") for request in server.requests]


# -- retries ---------------------------------------------------------------------------------------------


async def test_429_is_retried_after_retry_after(server: AnthropicTestServer, make_client: Any) -> None:
    server.script(AnthropicFailure(429, "slow down", retry_after=0.05), AnthropicFailure(429, retry_after=0.05), "ok")
    result = await make_client(max_retries=2).create([user("Hi")])
    assert result.content == "ok"
    assert len(server.requests) == 3
    assert retry_counts(server) == ["0", "1", "2"]


async def test_429_beyond_the_retry_limit_raises_a_clear_error(server: AnthropicTestServer, make_client: Any) -> None:
    server.script(*[AnthropicFailure(429, "Number of requests has exceeded your rate limit", retry_after=0.01)] * 3)
    with pytest.raises(anthropic.RateLimitError) as raised:
        await make_client(max_retries=2).create([user("Hi")])
    assert raised.value.status_code == 429
    assert "rate limit" in str(raised.value)
    assert len(server.requests) == 3
    assert API_KEY not in str(raised.value)


@pytest.mark.parametrize("status", [500, 529])
async def test_server_errors_are_retried_with_backoff(
    server: AnthropicTestServer, make_client: Any, status: int
) -> None:
    """No retry-after: the SDK backs off exponentially (0.5 s, then 1 s, with jitter) and tries again."""
    server.script(AnthropicFailure(status, "overloaded"), AnthropicFailure(status, "overloaded"), "recovered")
    result = await make_client(max_retries=2).create([user("Hi")])
    assert result.content == "recovered"
    assert retry_counts(server) == ["0", "1", "2"]


@pytest.mark.parametrize(
    ("status", "error"), [(500, anthropic.InternalServerError), (529, anthropic.InternalServerError)]
)
async def test_server_errors_beyond_the_limit_raise(
    server: AnthropicTestServer, make_client: Any, status: int, error: type[Exception]
) -> None:
    server.script(*[AnthropicFailure(status, "Overloaded", retry_after=0.01)] * 2)
    with pytest.raises(error) as raised:
        await make_client(max_retries=1).create([user("Hi")])
    assert f"{status}" in str(raised.value) and "Overloaded" in str(raised.value)
    assert len(server.requests) == 2


async def test_client_errors_are_not_retried(server: AnthropicTestServer, make_client: Any) -> None:
    server.script(AnthropicFailure(400, "messages: roles must alternate"), "never")
    with pytest.raises(anthropic.BadRequestError, match="roles must alternate"):
        await make_client(max_retries=3).create([user("Hi")])
    assert len(server.requests) == 1


async def test_a_stream_is_retried_before_it_starts(server: AnthropicTestServer, make_client: Any) -> None:
    server.script(AnthropicFailure(529, retry_after=0.01), "streamed after retry")
    items = [item async for item in make_client(max_retries=1).create_stream([user("Hi")])]
    assert "".join(item for item in items if isinstance(item, str)) == "streamed after retry"
    assert isinstance(items[-1], CreateResult)
    assert len(server.requests) == 2


# -- timeouts and cancellation ---------------------------------------------------------------------------


async def test_a_slow_answer_times_out(server: AnthropicTestServer, make_client: Any) -> None:
    server.script(AnthropicReply.text("too late", delay=5), AnthropicReply.text("too late", delay=5))
    with pytest.raises(anthropic.APITimeoutError):
        await make_client(timeout=0.2, max_retries=1).create([user("Hi")])
    assert len(server.requests) == 2, "a timed-out attempt is retried up to max_retries"


async def test_a_slow_stream_times_out(server: AnthropicTestServer, make_client: Any) -> None:
    server.script(AnthropicReply.text("too late", delay=5))
    with pytest.raises(anthropic.APITimeoutError):
        async for _ in make_client(timeout=0.2, max_retries=0).create_stream([user("Hi")]):
            pass


async def test_cancelling_a_waiting_call(server: AnthropicTestServer, make_client: Any) -> None:
    server.script(AnthropicReply.text("never", delay=5))
    token = CancellationToken()
    call = asyncio.ensure_future(make_client(max_retries=0).create([user("Hi")], cancellation_token=token))
    for _ in range(500):  # until the request has arrived
        if server.requests:
            break
        await asyncio.sleep(0.01)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(call, 5)


async def test_cancelling_a_stream_between_chunks(server: AnthropicTestServer, make_client: Any) -> None:
    server.script(AnthropicReply.text("one two three four", chunk_delay=0.5))
    token = CancellationToken()
    seen: list[str | CreateResult] = []

    async def consume() -> None:
        async for item in make_client(max_retries=0).create_stream([user("Hi")], cancellation_token=token):
            seen.append(item)
            asyncio.get_running_loop().call_later(0.05, token.cancel)  # cancelled while waiting for the next

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(consume(), 5)
    assert seen and not any(isinstance(item, CreateResult) for item in seen)


# -- a model's broken tool JSON --------------------------------------------------------------------------


async def test_malformed_streamed_tool_json_is_passed_on_not_a_crash(
    server: AnthropicTestServer, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(AnthropicReply.tool_use("get_weather", '{"city": "Par', id="toolu_bad"))
    with caplog.at_level(logging.WARNING, logger="salon_anthropic._client"):
        items = [item async for item in make_client(max_retries=0).create_stream([user("Weather?")])]
    final = items[-1]
    assert isinstance(final, CreateResult) and isinstance(final.content, list)
    assert final.finish_reason == "function_calls"
    assert (final.content[0].name, final.content[0].arguments) == ("get_weather", '{"city": "Par')
    assert "get_weather" in caplog.text and "not valid JSON" in caplog.text


async def test_malformed_tool_json_becomes_an_error_result_the_model_reads(
    server: AnthropicTestServer, make_client: Any
) -> None:
    """End to end: the broken call reaches the tool agent, which answers with an error result, not a crash."""

    def get_weather(city: str) -> str:
        return f"Sunny in {city}"

    tool = FunctionTool(get_weather, description="Weather in a city.")
    server.script(AnthropicReply.tool_use("get_weather", '{"city": "Par', id="toolu_bad"), "Let me try again later.")
    client = make_client(max_retries=0)
    runtime = SingleThreadedAgentRuntime()
    await ToolAgent.register(runtime, "tools", lambda: ToolAgent("tools", [tool]))
    runtime.start()
    try:
        messages = await tool_agent_caller_loop(
            runtime, AgentId("tools", "default"), client, [user("Weather?")], [tool]
        )
    finally:
        await runtime.stop_when_idle()
    results = [m for m in messages if isinstance(m, FunctionExecutionResultMessage)]
    assert len(results) == 1
    error = results[0].content[0]
    assert error.is_error is True and error.call_id == "toolu_bad"
    assert "Invalid arguments" in error.content
    assert isinstance(messages[-1], AssistantMessage) and messages[-1].content == "Let me try again later."
    # the broken arguments went back to Claude as an object (the API needs one), next to the error result
    second = server.requests[-1].body["messages"]
    assert second[1]["content"][0]["input"] == {"raw_arguments": '{"city": "Par'}
    assert second[2]["content"][0]["is_error"] is True


async def test_non_object_tool_input_is_passed_on(server: AnthropicTestServer, make_client: Any) -> None:
    server.script(AnthropicReply.tool_use("get_weather", "not json at all"))
    result = await make_client(max_retries=0).create([user("Weather?")])
    assert isinstance(result.content, list)
    assert result.content[0].arguments == "not json at all"


async def test_sending_back_calls_with_broken_arguments_works(server: AnthropicTestServer, make_client: Any) -> None:
    from salon import FunctionCall

    call = FunctionCall(id="toolu_x", arguments="[1, 2", name="get_weather")
    conversation: list[LLMMessage] = [
        user("Weather?"),
        AssistantMessage(content=[call], source="a"),
        FunctionExecutionResultMessage(
            content=[FunctionExecutionResult(content="bad args", name="get_weather", call_id="toolu_x", is_error=True)]
        ),
    ]
    server.script("ok")
    await make_client(max_retries=0).create(conversation)
    assert server.requests[-1].body["messages"][1]["content"][0]["input"] == {"raw_arguments": "[1, 2"}


# -- configuration mistakes ------------------------------------------------------------------------------


def test_unknown_model_without_model_info_says_what_to_pass() -> None:
    with pytest.raises(ValueError, match="does not know the model 'my-finetune'") as raised:
        AnthropicChatCompletionClient(model="my-finetune", api_key=API_KEY)
    message = str(raised.value)
    assert "model_info" in message and "'function_calling'" in message and "'structured_output'" in message


def test_unknown_model_with_model_info_works() -> None:
    info = {
        "vision": False,
        "function_calling": True,
        "json_output": True,
        "family": "unknown",
        "structured_output": False,
    }
    client = AnthropicChatCompletionClient(model="my-finetune", api_key=API_KEY, model_info=info)  # type: ignore[arg-type]
    assert client.model_info["vision"] is False
    assert client.remaining_tokens([user("Hi")]) < 200_000


def test_incomplete_model_info_is_refused() -> None:
    with pytest.raises(ValueError, match="model_info is missing 'family'"):
        AnthropicChatCompletionClient(
            model="my-finetune",
            api_key=API_KEY,
            model_info={"vision": False, "function_calling": True, "json_output": True},  # type: ignore[typeddict-item]
        )


def test_missing_api_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ValueError, match="ANTHROPIC_API_KEY"):
        AnthropicChatCompletionClient(model=MODEL)


async def test_api_key_from_the_environment(server: AnthropicTestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "from-env-key")
    client = AnthropicChatCompletionClient(model=MODEL, base_url=server.url)
    server.script("ok")
    await client.create([user("Hi")])
    await client.close()
    headers = server.requests[-1].headers
    assert "from-env-key" in (headers.get("x-api-key", ""), headers.get("authorization", "").removeprefix("Bearer "))
    assert "from-env-key" not in repr(client)
    assert json.dumps(str(client.dump_options()["api_key"])) == '"**********"'
