"""What the client sends (asserted on the server's recorded requests) and how it reads what comes back."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Annotated, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from salon import EVENT_LOGGER_NAME, FunctionCall
from salon.logging import LLMCallEvent
from salon.models import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
    UserMessage,
)
from salon.testing import OpenAIChatServer, OpenAITextReply, OpenAIToolCallsReply
from salon.tools import FunctionTool, ToolSchema
from salon_openai import OpenAIChatCompletionClient

MakeClient = Callable[..., OpenAIChatCompletionClient]
HELLO = [UserMessage(content="Hello", source="user")]


def get_stock_price(ticker: str, date: Annotated[str, "Date in YYYY/MM/DD"]) -> float:
    """Get the stock price."""
    return 100.0


STOCK = FunctionTool(get_stock_price, description="Get the stock price.")


class Weather(BaseModel):
    city: str
    celsius: float
    note: str | None = None


def last_body(server: OpenAIChatServer) -> dict[str, Any]:
    body = server.chat_requests[-1].json
    assert isinstance(body, dict)
    return body


async def test_messages_are_mapped_to_openai_roles(server: OpenAIChatServer, make_client: MakeClient) -> None:
    server.script(["Done."])
    call = FunctionCall(id="call_1", arguments='{"ticker": "MSFT", "date": "2024/01/02"}', name="get_stock_price")
    messages: list[LLMMessage] = [
        SystemMessage(content="You are helpful."),
        UserMessage(content="Price of MSFT?", source="the user"),
        AssistantMessage(content=[call], thought="Let me look.", source="assistant"),
        FunctionExecutionResultMessage(
            content=[FunctionExecutionResult(content="100.0", name="get_stock_price", call_id="call_1")]
        ),
        AssistantMessage(content="It is 100.", thought="easy", source="assistant"),
    ]
    await make_client().create(messages, tools=[STOCK])
    assert last_body(server)["messages"] == [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Price of MSFT?", "name": "the_user"},
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_stock_price", "arguments": call.arguments},
                }
            ],
            "name": "assistant",
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "100.0"},
        {"role": "assistant", "content": "It is 100.", "name": "assistant"},
    ]


async def test_name_options(server: OpenAIChatServer, make_client: MakeClient) -> None:
    server.script(["a"])
    await make_client(include_name_in_message=False, add_name_prefixes=True).create(HELLO)
    assert last_body(server)["messages"] == [{"role": "user", "content": "user said:\nHello"}]


async def test_tools_and_tool_choice(server: OpenAIChatServer, make_client: MakeClient) -> None:
    server.script(["a", "b", "c"])
    client = make_client(parallel_tool_calls=False)
    await client.create(HELLO, tools=[STOCK])
    body = last_body(server)
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_stock_price",
                "description": "Get the stock price.",
                "parameters": STOCK.schema["parameters"],
            },
        }
    ]
    assert body["tool_choice"] == "auto"
    assert body["parallel_tool_calls"] is False
    await client.create(HELLO, tools=[STOCK], tool_choice=STOCK)
    assert last_body(server)["tool_choice"] == {"type": "function", "function": {"name": "get_stock_price"}}
    await client.create(HELLO)
    body = last_body(server)
    assert "tools" not in body and "tool_choice" not in body and "parallel_tool_calls" not in body


async def test_strict_tools_are_sent_strict(server: OpenAIChatServer, make_client: MakeClient) -> None:
    server.script(["a"])
    strict = FunctionTool(get_stock_price, description="Price.", strict=True)
    await make_client().create(HELLO, tools=[strict], tool_choice="required")
    body = last_body(server)
    assert body["tools"][0]["function"]["strict"] is True
    assert body["tool_choice"] == "required"


async def test_json_mode_and_structured_output(server: OpenAIChatServer, make_client: MakeClient) -> None:
    server.script(['{"a": 1}', '{"city": "Oslo", "celsius": 3.5, "note": null}', "plain"])
    client = make_client()
    await client.create(HELLO, json_output=True)
    assert last_body(server)["response_format"] == {"type": "json_object"}
    result = await client.create(HELLO, json_output=Weather)
    assert isinstance(result.content, str)
    assert Weather.model_validate_json(result.content) == Weather(city="Oslo", celsius=3.5)
    response_format = last_body(server)["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Weather"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert sorted(schema["required"]) == ["celsius", "city", "note"]
    await client.create(HELLO, json_output=False)
    assert last_body(server)["response_format"] == {"type": "text"}


async def test_response_format_as_a_pydantic_model_option(server: OpenAIChatServer, make_client: MakeClient) -> None:
    server.script(['{"city": "Oslo", "celsius": 1, "note": null}'])
    await make_client(response_format=Weather).create(HELLO)
    assert last_body(server)["response_format"]["json_schema"]["name"] == "Weather"


async def test_create_args_and_extra_create_args(server: OpenAIChatServer, make_client: MakeClient) -> None:
    server.script(["a", "b"])
    client = make_client(temperature=0.2, seed=7, max_tokens=50, top_p=0.9, stop=["END"])
    await client.create(HELLO)
    body = last_body(server)
    assert (body["temperature"], body["seed"], body["max_tokens"], body["top_p"], body["stop"]) == (
        0.2,
        7,
        50,
        0.9,
        ["END"],
    )
    await client.create(HELLO, extra_create_args={"temperature": 1.0, "extra_body": {"top_k": 5}})
    body = last_body(server)
    assert body["temperature"] == 1.0 and body["top_k"] == 5 and body["seed"] == 7


async def test_stream_asks_for_usage_by_default(server: OpenAIChatServer, make_client: MakeClient) -> None:
    server.script(["one two three", "four five"])
    client = make_client()
    items = [item async for item in client.create_stream(HELLO)]
    assert last_body(server)["stream"] is True
    assert last_body(server)["stream_options"] == {"include_usage": True}
    final = items[-1]
    assert isinstance(final, CreateResult)
    assert final.usage.completion_tokens == 3  # what the server reported (it counts words)
    items = [item async for item in client.create_stream(HELLO, include_usage=False)]
    assert last_body(server)["stream_options"] == {"include_usage": False}
    final = items[-1]
    assert isinstance(final, CreateResult)
    assert final.usage.prompt_tokens > 0 and final.usage.completion_tokens > 0  # counted offline instead
    with pytest.raises(ValueError, match="disagree"):
        async for _ in make_client(stream_options={"include_usage": True}).create_stream(HELLO, include_usage=False):
            pass


async def test_images_are_sent_as_image_parts(server: OpenAIChatServer, make_client: MakeClient) -> None:
    from PIL import Image as PILImage

    from salon import Image

    picture = Image.from_pil(PILImage.new("RGB", (2, 2), "red"))
    server.script(["A red square."])
    await make_client(model="gpt-4o").create([UserMessage(content=["What is it?", picture], source="u")])
    assert last_body(server)["messages"][0]["content"] == [
        {"type": "text", "text": "What is it?"},
        {"type": "image_url", "image_url": {"url": picture.data_uri, "detail": "auto"}},
    ]


async def test_thoughts(server: OpenAIChatServer, make_client: MakeClient) -> None:
    call = FunctionCall(id="c", arguments='{"city": "Oslo"}', name="get_weather")
    server.script(
        [
            OpenAITextReply("42", reasoning="Six times seven."),
            OpenAITextReply("42", reasoning="Six times seven."),
            "<think>Count.</think>Three.",
            OpenAIToolCallsReply([call], content="I will check the weather."),
            OpenAIToolCallsReply([call], content="Checking."),
        ]
    )
    client = make_client()
    result = await client.create(HELLO)
    assert (result.content, result.thought) == ("42", "Six times seven.")
    items = [item async for item in client.create_stream(HELLO)]
    assert "".join(i for i in items if isinstance(i, str)) == "42"
    assert isinstance(items[-1], CreateResult) and items[-1].thought == "Six times seven."
    result = await client.create(HELLO)
    assert (result.content, result.thought) == ("<think>Count.</think>Three.", None)  # only R1 models think inline
    tools: list[ToolSchema] = [{"name": "get_weather", "parameters": {"type": "object", "properties": {}}}]
    result = await client.create(HELLO, tools=tools)
    assert (result.content, result.thought) == ([call], "I will check the weather.")
    items = [item async for item in client.create_stream(HELLO, tools=tools)]
    assert isinstance(items[-1], CreateResult) and (items[-1].content, items[-1].thought) == ([call], "Checking.")
    r1 = make_client(
        model="deepseek-r1",
        model_info={
            "vision": False,
            "function_calling": False,
            "json_output": True,
            "family": "r1",
            "structured_output": False,
        },
    )
    server.script(["<think>Count.</think>Three."])
    result = await r1.create(HELLO)
    assert (result.content, result.thought) == ("Three.", "Count.")


async def test_servers_that_say_stop_with_tool_calls(server: OpenAIChatServer, make_client: MakeClient) -> None:
    call = FunctionCall(id="c", arguments="{}", name="get_weather")
    server.script([OpenAIToolCallsReply([call], finish_reason="stop")])
    weather: ToolSchema = {"name": "get_weather"}
    result = await make_client().create(HELLO, tools=[weather])
    assert result.finish_reason == "function_calls"


async def test_llm_call_event_has_the_request_as_sent(server: OpenAIChatServer, make_client: MakeClient) -> None:
    server.script(["Logged."])
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger(EVENT_LOGGER_NAME)
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        result = await make_client().create(HELLO)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    event = next(r.msg for r in records if isinstance(r.msg, LLMCallEvent))
    data = json.loads(str(event))
    assert data["messages"] == [{"role": "user", "content": "Hello", "name": "user"}]
    assert data["response"]["choices"][0]["message"]["content"] == "Logged."
    assert (data["prompt_tokens"], data["completion_tokens"]) == (
        result.usage.prompt_tokens,
        result.usage.completion_tokens,
    )


def test_gemini_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-key")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    client = OpenAIChatCompletionClient(model="gemini-2.0-flash")
    assert str(client._client.base_url).startswith("https://generativelanguage.googleapis.com/v1beta/openai")
    assert client._client.api_key == "gemini-key"
    assert client.model_info["family"] == "gemini-2.0-flash"


def test_known_models_and_dated_releases() -> None:
    client = OpenAIChatCompletionClient(model="gpt-4o-2024-08-06", api_key="x")
    assert client.model_info["family"] == "gpt-4o"
    assert client.remaining_tokens([]) < 128_000
    assert OpenAIChatCompletionClient(model="gpt-3.5-turbo-0125", api_key="x").model_info["vision"] is False


def test_token_counts_match_the_encoding() -> None:
    client = OpenAIChatCompletionClient(model="gpt-4o-mini", api_key="x")
    # "Hello world" is 2 tokens in o200k_base; framing: 3 per message + 1 for the name + 3 for the reply.
    assert client.count_tokens([UserMessage(content="Hello world", source="user")]) == 2 + 3 + 1 + 3
    assert client.count_tokens([SystemMessage(content="Hello world")]) == 2 + 3 + 3
    with_tool = client.count_tokens(HELLO, tools=[STOCK])
    assert with_tool > client.count_tokens(HELLO) + 20


# -- property: any conversation reaches the server intact --------------------------------------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
_source = st.text(st.characters(codec="ascii"), min_size=1, max_size=12)
_call = st.builds(
    FunctionCall,
    id=st.text(st.characters(codec="ascii"), min_size=1, max_size=8),
    arguments=_text.map(lambda t: json.dumps({"x": t})),
    name=st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
)
_message: st.SearchStrategy[LLMMessage] = st.one_of(
    st.builds(SystemMessage, content=_text),
    st.builds(UserMessage, content=_text, source=_source),
    st.builds(AssistantMessage, content=_text, source=_source),
    st.builds(
        AssistantMessage, content=st.lists(_call, min_size=1, max_size=3), thought=st.none() | _text, source=_source
    ),
    st.builds(
        FunctionExecutionResultMessage,
        content=st.lists(st.builds(FunctionExecutionResult, content=_text, name=_source, call_id=_source), min_size=1),
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages=st.lists(_message, min_size=1, max_size=12), answer=_text)
def test_any_conversation_round_trips_through_the_wire(
    server: OpenAIChatServer, messages: list[LLMMessage], answer: str
) -> None:
    async def run() -> CreateResult:
        client = OpenAIChatCompletionClient(model="gpt-4o-mini", api_key="k", base_url=server.url, max_retries=0)
        try:
            return await client.create(messages)
        finally:
            await client.close()

    server.reset([answer])
    result = asyncio.run(run())
    assert result.content == answer
    sent = server.chat_requests[-1].json["messages"]
    expected_count = sum(len(m.content) if isinstance(m, FunctionExecutionResultMessage) else 1 for m in messages)
    assert len(sent) == expected_count
    position = 0
    for message in messages:
        if isinstance(message, FunctionExecutionResultMessage):
            for item in message.content:
                assert sent[position] == {"role": "tool", "tool_call_id": item.call_id, "content": item.content}
                position += 1
            continue
        wire = sent[position]
        position += 1
        if isinstance(message, SystemMessage):
            assert wire == {"role": "system", "content": message.content}
        elif isinstance(message, UserMessage):
            assert (wire["role"], wire["content"]) == ("user", message.content)
        elif isinstance(message.content, str):
            assert (wire["role"], wire["content"]) == ("assistant", message.content)
        else:
            assert wire["content"] == message.thought
            calls = [
                FunctionCall(c["id"], c["function"]["arguments"], c["function"]["name"]) for c in wire["tool_calls"]
            ]
            assert calls == message.content
