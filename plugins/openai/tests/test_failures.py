"""Failure modes over real HTTP: retries with backoff, timeouts, malformed tool calls, bad input, unknown models."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import openai
import pytest

from salon import FunctionCall
from salon.models import ModelInfo, UserMessage
from salon.testing import OpenAIChatServer, OpenAIErrorReply, OpenAITextReply, OpenAIToolCallsReply
from salon.tools import ToolSchema
from salon_openai import OpenAIChatCompletionClient

MakeClient = Callable[..., OpenAIChatCompletionClient]

HELLO = [UserMessage(content="Hello", source="user")]
WEATHER: ToolSchema = {
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def notes(error: BaseException) -> str:
    return "\n".join(getattr(error, "__notes__", []))


async def test_429_with_retry_after_is_retried_until_it_succeeds(
    server: OpenAIChatServer, make_client: MakeClient
) -> None:
    server.script([OpenAIErrorReply(429, retry_after=0.01), OpenAIErrorReply(429, retry_after=0.01), "Finally."])
    client = make_client(max_retries=2)
    result = await client.create(HELLO)
    assert result.content == "Finally."
    assert len(server.chat_requests) == 3
    assert client.total_usage().completion_tokens == result.usage.completion_tokens  # failed attempts cost nothing


async def test_429_gives_up_after_max_retries_with_a_clear_error(
    server: OpenAIChatServer, make_client: MakeClient
) -> None:
    server.script([OpenAIErrorReply(429, "Rate limit reached.", retry_after=0.01)] * 5)
    client = make_client(max_retries=2)
    with pytest.raises(openai.RateLimitError) as raised:
        await client.create(HELLO)
    assert len(server.chat_requests) == 3
    assert "Rate limit reached." in str(raised.value)
    assert "HTTP 429" in notes(raised.value) and "max_retries=2" in notes(raised.value)
    assert server.remaining == 2


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_is_retried(server: OpenAIChatServer, make_client: MakeClient, status: int) -> None:
    server.script([OpenAIErrorReply(status, retry_after=0.01), "Recovered."])
    result = await make_client(max_retries=1).create(HELLO)
    assert result.content == "Recovered."
    assert len(server.chat_requests) == 2


async def test_5xx_without_retry_after_backs_off(server: OpenAIChatServer, make_client: MakeClient) -> None:
    server.script([OpenAIErrorReply(503), OpenAIErrorReply(503)])
    client = make_client(max_retries=1)
    started = time.monotonic()
    with pytest.raises(openai.InternalServerError) as raised:
        await client.create(HELLO)
    assert len(server.chat_requests) == 2
    assert time.monotonic() - started >= 0.3  # the SDK waits ~0.4-0.5 s before its first retry
    assert "HTTP 503" in notes(raised.value)


async def test_5xx_while_streaming_is_retried(server: OpenAIChatServer, make_client: MakeClient) -> None:
    server.script([OpenAIErrorReply(500, retry_after=0.01), "Streamed after all."])
    items = [item async for item in make_client(max_retries=1).create_stream(HELLO)]
    assert "".join(i for i in items if isinstance(i, str)) == "Streamed after all."


async def test_client_errors_are_not_retried(server: OpenAIChatServer, make_client: MakeClient) -> None:
    server.script([OpenAIErrorReply(400, "Bad request: messages is empty."), "never"])
    with pytest.raises(openai.BadRequestError, match="messages is empty"):
        await make_client(max_retries=3).create(HELLO)
    assert len(server.chat_requests) == 1


async def test_wrong_api_key_is_a_clear_error(make_client: MakeClient) -> None:
    with OpenAIChatServer(api_key="right") as guarded:
        client = make_client(base_url=guarded.url, api_key="wrong")
        with pytest.raises(openai.AuthenticationError) as raised:
            await client.create(HELLO)
    assert "api_key" in notes(raised.value)
    assert "wrong" not in str(raised.value) + notes(raised.value)


async def test_timeout(server: OpenAIChatServer, make_client: MakeClient) -> None:
    server.script([OpenAITextReply("Too late.", delay=3)])
    client = make_client(timeout=0.2)
    with pytest.raises(openai.APITimeoutError) as raised:
        await client.create(HELLO)
    assert "timeout" in notes(raised.value)


async def test_timeout_is_retried(server: OpenAIChatServer, make_client: MakeClient) -> None:
    server.script([OpenAITextReply("Too late.", delay=3), "In time."])
    result = await make_client(timeout=0.3, max_retries=1).create(HELLO)
    assert result.content == "In time."
    assert len(server.chat_requests) == 2


async def test_unreachable_server(make_client: MakeClient) -> None:
    with OpenAIChatServer() as gone:
        url = gone.url
    with pytest.raises(openai.APIConnectionError) as raised:
        await make_client(base_url=url).create(HELLO)
    assert "could not reach" in notes(raised.value)


@pytest.mark.parametrize("arguments", ['{"city": "Oslo"', "not json at all", ""])
async def test_malformed_tool_call_arguments_come_back_unchanged(
    server: OpenAIChatServer, make_client: MakeClient, arguments: str
) -> None:
    """The call is returned with the model's text as is; the agent reports the bad JSON to the model."""
    call = FunctionCall(id="call_1", arguments=arguments, name="get_weather")
    server.script([OpenAIToolCallsReply([call]), OpenAIToolCallsReply([call])])
    client = make_client()
    result = await client.create(HELLO, tools=[WEATHER])
    assert result.finish_reason == "function_calls"
    assert result.content == [call]
    items = [item async for item in client.create_stream(HELLO, tools=[WEATHER])]
    assert items[-1].content == [call]  # type: ignore[union-attr]
    with pytest.raises(json.JSONDecodeError):
        json.loads(arguments)


def test_unknown_model_without_model_info_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="model_info") as raised:
        OpenAIChatCompletionClient(model="llama3.2:1b", api_key="x", base_url="http://127.0.0.1:9/v1")
    message = str(raised.value)
    assert "'llama3.2:1b'" in message and "function_calling" in message and "family" in message


async def test_unknown_model_with_model_info_works(server: OpenAIChatServer, make_client: MakeClient) -> None:
    info = ModelInfo(vision=False, function_calling=True, json_output=True, family="unknown", structured_output=False)
    server.script(["Local answer."])
    client = make_client(model="llama3.2:1b", model_info=info)
    assert (await client.create(HELLO)).content == "Local answer."
    assert client.model_info == info
    assert client.remaining_tokens([]) > 0


def test_incomplete_model_info_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="family"):
        OpenAIChatCompletionClient(
            model="local",
            api_key="x",
            model_info={"vision": False, "function_calling": False, "json_output": False},  # type: ignore[arg-type]
        )


def test_missing_api_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        OpenAIChatCompletionClient(model="gpt-4o")


def test_unknown_option_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="temprature"):
        OpenAIChatCompletionClient(model="gpt-4o", api_key="x", temprature=0.5)


async def test_bad_extra_create_args(make_client: MakeClient) -> None:
    client = make_client()
    with pytest.raises(ValueError, match="stream"):
        await client.create(HELLO, extra_create_args={"stream": True})
    with pytest.raises(ValueError, match="extra_body"):
        await client.create(HELLO, extra_create_args={"top_k": 3})


async def test_capabilities_the_model_lacks(make_client: MakeClient) -> None:
    text_only = ModelInfo(
        vision=False, function_calling=False, json_output=False, family="unknown", structured_output=False
    )
    client = make_client(model="local", model_info=text_only)
    from PIL import Image as PILImage

    from salon import Image

    picture = Image.from_pil(PILImage.new("RGB", (2, 2), (0, 0, 255)))
    with pytest.raises(ValueError, match="vision"):
        await client.create([UserMessage(content=["Look:", picture], source="u")])
    with pytest.raises(ValueError, match="function_calling"):
        await client.create(HELLO, tools=[WEATHER])
    with pytest.raises(ValueError, match="json_output"):
        await client.create(HELLO, json_output=True)


async def test_bad_tool_choice_and_tool_names(make_client: MakeClient) -> None:
    from salon.tools import FunctionTool

    def other(x: int) -> int:
        return x

    client = make_client()
    with pytest.raises(ValueError, match="not among the tools"):
        await client.create(HELLO, tools=[WEATHER], tool_choice=FunctionTool(other, description="Other."))
    bad_name: ToolSchema = {"name": "get weather!", "parameters": {"type": "object", "properties": {}}}
    with pytest.raises(ValueError, match="Invalid tool name"):
        await client.create(HELLO, tools=[bad_name])
    with pytest.raises(ValueError, match="json_output"):
        await client.create(HELLO, json_output="yes")  # type: ignore[arg-type]


async def test_script_exhausted_is_reported_not_retried(server: OpenAIChatServer, make_client: MakeClient) -> None:
    with pytest.raises(openai.BadRequestError, match="no scripted reply left"):
        await make_client(max_retries=2).create(HELLO)
    assert len(server.chat_requests) == 1
