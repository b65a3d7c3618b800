"""The model-client conformance suite, run against the real default model.

The suite scripts its replies; a real model cannot be scripted, so ``make_client`` ignores them and the
tests that compare answers with a scripted text or scripted tool calls are overridden here with the same
contract checked the way a real model allows (same names, so nothing is silently dropped). Tool calls are
forced (``tool_choice``), which constrains the model with a grammar built from the tool's schema.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import jsonschema
from pydantic import BaseModel

from salon import FunctionCall
from salon.models import (
    AssistantMessage,
    ChatCompletionClient,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
    UserMessage,
)
from salon.testing import ModelClientConformanceSuite, ScriptedReply
from salon.testing._model_client_conformance import WEATHER_TOOL, ClientFactory
from salon.tools import ToolSchema
from salon_llamacpp import LlamaCppChatCompletionClient

#: As in conftest.py: small, seeded, greedy answers.
FAST: dict[str, Any] = {"seed": 1234, "temperature": 0.0, "max_tokens": 24, "n_threads": 2}

TIME_TOOL: ToolSchema = {
    "name": "get_time",
    "description": "Get the local time in a time zone.",
    "parameters": {
        "type": "object",
        "properties": {"zone": {"type": "string"}},
        "required": ["zone"],
        "additionalProperties": False,
    },
}


def _user(text: str) -> UserMessage:
    return UserMessage(content=text, source="user")


def _check_call(call: FunctionCall, tool: ToolSchema) -> dict[str, object]:
    assert isinstance(call, FunctionCall)
    assert call.name == tool["name"]
    assert call.id
    arguments = json.loads(call.arguments)
    jsonschema.validate(arguments, dict(tool["parameters"]))
    assert isinstance(arguments, dict)
    return arguments


class _Answer(BaseModel):
    answer: int


class TestLlamaCppConformance(ModelClientConformanceSuite):
    timeout = 50.0

    async def make_client(self, replies: Sequence[ScriptedReply]) -> ChatCompletionClient:
        return LlamaCppChatCompletionClient(**FAST)

    # -- overridden: a real model's text cannot be scripted --------------------------------------------

    async def test_create_returns_a_result_with_usage(self, client_factory: ClientFactory) -> None:
        client = await client_factory([])
        result = await self.within(client.create([SystemMessage(content="Be brief."), _user("Sky colour?")]))
        assert isinstance(result.content, str) and result.content.strip()
        assert result.finish_reason in ("stop", "length")
        assert result.cached is False
        self.assert_real_usage(result.usage)

    async def test_every_message_kind_is_accepted(self, client_factory: ClientFactory) -> None:
        client = await client_factory([])
        call = FunctionCall(id="call_1", arguments=json.dumps({"city": "Paris"}), name="get_weather")
        messages: list[LLMMessage] = [
            SystemMessage(content="You report the weather."),
            _user("Weather in Paris?"),
            AssistantMessage(content=[call], thought="I should look it up.", source="assistant"),
            FunctionExecutionResultMessage(
                content=[FunctionExecutionResult(content="Sunny, 21 C", name="get_weather", call_id="call_1")]
            ),
            AssistantMessage(content="It is sunny.", thought="Easy.", source="assistant"),
            _user("Thanks!"),
        ]
        result = await self.within(client.create(messages, tools=[WEATHER_TOOL], tool_choice="none"))
        assert isinstance(result.content, str) and result.content.strip()
        # The whole history reached the model: the prompt counts every message.
        assert result.usage.prompt_tokens == client.count_tokens(messages)

    async def test_stream_yields_chunks_then_one_final_result(self, client_factory: ClientFactory) -> None:
        client = await client_factory([])
        chunks, final = self.split_stream(await self.drain(client.create_stream([_user("Count to twelve.")])))
        assert len(chunks) > 1, "a real model streams its answer piece by piece"
        assert "".join(chunks) == final.content
        assert final.finish_reason in ("stop", "length")
        assert final.cached is False
        self.assert_real_usage(final.usage)

    async def test_tool_calls_come_back_as_function_calls(self, client_factory: ClientFactory) -> None:
        client = await client_factory([])
        result = await self.within(
            client.create([_user("Weather in Oslo?")], tools=[WEATHER_TOOL], tool_choice="required")
        )
        assert result.finish_reason == "function_calls"
        assert isinstance(result.content, list) and len(result.content) == 1
        _check_call(result.content[0], WEATHER_TOOL)

    async def test_parallel_tool_calls_keep_their_order(self, client_factory: ClientFactory) -> None:
        # A forced call is one call; what a real model shows instead: among several tools it calls one of
        # them validly, and a history with several calls in order is sent in that order.
        client = await client_factory([])
        result = await self.within(
            client.create([_user("What time is it in Tokyo?")], tools=[WEATHER_TOOL, TIME_TOOL], tool_choice="required")
        )
        assert isinstance(result.content, list) and len(result.content) == 1
        call = result.content[0]
        _check_call(call, WEATHER_TOOL if call.name == "get_weather" else TIME_TOOL)
        cities = ["Lima", "Quito", "Bogota"]
        calls = [
            FunctionCall(id=f"c{i}", arguments=json.dumps({"city": c}), name="get_weather")
            for i, c in enumerate(cities)
        ]
        history: list[LLMMessage] = [_user("Weather in three cities?"), AssistantMessage(content=calls, source="a")]
        reversed_history: list[LLMMessage] = [history[0], AssistantMessage(content=calls[::-1], source="a")]
        assert client.count_tokens(history) == client.count_tokens(reversed_history)  # same calls, both sent

    async def test_streamed_tool_calls_end_in_one_result(self, client_factory: ClientFactory) -> None:
        client = await client_factory([])
        stream = client.create_stream([_user("Weather in Rome?")], tools=[WEATHER_TOOL], tool_choice="required")
        chunks, final = self.split_stream(await self.drain(stream))
        assert final.finish_reason == "function_calls"
        assert isinstance(final.content, list) and len(final.content) == 1
        arguments = _check_call(final.content[0], WEATHER_TOOL)
        assert json.loads("".join(chunks))["arguments"] == arguments  # the streamed text is the call's JSON

    async def test_tool_call_round_trip(self, client_factory: ClientFactory) -> None:
        client = await client_factory([])
        conversation: list[LLMMessage] = [_user("Weather in Cairo?")]
        first = await self.within(client.create(conversation, tools=[WEATHER_TOOL], tool_choice="required"))
        assert isinstance(first.content, list)
        conversation.append(AssistantMessage(content=first.content, source="assistant"))
        conversation.append(
            FunctionExecutionResultMessage(
                content=[FunctionExecutionResult(content="38 C", name=c.name, call_id=c.id) for c in first.content]
            )
        )
        second = await self.within(client.create(conversation, tools=[WEATHER_TOOL], tool_choice="none"))
        assert isinstance(second.content, str) and second.content.strip()
        assert second.finish_reason in ("stop", "length")

    async def test_json_output(self, client_factory: ClientFactory) -> None:
        client = await client_factory([])
        prompt = 'Reply with the JSON object {"answer": 42} and nothing else.'
        result = await self.within(
            client.create([_user(prompt)], json_output=True, extra_create_args={"max_tokens": 64})
        )
        assert isinstance(result.content, str)
        assert result.finish_reason == "stop"
        assert isinstance(json.loads(result.content), dict)  # the grammar admits JSON objects only
        structured = await self.within(
            client.create([_user("What is 6 times 7? Answer in JSON.")], json_output=_Answer)
        )
        assert isinstance(structured.content, str)
        assert isinstance(_Answer.model_validate_json(structured.content).answer, int)
