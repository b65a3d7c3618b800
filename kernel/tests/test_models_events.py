"""LLM and tool events on the event logger: lazy rendering, JSON output, the calling agent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from salon import AgentId, FunctionCall, MessageContext, RoutedAgent, SingleThreadedAgentRuntime, message_handler
from salon.logging import LLMCallEvent, LLMStreamEndEvent, LLMStreamStartEvent, ToolCallEvent
from salon.models import CreateResult, RequestUsage, UserMessage


class CountingModel:
    """Looks like a pydantic model to the renderer and counts how often it is rendered."""

    dumps = 0

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        CountingModel.dumps += 1
        return {"rendered": True}


def test_events_render_only_when_read() -> None:
    CountingModel.dumps = 0
    event = LLMCallEvent(messages=[CountingModel()], response=CountingModel(), prompt_tokens=1, completion_tokens=2)
    assert CountingModel.dumps == 0
    assert event.prompt_tokens == 1 and event.completion_tokens == 2
    assert event.kwargs["messages"] == [{"rendered": True}]
    assert CountingModel.dumps == 2


def test_llm_call_event_renders_models_and_dataclasses_as_json() -> None:
    result = CreateResult(
        finish_reason="function_calls",
        content=[FunctionCall(id="1", arguments="{}", name="f")],
        usage=RequestUsage(3, 4),
        cached=False,
    )
    event = LLMCallEvent(
        messages=[UserMessage(content="hi", source="user"), {"role": "user", "content": "raw dict"}],
        response=result,
        prompt_tokens=3,
        completion_tokens=4,
        tools=[{"name": "f"}],
    )
    data = json.loads(str(event))
    assert data["type"] == "LLMCall"
    assert data["messages"][0] == {"content": "hi", "source": "user", "type": "UserMessage"}
    assert data["messages"][1] == {"role": "user", "content": "raw dict"}
    assert data["response"]["content"] == [{"id": "1", "arguments": "{}", "name": "f"}]
    assert data["response"]["usage"] == {"prompt_tokens": 3, "completion_tokens": 4}
    assert data["tools"] == [{"name": "f"}]
    assert data["agent_id"] is None


def test_stream_and_tool_events_have_their_types_and_fields() -> None:
    start = json.loads(str(LLMStreamStartEvent(messages=[{"role": "user", "content": "x"}])))
    assert start["type"] == "LLMStreamStart" and start["messages"] == [{"role": "user", "content": "x"}]
    end = LLMStreamEndEvent(response={"content": "y"}, prompt_tokens=5, completion_tokens=6)
    assert (end.prompt_tokens, end.completion_tokens) == (5, 6)
    assert json.loads(str(end))["type"] == "LLMStreamEnd"
    tool = json.loads(str(ToolCallEvent(tool_name="add", arguments={"a": 1}, result="2", call_id="c")))
    assert tool == {
        "tool_name": "add",
        "arguments": {"a": 1},
        "result": "2",
        "call_id": "c",
        "agent_id": None,
        "type": "ToolCall",
    }


def test_unrenderable_values_fall_back_to_repr() -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "<opaque>"

    class Broken:
        def model_dump(self, mode: str = "python") -> Any:
            raise RuntimeError("no")

        def __repr__(self) -> str:
            return "<broken>"

    event = LLMStreamStartEvent(messages=[Opaque(), Broken(), {1: {2}}])
    assert json.loads(str(event))["messages"] == ["<opaque>", "<broken>", {"1": "{2}"}]


@dataclass
class Ask:
    text: str


class Asker(RoutedAgent):
    @message_handler
    async def on_ask(self, message: Ask, ctx: MessageContext) -> str:
        return str(LLMCallEvent(messages=[], response={}, prompt_tokens=0, completion_tokens=0))


async def test_events_name_the_agent_whose_handler_made_the_call() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Asker.register(runtime, "asker", lambda: Asker("asks"))
    runtime.start()
    rendered = await runtime.send_message(Ask("x"), AgentId("asker", "k"))
    await runtime.stop()
    assert json.loads(rendered)["agent_id"] == "asker/k"
