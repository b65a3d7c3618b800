"""AssistantAgent output: streaming chunks and their message ids, thoughts, event order, structured output."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from salon import CancellationToken, FunctionCall
from salon.models import (
    AssistantMessage,
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    ModelFamily,
    ModelInfo,
    ReplayChatCompletionClient,
    RequestUsage,
)
from salon_agentchat.agents import AssistantAgent
from salon_agentchat.base import Response, TaskResult
from salon_agentchat.messages import (
    ModelClientStreamingChunkEvent,
    StructuredMessage,
    TextMessage,
    ThoughtEvent,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
)

USAGE = RequestUsage(prompt_tokens=5, completion_tokens=2)


def info() -> ModelInfo:
    return ModelInfo(
        vision=False, function_calling=True, json_output=True, family=ModelFamily.UNKNOWN, structured_output=True
    )


def text(content: str, thought: str | None = None) -> CreateResult:
    return CreateResult(finish_reason="stop", content=content, usage=USAGE, cached=False, thought=thought)


def tool_call(name: str, arguments: dict[str, Any], thought: str | None = None) -> CreateResult:
    call = FunctionCall(id="c1", name=name, arguments=json.dumps(arguments))
    return CreateResult(finish_reason="function_calls", content=[call], usage=USAGE, cached=False, thought=thought)


def echo(text: str) -> str:
    """Echo the text."""
    return text


class ScriptedStream(ChatCompletionClient):
    """A streaming client whose every stream is given item by item, including items a real client must not send."""

    def __init__(self, streams: Sequence[Sequence[object]]) -> None:
        self._streams = [list(s) for s in streams]
        self.options: list[Mapping[str, Any]] = []

    async def create(self, messages: Sequence[LLMMessage], **options: Any) -> CreateResult:
        raise AssertionError("the agent was asked to stream")

    async def create_stream(  # type: ignore[override]
        self, messages: Sequence[LLMMessage], **options: Any
    ) -> AsyncGenerator[Any, None]:
        self.options.append(options)
        for item in self._streams.pop(0):
            yield item

    async def close(self) -> None:
        pass

    def actual_usage(self) -> RequestUsage:
        return USAGE

    def total_usage(self) -> RequestUsage:
        return USAGE

    def count_tokens(self, messages: Sequence[LLMMessage], **options: Any) -> int:
        return 0

    def remaining_tokens(self, messages: Sequence[LLMMessage], **options: Any) -> int:
        return 1000

    @property
    def model_info(self) -> ModelInfo:
        return info()


async def stream_of(agent: AssistantAgent, task: str = "go") -> list[Any]:
    return [
        item async for item in agent.on_messages_stream([TextMessage(content=task, source="user")], CancellationToken())
    ]


async def test_streamed_chunks_carry_the_final_message_id() -> None:
    agent = AssistantAgent(
        "a", model_client=ReplayChatCompletionClient(["Hello there, friend."]), model_client_stream=True
    )
    items = [item async for item in agent.run_stream(task="hi")]

    chunks = [i for i in items if isinstance(i, ModelClientStreamingChunkEvent)]
    assert "".join(c.content for c in chunks) == "Hello there, friend."
    assert len(chunks) == 3
    final = items[-2]
    assert isinstance(final, TextMessage) and final.content == "Hello there, friend."
    assert {c.full_message_id for c in chunks} == {final.id}
    assert all(c.source == "a" for c in chunks)
    # Chunks are streamed, but the result holds only the complete message.
    result = items[-1]
    assert isinstance(result, TaskResult)
    assert [type(m) for m in result.messages] == [TextMessage, TextMessage]


async def test_stream_order_with_tools_and_reflection() -> None:
    model = ReplayChatCompletionClient([tool_call("echo", {"text": "x"}), "Echoed x."], model_info=info())
    agent = AssistantAgent("a", model_client=model, tools=[echo], reflect_on_tool_use=True, model_client_stream=True)

    items = await stream_of(agent)

    kinds = [type(i).__name__ for i in items]
    assert kinds == [
        "ToolCallRequestEvent",
        "ToolCallExecutionEvent",
        "ModelClientStreamingChunkEvent",
        "ModelClientStreamingChunkEvent",
        "Response",
    ]
    response = items[-1]
    assert isinstance(response, Response) and isinstance(response.chat_message, TextMessage)
    assert {i.full_message_id for i in items[2:4]} == {response.chat_message.id}
    assert response.inner_messages == items[:2]


async def test_streaming_chunks_are_passed_on_as_sent() -> None:
    model = ScriptedStream([["", "content", "", text("content")]])
    items = await stream_of(AssistantAgent("a", model_client=model, model_client_stream=True))
    assert [i.content for i in items if isinstance(i, ModelClientStreamingChunkEvent)] == ["", "content", ""]
    assert items[-1].chat_message.content == "content"


async def test_stream_with_a_foreign_item_is_an_error() -> None:
    model = ScriptedStream([["ok", 123, text("ok")]])
    with pytest.raises(RuntimeError, match="Invalid chunk type: int"):
        await stream_of(AssistantAgent("a", model_client=model, model_client_stream=True))


async def test_stream_without_final_result_is_an_error() -> None:
    model = ScriptedStream([["a", "b"]])
    with pytest.raises(RuntimeError, match="No final model result in streaming mode"):
        await stream_of(AssistantAgent("a", model_client=model, model_client_stream=True))


async def test_streaming_passes_tools_and_token() -> None:
    model = ScriptedStream([[text("ok")]])
    token = CancellationToken()
    agent = AssistantAgent("a", model_client=model, model_client_stream=True, tools=[echo])
    await agent.on_messages([TextMessage(content="x", source="u")], token)
    assert model.options[0]["cancellation_token"] is token
    assert [t["name"] for t in model.options[0]["tools"]] == ["echo"]


# -- thoughts ----------------------------------------------------------------------------------------------


async def test_thought_is_reported_and_kept_in_the_context() -> None:
    model = ReplayChatCompletionClient([text("Final.", thought="Let me think.")])
    agent = AssistantAgent("a", model_client=model)
    result = await agent.run(task="go")
    assert [type(m) for m in result.messages] == [TextMessage, ThoughtEvent, TextMessage]
    thought = result.messages[1]
    assert isinstance(thought, ThoughtEvent) and thought.content == "Let me think." and thought.source == "a"
    assert thought.id != result.messages[2].id
    assert (await agent.model_context.get_messages())[-1] == AssistantMessage(
        content="Final.", source="a", thought="Let me think."
    )


async def test_no_thought_no_event() -> None:
    result = await AssistantAgent("a", model_client=ReplayChatCompletionClient(["x"])).run(task="go")
    assert not any(isinstance(m, ThoughtEvent) for m in result.messages)


async def test_thoughts_of_every_model_call_are_reported_in_order() -> None:
    model = ReplayChatCompletionClient(
        [
            tool_call("echo", {"text": "1"}, thought="first"),
            tool_call("echo", {"text": "2"}, thought="second"),
            text("done", thought="third"),
        ],
        model_info=info(),
    )
    agent = AssistantAgent("a", model_client=model, tools=[echo], max_tool_iterations=3)
    result = await agent.run(task="go")
    assert [m.content for m in result.messages if isinstance(m, ThoughtEvent)] == ["first", "second", "third"]
    kinds = [type(m).__name__ for m in result.messages[1:]]
    assert kinds == [
        "ThoughtEvent",
        "ToolCallRequestEvent",
        "ToolCallExecutionEvent",
        "ThoughtEvent",
        "ToolCallRequestEvent",
        "ToolCallExecutionEvent",
        "ThoughtEvent",
        "TextMessage",
    ]


async def test_reflection_thought_is_reported() -> None:
    model = ReplayChatCompletionClient(
        [tool_call("echo", {"text": "1"}, thought="before"), text("after tools", thought="reflecting")],
        model_info=info(),
    )
    agent = AssistantAgent("a", model_client=model, tools=[echo], reflect_on_tool_use=True, model_client_stream=True)
    items = await stream_of(agent)
    assert [i.content for i in items if isinstance(i, ThoughtEvent)] == ["before", "reflecting"]
    assert isinstance(items[-1], Response) and items[-1].chat_message.to_text() == "after tools"


# -- structured output -------------------------------------------------------------------------------------


class Verdict(BaseModel):
    answer: str
    confidence: float


async def test_structured_output_is_parsed_into_a_structured_message() -> None:
    model = ReplayChatCompletionClient(['{"answer": "yes", "confidence": 0.9}'], model_info=info())
    agent = AssistantAgent("judge", model_client=model, output_content_type=Verdict)
    result = await agent.run(task="Is it?")
    message = result.messages[-1]
    assert isinstance(message, StructuredMessage)
    assert message.content == Verdict(answer="yes", confidence=0.9)
    assert message.source == "judge"
    assert message.models_usage is not None
    assert model.create_calls[0]["json_output"] is Verdict


async def test_structured_output_format_string_renders_the_text() -> None:
    model = ReplayChatCompletionClient(['{"answer": "no", "confidence": 0.5}'], model_info=info())
    agent = AssistantAgent(
        "judge", model_client=model, output_content_type=Verdict, output_content_type_format="{answer} ({confidence})"
    )
    result = await agent.run(task="Is it?")
    assert result.messages[-1].to_text() == "no (0.5)"


async def test_structured_output_format_string_also_applies_after_reflection() -> None:
    model = ReplayChatCompletionClient(
        [tool_call("echo", {"text": "x"}), '{"answer": "x", "confidence": 1}'], model_info=info()
    )
    agent = AssistantAgent(
        "judge",
        model_client=model,
        tools=[echo],
        output_content_type=Verdict,
        output_content_type_format="{answer}!",
    )
    result = await agent.run(task="go")
    assert isinstance(result.messages[-1], StructuredMessage)
    assert result.messages[-1].to_text() == "x!"


async def test_invalid_structured_output_raises_a_validation_error() -> None:
    model = ReplayChatCompletionClient(['{"answer": "missing confidence"}'], model_info=info())
    agent = AssistantAgent("judge", model_client=model, output_content_type=Verdict)
    with pytest.raises(ValidationError, match="confidence"):
        await agent.run(task="Is it?")
    # The model's answer stays in the context, so a retry can show the model what was wrong.
    assert (await agent.model_context.get_messages())[-1].content == '{"answer": "missing confidence"}'


async def test_structured_output_that_is_not_json_raises_a_validation_error() -> None:
    model = ReplayChatCompletionClient(["Sure! Here it is."], model_info=info())
    with pytest.raises(ValidationError):
        await AssistantAgent("judge", model_client=model, output_content_type=Verdict).run(task="go")


async def test_tool_request_event_carries_the_model_usage_in_streaming_mode() -> None:
    model = ReplayChatCompletionClient([tool_call("echo", {"text": "x"})], model_info=info())
    agent = AssistantAgent("a", model_client=model, tools=[echo], model_client_stream=True)
    items = await stream_of(agent)
    assert isinstance(items[0], ToolCallRequestEvent) and items[0].models_usage == USAGE
    assert isinstance(items[1], ToolCallExecutionEvent)
    assert items[-1].chat_message.to_text() == "x"
