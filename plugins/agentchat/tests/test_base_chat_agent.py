"""BaseChatAgent: run and run_stream over a small agent, task forms, streaming, cancellation and state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

import pytest
from pydantic import ValidationError

from salon import CancellationToken
from salon_agentchat.agents import BaseChatAgent
from salon_agentchat.base import ChatAgent, Handoff, Response, TaskResult
from salon_agentchat.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    ModelClientStreamingChunkEvent,
    StopMessage,
    TextMessage,
    ThoughtEvent,
)
from salon_agentchat.state import BaseState


class Counter(BaseChatAgent):
    """Replies with how many messages it has seen in total, with a thought before the reply."""

    def __init__(self, name: str = "counter") -> None:
        super().__init__(name, "Counts messages.")
        self.seen: list[BaseChatMessage] = []
        self.tokens: list[CancellationToken] = []

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage,)

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        self.seen.extend(messages)
        self.tokens.append(cancellation_token)
        return Response(
            chat_message=TextMessage(content=f"seen {len(self.seen)}", source=self.name),
            inner_messages=[ThoughtEvent(content=f"got {len(messages)}", source=self.name)],
        )

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        self.seen.clear()

    async def save_state(self) -> Mapping[str, Any]:
        return {"type": "CounterState", "version": "1.0.0", "seen": [m.dump() for m in self.seen]}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.seen = [TextMessage.load(data) for data in state["seen"]]


class Streamer(Counter):
    """Streams its reply in chunks before the full message."""

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        reply = TextMessage(content="hello world", source=self.name)
        for chunk in ("hello", " world"):
            yield ModelClientStreamingChunkEvent(content=chunk, source=self.name, full_message_id=reply.id)
        yield ThoughtEvent(content="done", source=self.name)
        yield Response(chat_message=reply)


class Stateless(BaseChatAgent):
    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (StopMessage,)

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        return Response(chat_message=StopMessage(content="stop", source=self.name))

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        pass


class Waiter(Stateless):
    """Waits until cancelled."""

    def __init__(self) -> None:
        super().__init__("waiter", "Waits.")
        self.started = asyncio.Event()

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        cancellation_token.link_future(future)
        self.started.set()
        await future
        raise AssertionError("the future was cancelled, so this is never reached")


async def drain(agent: BaseChatAgent, task: Any, stream: bool) -> None:
    if stream:
        async for _ in agent.run_stream(task=task):
            pass
    else:
        await agent.run(task=task)


def texts(messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str]:
    return [m.to_text() for m in messages]


async def test_run_with_text_returns_task_inner_messages_and_reply() -> None:
    agent = Counter()
    result = await agent.run(task="hi")
    assert isinstance(result, TaskResult) and result.stop_reason is None
    assert texts(result.messages) == ["hi", "got 1", "seen 1"]
    task = result.messages[0]
    assert isinstance(task, TextMessage) and task.source == "user"
    assert isinstance(agent.tokens[0], CancellationToken)


async def test_run_accepts_a_message_a_list_or_nothing_and_keeps_history() -> None:
    agent = Counter()
    one = TextMessage(content="one", source="bob")
    result = await agent.run(task=one)
    assert result.messages[0] is one
    result = await agent.run(task=[TextMessage(content="a", source="x"), StopMessage(content="b", source="y")])
    assert texts(result.messages) == ["a", "b", "got 2", "seen 3"]
    result = await agent.run()
    assert texts(result.messages) == ["got 0", "seen 3"]


async def test_run_can_leave_out_the_task_messages() -> None:
    result = await Counter().run(task="hi", output_task_messages=False)
    assert texts(result.messages) == ["got 1", "seen 1"]


@pytest.mark.parametrize("stream", [False, True])
async def test_bad_tasks_are_rejected(stream: bool) -> None:
    agent = Counter()
    bad: list[Any] = [[], [TextMessage(content="ok", source="a"), ThoughtEvent(content="no", source="a")]]
    for task, message in zip(bad, ["cannot be empty", "Invalid message type"], strict=True):
        with pytest.raises(ValueError, match=message):
            await drain(agent, task, stream)
    assert agent.seen == []


async def test_run_stream_of_the_default_on_messages_stream() -> None:
    agent = Counter()
    items = [item async for item in agent.run_stream(task="hi")]
    assert [type(item).__name__ for item in items] == ["TextMessage", "ThoughtEvent", "TextMessage", "TaskResult"]
    result = items[-1]
    assert isinstance(result, TaskResult)
    assert result.messages == items[:-1]


async def test_run_stream_yields_chunks_but_keeps_them_out_of_the_result() -> None:
    agent = Streamer()
    items = [item async for item in agent.run_stream(task="hi", output_task_messages=False)]
    *streamed, result = items
    assert texts([item for item in streamed if not isinstance(item, TaskResult)]) == [
        "hello",
        " world",
        "done",
        "hello world",
    ]
    assert isinstance(result, TaskResult)
    assert texts(result.messages) == ["done", "hello world"]
    chunk = items[0]
    assert isinstance(chunk, ModelClientStreamingChunkEvent) and chunk.full_message_id == result.messages[-1].id
    # run() goes through on_messages, not the stream, so it needs no chunk filtering.
    assert texts((await agent.run(task="x")).messages) == ["x", "got 1", "seen 1"]


@pytest.mark.parametrize("stream", [False, True])
async def test_cancellation_token_cancels_the_run(stream: bool) -> None:
    agent = Waiter()
    token = CancellationToken()

    async def go() -> None:
        if stream:
            async for _ in agent.run_stream(task="wait", cancellation_token=token):
                pass
        else:
            await agent.run(task="wait", cancellation_token=token)

    task = asyncio.ensure_future(go())
    await agent.started.wait()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_reset_and_custom_state_round_trip() -> None:
    agent = Counter()
    await agent.run(task="one")
    await agent.run(task="two")
    state = await agent.save_state()
    fresh = Counter()
    await fresh.load_state(state)
    assert texts((await fresh.run(task="three")).messages)[-1] == "seen 3"
    await fresh.on_reset(CancellationToken())
    assert texts((await fresh.run(task="x")).messages)[-1] == "seen 1"


async def test_default_state_and_lifecycle_of_a_stateless_agent() -> None:
    agent = Stateless("quiet", "Says stop.")
    state = await agent.save_state()
    assert state == {"type": "BaseState", "version": "1.0.0"}
    assert BaseState.model_validate(state) == BaseState()
    await agent.load_state(state)
    with pytest.raises(ValidationError):
        await agent.load_state({"type": 5})
    token = CancellationToken()
    await agent.on_pause(token)
    await agent.on_resume(token)
    await agent.close()
    result = await agent.run(task="go")
    assert texts(result.messages) == ["go", "stop"]


def test_name_description_and_contract() -> None:
    agent = Stateless("good_name", "Does things.")
    assert (agent.name, agent.description) == ("good_name", "Does things.")
    assert isinstance(agent, ChatAgent)
    assert list(agent.produced_message_types) == [StopMessage]
    for bad in ("has space", "1st", "dash-name", ""):
        with pytest.raises(ValueError, match="valid Python identifier"):
            Stateless(bad, "x")


# ------------------------------------------------------------------------------------ the base types


def test_handoff_fills_its_fields_from_the_target() -> None:
    handoff = Handoff(target="Flights")
    assert handoff.name == "transfer_to_flights"
    assert handoff.description == "Handoff to Flights."
    assert handoff.message == "Transferred to Flights, adopting the role of Flights immediately."
    custom = Handoff(target="user", name="ask_user", description="Ask the user.", message="Waiting.")
    assert (custom.name, custom.description, custom.message) == ("ask_user", "Ask the user.", "Waiting.")
    with pytest.raises(ValidationError, match="valid Python identifier"):
        Handoff(target="x", name="not valid")


async def test_handoff_tool_returns_the_message() -> None:
    tool = Handoff(target="billing").handoff_tool
    assert tool.name == "transfer_to_billing"
    assert tool.schema["description"] == "Handoff to billing."
    assert tool.schema.get("strict") is True
    result = await tool.run_json({}, CancellationToken())
    assert tool.return_value_as_string(result) == "Transferred to billing, adopting the role of billing immediately."


def test_task_result_and_response_hold_any_message_type() -> None:
    thought = ThoughtEvent(content="t", source="a")
    reply = TextMessage(content="r", source="a")
    result = TaskResult(messages=[thought, reply], stop_reason="done")
    dumped = result.model_dump(mode="json")
    assert [m["type"] for m in dumped["messages"]] == ["ThoughtEvent", "TextMessage"]
    assert dumped["messages"][1]["content"] == "r" and dumped["stop_reason"] == "done"
    response = Response(chat_message=reply)
    assert response.inner_messages is None
