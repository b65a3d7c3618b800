"""AssistantAgent without tools: conversation, context, memory, state, configuration errors."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage

from salon import CancellationToken, Image
from salon.memory import ListMemory, MemoryContent, MemoryMimeType
from salon.model_context import BufferedChatCompletionContext, UnboundedChatCompletionContext
from salon.models import (
    AssistantMessage,
    CreateResult,
    ModelFamily,
    ModelInfo,
    ReplayChatCompletionClient,
    RequestUsage,
    SystemMessage,
    UserMessage,
)
from salon.tools import FunctionTool, StaticWorkbench
from salon_agentchat.agents import AssistantAgent
from salon_agentchat.base import Handoff, Response, TaskResult
from salon_agentchat.messages import (
    HandoffMessage,
    MemoryQueryEvent,
    MultiModalMessage,
    StructuredMessage,
    TextMessage,
    ToolCallSummaryMessage,
)
from salon_agentchat.state import AssistantAgentState, TeamState


def info(*, function_calling: bool = True, vision: bool = False) -> ModelInfo:
    return ModelInfo(
        vision=vision,
        function_calling=function_calling,
        json_output=True,
        family=ModelFamily.UNKNOWN,
        structured_output=True,
    )


def echo(text: str) -> str:
    """Echo the text."""
    return text


def user_texts(client: ReplayChatCompletionClient, call: int) -> list[str]:
    return [m.content for m in client.create_calls[call]["messages"] if isinstance(m, UserMessage)]  # type: ignore[misc]


async def test_answers_with_a_text_message_and_continues_the_conversation_on_a_second_run() -> None:
    client = ReplayChatCompletionClient(["Paris.", "About 2.1 million."])
    agent = AssistantAgent("geo", model_client=client, system_message="You answer questions.")

    first = await agent.run(task="Capital of France?")
    second = await agent.run(task="Its population?")

    assert [type(m) for m in first.messages] == [TextMessage, TextMessage]
    assert first.messages[-1].to_text() == "Paris."
    assert first.messages[-1].source == "geo"
    assert second.messages[-1].to_text() == "About 2.1 million."
    # The second call sees the whole conversation, led by the system message.
    sent = client.create_calls[1]["messages"]
    assert sent[0] == SystemMessage(content="You answer questions.")
    assert [type(m) for m in sent[1:]] == [UserMessage, AssistantMessage, UserMessage]
    assert sent[2].content == "Paris."
    assert sent[2].source == "geo"
    assert user_texts(client, 1) == ["Capital of France?", "Its population?"]


async def test_message_usage_comes_from_the_model_result() -> None:
    usage = RequestUsage(prompt_tokens=11, completion_tokens=3)
    client = ReplayChatCompletionClient([CreateResult(finish_reason="stop", content="ok", usage=usage, cached=False)])
    response = await AssistantAgent("a", model_client=client).on_messages(
        [TextMessage(content="hi", source="user")], CancellationToken()
    )
    assert isinstance(response.chat_message, TextMessage)
    assert response.chat_message.models_usage == usage
    assert response.inner_messages == []


async def test_system_message_none_sends_only_the_conversation() -> None:
    client = ReplayChatCompletionClient(["ok"])
    await AssistantAgent("a", model_client=client, system_message=None).run(task="hi")
    assert client.create_calls[0]["messages"] == [UserMessage(content="hi", source="user")]


async def test_default_system_message_matches_autogen() -> None:
    client = ReplayChatCompletionClient(["ok"])
    await AssistantAgent("a", model_client=client).run(task="hi")
    first = client.create_calls[0]["messages"][0]
    assert isinstance(first, SystemMessage)
    assert first.content.startswith("You are a helpful AI assistant.")
    assert "TERMINATE" in first.content


async def test_run_without_task_continues_from_the_context() -> None:
    client = ReplayChatCompletionClient(["first", "second"])
    agent = AssistantAgent("a", model_client=client, system_message=None)
    await agent.run(task="go")
    result = await agent.run()
    assert [m.to_text() for m in result.messages] == ["second"]
    assert [type(m) for m in client.create_calls[1]["messages"]] == [UserMessage, AssistantMessage]


async def test_handoff_message_context_is_added_before_the_message() -> None:
    client = ReplayChatCompletionClient(["done"])
    agent = AssistantAgent("b", model_client=client, system_message=None)
    context = [AssistantMessage(content="I looked it up", source="a")]
    handoff = HandoffMessage(content="Transferred to b.", target="b", source="a", context=context)
    await agent.on_messages([handoff], CancellationToken())
    assert client.create_calls[0]["messages"] == [
        AssistantMessage(content="I looked it up", source="a"),
        UserMessage(content="Transferred to b.", source="a"),
    ]


async def test_custom_model_context_bounds_what_the_model_sees() -> None:
    client = ReplayChatCompletionClient(["1", "2", "3"])
    agent = AssistantAgent(
        "a", model_client=client, system_message=None, model_context=BufferedChatCompletionContext(buffer_size=2)
    )
    for task in ("x", "y", "z"):
        await agent.run(task=task)
    assert isinstance(agent.model_context, BufferedChatCompletionContext)
    assert [m.content for m in client.create_calls[2]["messages"]] == ["2", "z"]


async def test_default_model_context_is_unbounded() -> None:
    agent = AssistantAgent("a", model_client=ReplayChatCompletionClient([]))
    assert isinstance(agent.model_context, UnboundedChatCompletionContext)


async def test_cancellation_token_is_passed_to_the_model_client() -> None:
    client = ReplayChatCompletionClient(["ok"])
    token = CancellationToken()
    await AssistantAgent("a", model_client=client).on_messages([TextMessage(content="hi", source="u")], token)
    assert client.create_calls[0]["cancellation_token"] is token


async def test_a_cancelled_token_stops_the_turn() -> None:
    client = ReplayChatCompletionClient(["never"])
    token = CancellationToken()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await AssistantAgent("a", model_client=client).on_messages([TextMessage(content="hi", source="u")], token)


async def test_memory_updates_the_context_and_is_reported() -> None:
    memory = ListMemory(memory_contents=[MemoryContent(content="The user likes tea.", mime_type=MemoryMimeType.TEXT)])
    client = ReplayChatCompletionClient(["Tea, then."])
    agent = AssistantAgent("a", model_client=client, memory=[memory], system_message=None)

    result = await agent.run(task="What should I drink?")

    assert [type(m) for m in result.messages] == [TextMessage, MemoryQueryEvent, TextMessage]
    event = result.messages[1]
    assert isinstance(event, MemoryQueryEvent)
    assert event.source == "a"
    assert [c.content for c in event.content] == ["The user likes tea."]
    sent = client.create_calls[0]["messages"]
    assert isinstance(sent[-1], SystemMessage)
    assert "The user likes tea." in sent[-1].content


async def test_empty_memory_reports_nothing() -> None:
    client = ReplayChatCompletionClient(["ok"])
    result = await AssistantAgent("a", model_client=client, memory=[ListMemory()]).run(task="hi")
    assert not any(isinstance(m, MemoryQueryEvent) for m in result.messages)


async def test_state_round_trip_into_a_fresh_agent() -> None:
    client = ReplayChatCompletionClient(["Paris.", "Yes, Paris."])
    agent = AssistantAgent("geo", model_client=client, system_message=None)
    await agent.run(task="Capital of France?")
    state = await agent.save_state()

    assert state["type"] == "AssistantAgentState"
    assert AssistantAgentState.model_validate(state).llm_context["messages"][0]["content"] == "Capital of France?"

    fresh = AssistantAgent("geo", model_client=client, system_message=None)
    await fresh.load_state(state)
    await fresh.run(task="Sure?")
    assert user_texts(client, 1) == ["Capital of France?", "Sure?"]
    assert await fresh.save_state() != state  # the fresh agent went on from the loaded conversation


async def test_load_state_refuses_another_kind_of_state() -> None:
    agent = AssistantAgent("a", model_client=ReplayChatCompletionClient([]))
    with pytest.raises(ValueError, match="Cannot load a TeamState into AssistantAgent 'a'"):
        await agent.load_state(TeamState().model_dump())


async def test_on_reset_forgets_the_conversation() -> None:
    client = ReplayChatCompletionClient(["one", "two"])
    agent = AssistantAgent("a", model_client=client, system_message=None)
    await agent.run(task="first")
    await agent.on_reset(CancellationToken())
    assert await agent.model_context.get_messages() == []
    await agent.run(task="second")
    assert client.create_calls[1]["messages"] == [UserMessage(content="second", source="user")]


async def test_images_are_replaced_for_a_model_without_vision() -> None:
    image = Image.from_pil(PILImage.new("RGB", (2, 2)))
    task = MultiModalMessage(content=["Look:", image], source="user")

    text_client = ReplayChatCompletionClient(["seen"])
    await AssistantAgent("a", model_client=text_client, system_message=None).run(task=task)
    sent = text_client.create_calls[0]["messages"][0]
    assert isinstance(sent, UserMessage) and isinstance(sent.content, str)
    assert "Look:" in sent.content

    vision_client = ReplayChatCompletionClient(["seen"], model_info=info(vision=True))
    await AssistantAgent("a", model_client=vision_client, system_message=None).run(task=task)
    assert vision_client.create_calls[0]["messages"][0].content == ["Look:", image]


async def test_produced_message_types() -> None:
    from pydantic import BaseModel

    class Answer(BaseModel):
        text: str

    plain = AssistantAgent("a", model_client=ReplayChatCompletionClient([]))
    structured = AssistantAgent("b", model_client=ReplayChatCompletionClient([]), output_content_type=Answer)
    assert list(plain.produced_message_types) == [TextMessage, ToolCallSummaryMessage, HandoffMessage]
    assert list(structured.produced_message_types) == [
        TextMessage,
        ToolCallSummaryMessage,
        HandoffMessage,
        StructuredMessage,
    ]


async def test_name_description_and_metadata() -> None:
    agent = AssistantAgent(
        "a", model_client=ReplayChatCompletionClient([]), description="Does things.", metadata={"team": "x"}
    )
    assert (agent.name, agent.description, dict(agent.metadata)) == ("a", "Does things.", {"team": "x"})
    assert AssistantAgent("b", model_client=ReplayChatCompletionClient([])).metadata == {}


async def test_close_leaves_the_shared_model_client_usable() -> None:
    client = ReplayChatCompletionClient(["one", "two"])
    first = AssistantAgent("a", model_client=client)
    await first.run(task="x")
    await first.close()
    await first.close()
    result = await AssistantAgent("b", model_client=client).run(task="y")
    assert result.messages[-1].to_text() == "two"


async def test_run_stream_ends_with_the_task_result() -> None:
    client = ReplayChatCompletionClient(["hello"])
    items = [item async for item in AssistantAgent("a", model_client=client).run_stream(task="hi")]
    assert [type(i) for i in items] == [TextMessage, TextMessage, TaskResult]
    result = items[-1]
    assert isinstance(result, TaskResult)
    assert result.messages == items[:2]


async def test_on_messages_stream_yields_the_response_last() -> None:
    client = ReplayChatCompletionClient(["hello"])
    agent = AssistantAgent("a", model_client=client)
    items = [i async for i in agent.on_messages_stream([TextMessage(content="hi", source="u")], CancellationToken())]
    assert len(items) == 1 and isinstance(items[0], Response)


# -- configuration errors -------------------------------------------------------------------------------


def no_function_calling() -> ReplayChatCompletionClient:
    return ReplayChatCompletionClient([], model_info=info(function_calling=False))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"tools": [echo]}, ValueError, "does not support function calling.*remove tools="),
        ({"handoffs": ["b"]}, ValueError, "function calling, which is needed for handoffs"),
    ],
)
async def test_function_calling_is_required(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        AssistantAgent("a", model_client=no_function_calling(), **kwargs)


async def test_tools_and_workbench_together_are_refused() -> None:
    client = ReplayChatCompletionClient([], model_info=info())
    with pytest.raises(ValueError, match=r"Tools cannot be used with a workbench.*either tools= or workbench="):
        AssistantAgent("a", model_client=client, tools=[echo], workbench=StaticWorkbench([]))


async def test_duplicate_tool_names_are_refused() -> None:
    client = ReplayChatCompletionClient([], model_info=info())

    def shout(text: str) -> str:
        return text.upper()

    other = FunctionTool(shout, description="x", name="echo")
    with pytest.raises(ValueError, match=r"Tool names must be unique.*'echo' appear"):
        AssistantAgent("a", model_client=client, tools=[echo, other])


async def test_duplicate_handoffs_are_refused() -> None:
    client = ReplayChatCompletionClient([], model_info=info())
    with pytest.raises(ValueError, match="Handoff names must be unique: 'transfer_to_b'"):
        AssistantAgent("a", model_client=client, handoffs=["b", "c", Handoff(target="b")])


@pytest.mark.parametrize("handoff", ["echo", Handoff(target="x", name="echo"), Handoff(target="echo")])
async def test_handoffs_clashing_with_tools_are_refused(handoff: Handoff | str) -> None:
    client = ReplayChatCompletionClient([], model_info=info())
    with pytest.raises(ValueError, match=r"Handoff names must be unique from tool names.*'echo'"):
        AssistantAgent("a", model_client=client, tools=[echo], handoffs=[handoff])


async def test_unsupported_tool_and_handoff_types_are_refused() -> None:
    client = ReplayChatCompletionClient([], model_info=info())
    with pytest.raises(ValueError, match="Unsupported tool type: str"):
        AssistantAgent("a", model_client=client, tools=["echo"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="Unsupported handoff type: int"):
        AssistantAgent("a", model_client=client, handoffs=[1])  # type: ignore[list-item]


async def test_memory_must_be_a_list() -> None:
    with pytest.raises(TypeError, match=r"Expected Memory, List\[Memory\], or None.*memory=\[my_memory\]"):
        AssistantAgent("a", model_client=ReplayChatCompletionClient([]), memory=ListMemory())  # type: ignore[arg-type]


async def test_max_tool_iterations_must_be_positive() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 1, got 0"):
        AssistantAgent("a", model_client=ReplayChatCompletionClient([]), max_tool_iterations=0)


async def test_agent_name_must_be_an_identifier() -> None:
    with pytest.raises(ValueError, match="valid Python identifier"):
        AssistantAgent("not valid", model_client=ReplayChatCompletionClient([]))


async def test_an_image_arriving_late_in_the_conversation_is_still_replaced() -> None:
    image = Image.from_pil(PILImage.new("RGB", (2, 2)))
    client = ReplayChatCompletionClient(["a", "b", "c", "d"])
    agent = AssistantAgent("a", model_client=client, system_message=None)
    await agent.run(task="one")
    await agent.run(task="two")
    await agent.run(task=MultiModalMessage(content=["Look:", image], source="user"))
    await agent.run(task="four")
    for call in (2, 3):
        sent = client.create_calls[call]["messages"]
        assert all(isinstance(m.content, str) for m in sent)
        assert sum("Look:" in m.content for m in sent) == 1  # type: ignore[operator]


async def test_images_are_found_when_the_context_rewrites_its_history() -> None:
    image = Image.from_pil(PILImage.new("RGB", (2, 2)))
    client = ReplayChatCompletionClient(["a", "b"])
    agent = AssistantAgent("a", model_client=client, system_message=None)
    await agent.run(task="one")
    # Rewrite the history behind the agent's back, keeping its length.
    await agent.model_context.clear()
    await agent.model_context.add_message(UserMessage(content=["old picture", image], source="user"))
    await agent.model_context.add_message(AssistantMessage(content="a", source="a"))
    await agent.run(task="two")
    sent = client.create_calls[1]["messages"]
    assert all(isinstance(m.content, str) for m in sent)
    assert "old picture" in sent[0].content


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("append"), st.booleans()),
            st.tuples(st.just("drop_first"), st.just(False)),
            st.tuples(st.just("replace"), st.integers(min_value=0, max_value=30)),
            st.tuples(st.just("copy"), st.just(False)),
        ),
        max_size=40,
    )
)
def test_incremental_image_scan_agrees_with_a_full_scan(operations: list[tuple[str, Any]]) -> None:
    """Whatever happens to the history between looks (growth, trimming, rewrites), the answer is exact."""
    from salon_agentchat.agents._assistant_inference import ImageScan

    def text() -> UserMessage:
        return UserMessage(content="words", source="u")

    def picture() -> UserMessage:
        return UserMessage(content=["look", "<image>"], source="u")

    scan = ImageScan()
    history: list[Any] = []
    for operation, argument in operations:
        if operation == "append":
            history.append(picture() if argument else text())
        elif operation == "drop_first" and history:
            history = history[1:]
        elif operation == "replace" and history:
            history[argument % len(history)] = picture() if argument % 3 == 0 else text()
        elif operation == "copy":
            history = list(history)
        expected = any(isinstance(m.content, list) for m in history)
        assert scan.has_images(history) == expected
