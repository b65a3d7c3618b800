"""What the real anthropic SDK sends for each kind of conversation, as the scripted server received it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import BaseModel

from salon import FunctionCall, Image
from salon.models import (
    AssistantMessage,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
    UserMessage,
)
from salon.testing import AnthropicReply, AnthropicTestServer
from salon.tools import FunctionTool
from salon_anthropic import AnthropicChatCompletionClient

from .conftest import API_KEY, MODEL

WEATHER = {
    "name": "get_weather",
    "description": "Weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def user(text: str) -> UserMessage:
    return UserMessage(content=text, source="user")


@pytest.fixture
async def make_client(server: AnthropicTestServer) -> AsyncIterator[Callable[..., AnthropicChatCompletionClient]]:
    made: list[AnthropicChatCompletionClient] = []

    def make(**options: Any) -> AnthropicChatCompletionClient:
        options.setdefault("max_retries", 0)
        client = AnthropicChatCompletionClient(model=MODEL, base_url=server.url, api_key=API_KEY, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


async def sent(
    server: AnthropicTestServer, client: AnthropicChatCompletionClient, messages: list[LLMMessage], **kwargs: Any
) -> dict[str, Any]:
    server.script("ok")
    await client.create(messages, **kwargs)
    body = server.requests[-1].body
    assert isinstance(body, dict)
    return body


async def test_headers_and_defaults(server: AnthropicTestServer, make_client: Any) -> None:
    body = await sent(server, make_client(), [user("Hi")])
    request = server.requests[-1]
    assert request.path == "/v1/messages"
    sent_key = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
    assert sent_key == API_KEY
    assert "anthropic-version" in request.headers
    assert body == {
        "model": MODEL,
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
    }


async def test_sampling_options_are_sent(server: AnthropicTestServer, make_client: Any) -> None:
    client = make_client(
        max_tokens=99, temperature=0.2, top_p=0.9, top_k=5, stop_sequences=["END"], metadata={"user_id": "u1"}
    )
    body = await sent(server, client, [user("Hi")])
    assert (body["max_tokens"], body["temperature"], body["top_p"], body["top_k"]) == (99, 0.2, 0.9, 5)
    assert body["stop_sequences"] == ["END"]
    assert body["metadata"] == {"user_id": "u1"}


async def test_extra_create_args_pass_through_and_override(server: AnthropicTestServer, make_client: Any) -> None:
    body = await sent(server, make_client(temperature=0.5), [user("Hi")], extra_create_args={"temperature": 0.0})
    assert body["temperature"] == 0.0


@pytest.mark.parametrize("key", ["stream", "messages", "system"])
async def test_extra_create_args_may_not_replace_what_the_client_owns(make_client: Any, key: str) -> None:
    with pytest.raises(ValueError, match=key):
        await make_client().create([user("Hi")], extra_create_args={key: True})


async def test_system_messages_become_the_system_parameter(server: AnthropicTestServer, make_client: Any) -> None:
    messages: list[LLMMessage] = [
        SystemMessage(content="Be brief."),
        SystemMessage(content="Answer in French."),
        user("Hello"),
        SystemMessage(content="Late instruction."),
        user("Again"),
    ]
    body = await sent(server, make_client(), messages)
    assert body["system"] == "Be brief.\n\nAnswer in French.\n\nLate instruction."
    assert [turn["role"] for turn in body["messages"]] == ["user"]
    assert [block["text"] for block in body["messages"][0]["content"]] == ["Hello", "Again"]


async def test_consecutive_same_role_messages_are_merged(server: AnthropicTestServer, make_client: Any) -> None:
    messages: list[LLMMessage] = [
        user("one"),
        UserMessage(content="two", source="other_agent"),
        AssistantMessage(content="three", source="a"),
        AssistantMessage(content="four  ", source="b"),
    ]
    body = await sent(server, make_client(), messages)
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]},
        # the final assistant text loses its trailing whitespace (the API refuses it)
        {"role": "assistant", "content": [{"type": "text", "text": "three"}, {"type": "text", "text": "four"}]},
    ]
    assert messages[-1].content == "four  ", "the caller's message must not be modified"


async def test_tool_schemas_and_choice(server: AnthropicTestServer, make_client: Any) -> None:
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    tool = FunctionTool(add, description="Add two numbers.")
    client = make_client()
    body = await sent(server, client, [user("2+2?")], tools=[tool, WEATHER])
    assert [t["name"] for t in body["tools"]] == ["add", "get_weather"]
    assert body["tools"][0]["description"] == "Add two numbers."
    assert body["tools"][0]["input_schema"]["properties"].keys() == {"a", "b"}
    assert body["tools"][1]["input_schema"] == WEATHER["parameters"]
    assert body["tool_choice"] == {"type": "auto"}
    for choice, expected in [("required", {"type": "any"}), ("none", {"type": "none"})]:
        body = await sent(server, client, [user("2+2?")], tools=[tool], tool_choice=choice)
        assert body["tool_choice"] == expected
    body = await sent(server, client, [user("2+2?")], tools=[tool, WEATHER], tool_choice=tool)
    assert body["tool_choice"] == {"type": "tool", "name": "add"}


async def test_tool_choice_must_be_among_the_tools(make_client: Any) -> None:
    tool = FunctionTool(lambda: None, name="other", description="x")
    with pytest.raises(ValueError, match=r"'other'.*not among the tools"):
        await make_client().create([user("Hi")], tools=[WEATHER], tool_choice=tool)
    with pytest.raises(ValueError, match="'other'"):
        await make_client().create([user("Hi")], tool_choice=tool)


async def test_invalid_tool_name_is_a_clear_error(make_client: Any) -> None:
    with pytest.raises(ValueError, match="not valid for Anthropic"):
        await make_client().create(
            [user("Hi")], tools=[{"name": "bad name!", "parameters": {"type": "object", "properties": {}}}]
        )


async def test_tool_use_and_tool_results_are_paired(server: AnthropicTestServer, make_client: Any) -> None:
    calls = [
        FunctionCall(id="toolu_a", arguments=json.dumps({"city": "Oslo"}), name="get_weather"),
        FunctionCall(id="toolu_b", arguments=json.dumps({"city": "Rome"}), name="get_weather"),
    ]
    messages: list[LLMMessage] = [
        user("Weather?"),
        AssistantMessage(content=calls, thought="Two lookups.", source="assistant"),
        FunctionExecutionResultMessage(
            content=[
                FunctionExecutionResult(content="cold", name="get_weather", call_id="toolu_a"),
                FunctionExecutionResult(content="boom", name="get_weather", call_id="toolu_b", is_error=True),
            ]
        ),
        user("And so?"),
    ]
    body = await sent(server, make_client(), messages, tools=[WEATHER])
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Two lookups."},
                {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"city": "Oslo"}},
                {"type": "tool_use", "id": "toolu_b", "name": "get_weather", "input": {"city": "Rome"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_a", "content": "cold"},
                {"type": "tool_result", "tool_use_id": "toolu_b", "content": "boom", "is_error": True},
                {"type": "text", "text": "And so?"},
            ],
        },
    ]


async def test_history_with_tool_calls_but_no_tools_still_defines_them(
    server: AnthropicTestServer, make_client: Any
) -> None:
    """The API refuses tool_use blocks without tool definitions; the client defines the called ones, unusable."""
    call = FunctionCall(id="toolu_a", arguments="{}", name="get_time")
    messages: list[LLMMessage] = [
        user("Time?"),
        AssistantMessage(content=[call], source="a"),
        FunctionExecutionResultMessage(
            content=[FunctionExecutionResult(content="noon", name="get_time", call_id="toolu_a")]
        ),
    ]
    body = await sent(server, make_client(), messages)
    assert body["tools"] == [{"name": "get_time", "input_schema": {"type": "object"}}]
    assert body["tool_choice"] == {"type": "none"}


async def test_thinking_config_is_sent_and_overridable(server: AnthropicTestServer, make_client: Any) -> None:
    client = make_client(thinking={"type": "enabled", "budget_tokens": 2048})
    body = await sent(server, client, [user("Think.")])
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    body = await sent(server, client, [user("Think.")], extra_create_args={"thinking": {"type": "disabled"}})
    assert body["thinking"] == {"type": "disabled"}


async def test_thinking_blocks_go_back_with_their_tool_calls(server: AnthropicTestServer, make_client: Any) -> None:
    """With thinking on, the API needs the signed thinking block before tool_use blocks sent back."""
    client = make_client(thinking={"type": "enabled", "budget_tokens": 2048})
    thinking = {"type": "thinking", "thinking": "Need the weather.", "signature": "sig-123"}
    tool_use = {"type": "tool_use", "id": "toolu_t", "name": "get_weather", "input": {"city": "Paris"}}
    server.script(AnthropicReply([thinking, tool_use]), "Sunny in Paris.")
    first = await client.create([user("Paris?")], tools=[WEATHER])
    assert first.thought == "Need the weather."
    assert isinstance(first.content, list)
    conversation: list[LLMMessage] = [
        user("Paris?"),
        AssistantMessage(content=first.content, thought=first.thought, source="a"),
        FunctionExecutionResultMessage(
            content=[FunctionExecutionResult(content="sunny", name="get_weather", call_id="toolu_t")]
        ),
    ]
    await client.create(conversation, tools=[WEATHER])
    assistant = server.requests[-1].body["messages"][1]
    assert assistant["content"][0] == thinking
    assert assistant["content"][-1] == tool_use


async def test_streaming_sends_stream_true(server: AnthropicTestServer, make_client: Any) -> None:
    server.script("streamed")
    items = [item async for item in make_client().create_stream([SystemMessage(content="S"), user("Hi")])]
    assert items[0] == "streamed"
    body = server.requests[-1].body
    assert body["stream"] is True
    assert body["system"] == "S"


async def test_only_system_messages_is_a_clear_error(make_client: Any) -> None:
    with pytest.raises(ValueError, match="at least one user or assistant message"):
        await make_client().create([SystemMessage(content="Alone.")])


class Answer(BaseModel):
    value: int
    note: str | None = None


async def test_structured_output_sends_the_schema(server: AnthropicTestServer, make_client: Any) -> None:
    client = make_client()
    server.script('{"value": 3}')
    result = await client.create(
        [user("Hi")], json_output=Answer, extra_create_args={"output_config": {"effort": "low"}}
    )
    assert Answer.model_validate_json(str(result.content)) == Answer(value=3)
    output_config = server.requests[-1].body["output_config"]
    assert output_config["effort"] == "low"
    assert output_config["format"]["type"] == "json_schema"
    schema = output_config["format"]["schema"]
    assert schema["properties"].keys() == {"value", "note"}
    assert schema["additionalProperties"] is False


async def test_json_output_true_adds_no_request_field(server: AnthropicTestServer, make_client: Any) -> None:
    body = await sent(server, make_client(), [user("JSON please")], json_output=True)
    assert "output_config" not in body and "response_format" not in body


async def test_structured_output_needs_a_model_that_has_it(make_client: Any) -> None:
    info = {
        "vision": True,
        "function_calling": True,
        "json_output": True,
        "family": "unknown",
        "structured_output": False,
    }
    with pytest.raises(ValueError, match="no structured output"):
        await make_client(model_info=info).create([user("Hi")], json_output=Answer)


PNG_IMAGE = Image.from_base64(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
)


async def test_images_need_a_vision_model(make_client: Any) -> None:
    info = {
        "vision": False,
        "function_calling": True,
        "json_output": True,
        "family": "unknown",
        "structured_output": False,
    }
    with pytest.raises(ValueError, match="does not accept images"):
        await make_client(model_info=info).create([UserMessage(content=["look", PNG_IMAGE], source="u")])


async def test_images_are_sent_as_base64_blocks(server: AnthropicTestServer, make_client: Any) -> None:
    png = PNG_IMAGE.to_base64()
    body = await sent(server, make_client(), [UserMessage(content=["look", PNG_IMAGE], source="u")])
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "look"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}},
    ]
