"""AssistantAgent handoffs: the tools offered, the HandoffMessage, and the context it carries."""

from __future__ import annotations

import json
from typing import Any

import pytest

from salon import CancellationToken, FunctionCall
from salon.models import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    ModelFamily,
    ModelInfo,
    ReplayChatCompletionClient,
    RequestUsage,
    UserMessage,
)
from salon_agentchat.agents import AssistantAgent
from salon_agentchat.base import Handoff
from salon_agentchat.messages import HandoffMessage, TextMessage, ThoughtEvent, ToolCallExecutionEvent

USAGE = RequestUsage(prompt_tokens=5, completion_tokens=2)


def client(*responses: str | CreateResult) -> ReplayChatCompletionClient:
    info = ModelInfo(
        vision=False, function_calling=True, json_output=False, family=ModelFamily.UNKNOWN, structured_output=False
    )
    return ReplayChatCompletionClient(list(responses), model_info=info)


def calls(*specs: tuple[str, dict[str, Any]], thought: str | None = None) -> CreateResult:
    content = [FunctionCall(id=f"c{i}", name=n, arguments=json.dumps(a)) for i, (n, a) in enumerate(specs)]
    return CreateResult(finish_reason="function_calls", content=content, usage=USAGE, cached=False, thought=thought)


def lookup(city: str) -> str:
    """Look up a city."""
    return f"{city}: sunny"


async def test_handoffs_are_offered_as_tools_after_the_agents_tools() -> None:
    model = client("ok")
    agent = AssistantAgent(
        "a",
        model_client=model,
        tools=[lookup],
        handoffs=["flights", Handoff(target="hotels", description="Book rooms.", name="to_hotels")],
    )
    await agent.run(task="go")
    tools = model.create_calls[0]["tools"]
    assert [t["name"] for t in tools] == ["lookup", "transfer_to_flights", "to_hotels"]
    assert tools[1]["description"] == "Handoff to flights."
    assert tools[2]["description"] == "Book rooms."


async def test_handoff_ends_the_turn_with_a_handoff_message() -> None:
    model = client(calls(("transfer_to_flights", {})))
    agent = AssistantAgent("a", model_client=model, handoffs=["flights"])
    result = await agent.run(task="Book me a flight.")
    message = result.messages[-1]
    assert isinstance(message, HandoffMessage)
    assert message.target == "flights"
    assert message.source == "a"
    assert message.content == "Transferred to flights, adopting the role of flights immediately."
    assert message.context == []
    execution = result.messages[-2]
    assert isinstance(execution, ToolCallExecutionEvent)
    assert execution.content == [
        FunctionExecutionResult(content=message.content, name="transfer_to_flights", call_id="c0", is_error=False)
    ]


async def test_arguments_the_model_adds_to_a_handoff_are_ignored() -> None:
    model = client(calls(("transfer_to_flights", {"target": "flights", "reason": "user asked"})))
    result = await AssistantAgent("a", model_client=model, handoffs=["flights"]).run(task="go")
    execution = result.messages[-2]
    assert isinstance(execution, ToolCallExecutionEvent)
    assert not execution.content[0].is_error
    assert isinstance(result.messages[-1], HandoffMessage)


async def test_handoff_context_carries_the_other_tool_calls_and_results() -> None:
    model = client(calls(("lookup", {"city": "Oslo"}), ("transfer_to_planner", {}), thought="Weather first."))
    agent = AssistantAgent(
        "scout",
        model_client=model,
        tools=[lookup],
        handoffs=[Handoff(target="planner", message="Planner, over to you.")],
    )
    result = await agent.run(task="Plan a trip to Oslo.")
    message = result.messages[-1]
    assert isinstance(message, HandoffMessage)
    assert message.content == "Planner, over to you."
    assert message.context == [
        AssistantMessage(
            content=[FunctionCall(id="c0", name="lookup", arguments='{"city": "Oslo"}')],
            source="scout",
            thought="Weather first.",
        ),
        FunctionExecutionResultMessage(
            content=[FunctionExecutionResult(content="Oslo: sunny", name="lookup", call_id="c0", is_error=False)]
        ),
    ]


async def test_the_receiving_agent_sees_the_handoff_context() -> None:
    scout_model = client(calls(("lookup", {"city": "Oslo"}), ("transfer_to_planner", {})))
    scout = AssistantAgent("scout", model_client=scout_model, tools=[lookup], handoffs=["planner"])
    handoff = (await scout.run(task="Trip to Oslo")).messages[-1]
    assert isinstance(handoff, HandoffMessage)

    planner_model = client("Pack sunglasses.")
    planner = AssistantAgent("planner", model_client=planner_model, system_message=None)
    await planner.on_messages([handoff], CancellationToken())
    sent = planner_model.create_calls[0]["messages"]
    assert [type(m) for m in sent] == [AssistantMessage, FunctionExecutionResultMessage, UserMessage]
    assert sent[1].content[0].content == "Oslo: sunny"
    assert sent[2] == UserMessage(content=handoff.content, source="scout")


async def test_handoff_with_only_a_thought_carries_the_thought() -> None:
    model = client(calls(("transfer_to_b", {}), thought="b knows better."))
    result = await AssistantAgent("a", model_client=model, handoffs=["b"]).run(task="go")
    assert [m.content for m in result.messages if isinstance(m, ThoughtEvent)] == ["b knows better."]
    message = result.messages[-1]
    assert isinstance(message, HandoffMessage)
    assert message.context == [AssistantMessage(content="b knows better.", source="a")]


async def test_several_handoffs_take_the_first_with_a_warning() -> None:
    model = client(calls(("transfer_to_b", {}), ("transfer_to_c", {})))
    agent = AssistantAgent("a", model_client=model, handoffs=["b", "c"])
    with pytest.warns(UserWarning, match="Multiple handoffs detected.*transfer_to_b.*transfer_to_c"):
        result = await agent.run(task="go")
    message = result.messages[-1]
    assert isinstance(message, HandoffMessage) and message.target == "b"


async def test_handoff_stops_the_tool_loop() -> None:
    model = client(calls(("lookup", {"city": "Rome"})), calls(("transfer_to_b", {})), "never asked")
    agent = AssistantAgent("a", model_client=model, tools=[lookup], handoffs=["b"], max_tool_iterations=5)
    result = await agent.run(task="go")
    assert len(model.create_calls) == 2
    assert isinstance(result.messages[-1], HandoffMessage)


async def test_tool_calls_without_a_handoff_still_summarise() -> None:
    model = client(calls(("lookup", {"city": "Rome"})))
    result = await AssistantAgent("a", model_client=model, tools=[lookup], handoffs=["b"]).run(task="go")
    assert result.messages[-1].to_text() == "Rome: sunny"
    assert not isinstance(result.messages[-1], HandoffMessage)
    assert isinstance(result.messages[0], TextMessage)
