"""UserProxyAgent: sync and async input, the input-request event, handoffs, errors and cancellation."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from salon import CancellationToken
from salon_agentchat.agents import UserProxyAgent
from salon_agentchat.base import Response, TaskResult
from salon_agentchat.messages import BaseChatMessage, HandoffMessage, TextMessage, UserInputRequestedEvent

QUESTION = [TextMessage(content="What is your name?", source="assistant")]


async def test_a_sync_input_function_answers() -> None:
    prompts: list[str] = []

    def answer(prompt: str) -> str:
        prompts.append(prompt)
        return "Ada"

    agent = UserProxyAgent("user", input_func=answer)
    response = await agent.on_messages(QUESTION, CancellationToken())
    assert isinstance(response.chat_message, TextMessage)
    assert (response.chat_message.content, response.chat_message.source) == ("Ada", "user")
    assert prompts == ["Enter your response: "]


async def test_a_sync_input_function_runs_outside_the_event_loop_thread() -> None:
    threads: list[threading.Thread] = []

    def answer(prompt: str) -> str:
        threads.append(threading.current_thread())
        return "ok"

    await UserProxyAgent("user", input_func=answer).on_messages(QUESTION, CancellationToken())
    assert threads[0] is not threading.main_thread()
    assert threads[0].daemon


async def test_an_async_input_function_receives_the_token() -> None:
    seen: list[CancellationToken | None] = []

    async def answer(prompt: str, token: CancellationToken | None) -> str:
        seen.append(token)
        return "async answer"

    token = CancellationToken()
    response = await UserProxyAgent("user", input_func=answer).on_messages(QUESTION, token)
    assert response.chat_message.to_text() == "async answer"
    assert seen == [token]


async def test_an_object_with_an_async_call_is_an_async_input_function() -> None:
    class Form:
        async def __call__(self, prompt: str, token: CancellationToken | None) -> str:
            return "from the form"

    response = await UserProxyAgent("user", input_func=Form()).on_messages(QUESTION, CancellationToken())
    assert response.chat_message.to_text() == "from the form"


@pytest.mark.parametrize("is_async", [False, True])
async def test_the_input_request_event_comes_first_and_its_id_is_visible_to_the_input_function(is_async: bool) -> None:
    ids: list[str] = []

    def answer(prompt: str) -> str:
        ids.append(UserProxyAgent.InputRequestContext.request_id())
        return "yes"

    async def answer_async(prompt: str, token: CancellationToken | None) -> str:
        return answer(prompt)

    agent = UserProxyAgent("user", input_func=answer_async if is_async else answer)
    items = [item async for item in agent.on_messages_stream(QUESTION, CancellationToken())]
    event, response = items
    assert isinstance(event, UserInputRequestedEvent)
    assert event.source == "user"
    assert ids == [event.request_id]
    assert isinstance(response, Response)
    again = [item async for item in agent.on_messages_stream(QUESTION, CancellationToken())]
    assert again[0].request_id != event.request_id  # type: ignore[union-attr]


def test_the_request_id_is_only_available_inside_an_input_function() -> None:
    with pytest.raises(RuntimeError, match="only works inside the input function"):
        UserProxyAgent.InputRequestContext.request_id()
    with pytest.raises(TypeError):
        UserProxyAgent.InputRequestContext()


async def test_a_handoff_to_the_agent_is_answered_with_a_handoff_back() -> None:
    prompts: list[str] = []

    def answer(prompt: str) -> str:
        prompts.append(prompt)
        return "confirmed"

    agent = UserProxyAgent("user", input_func=answer)
    messages: Sequence[BaseChatMessage] = [
        TextMessage(content="Booking a flight.", source="planner"),
        HandoffMessage(content="Please confirm.", source="planner", target="user"),
    ]
    response = await agent.on_messages(messages, CancellationToken())
    reply = response.chat_message
    assert isinstance(reply, HandoffMessage)
    assert (reply.content, reply.source, reply.target) == ("confirmed", "user", "planner")
    assert prompts == ["Handoff received from planner. Enter your response: "]


async def test_a_handoff_that_is_not_the_newest_message_is_ignored() -> None:
    agent = UserProxyAgent("user", input_func=lambda prompt: "plain")
    messages: Sequence[BaseChatMessage] = [
        HandoffMessage(content="to someone else", source="planner", target="booker"),
        TextMessage(content="booked", source="booker"),
    ]
    response = await agent.on_messages(messages, CancellationToken())
    assert type(response.chat_message) is TextMessage


async def test_a_handoff_to_another_agent_is_an_error_and_nobody_is_asked() -> None:
    asked: list[str] = []

    def answer(prompt: str) -> str:
        asked.append(prompt)
        return "x"

    agent = UserProxyAgent("user", input_func=answer)
    messages = [HandoffMessage(content="for the booker", source="planner", target="booker")]
    with pytest.raises(RuntimeError, match="'booker'"):
        await agent.on_messages(messages, CancellationToken())
    assert asked == []


async def test_input_errors_are_wrapped_with_their_cause() -> None:
    def broken(prompt: str) -> str:
        raise ValueError("keyboard on fire")

    with pytest.raises(RuntimeError, match="Failed to get user input: keyboard on fire") as caught:
        await UserProxyAgent("user", input_func=broken).on_messages(QUESTION, CancellationToken())
    assert isinstance(caught.value.__cause__, ValueError)


async def test_an_input_function_must_return_text() -> None:
    agent = UserProxyAgent("user", input_func=lambda prompt: 42)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="returned int, not str"):
        await agent.on_messages(QUESTION, CancellationToken())


def test_input_func_must_be_callable() -> None:
    with pytest.raises(TypeError, match="input_func must be a function"):
        UserProxyAgent("user", input_func="input")  # type: ignore[arg-type]


async def test_the_default_input_function_is_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("builtins.input", lambda prompt: f"typed after {prompt!r}")
    response = await UserProxyAgent("user").on_messages(QUESTION, CancellationToken())
    assert response.chat_message.to_text() == "typed after 'Enter your response: '"


# -- cancellation -----------------------------------------------------------------------------------------


async def test_cancelling_stops_waiting_for_an_async_input_function_that_ignores_the_token() -> None:
    asked = asyncio.Event()
    finished: list[str] = []

    async def slow(prompt: str, token: CancellationToken | None) -> str:
        asked.set()
        await asyncio.Event().wait()  # a person who never answers
        finished.append("answered")
        return "too late"

    token = CancellationToken()
    turn = asyncio.create_task(UserProxyAgent("user", input_func=slow).on_messages(QUESTION, token))
    await asked.wait()
    token.cancel()
    async with asyncio.timeout(5):
        with pytest.raises(asyncio.CancelledError):
            await turn
    assert finished == []


async def test_cancelling_stops_waiting_for_a_blocked_sync_input_function() -> None:
    asked = threading.Event()
    release = threading.Event()

    def blocked(prompt: str) -> str:
        asked.set()
        release.wait(30)
        return "too late"

    token = CancellationToken()
    turn = asyncio.create_task(UserProxyAgent("user", input_func=blocked).on_messages(QUESTION, token))
    await asyncio.to_thread(asked.wait, 10)
    token.cancel()
    try:
        async with asyncio.timeout(5):
            with pytest.raises(asyncio.CancelledError):
                await turn
    finally:
        release.set()  # let the abandoned thread finish


async def test_a_token_cancelled_beforehand_means_nobody_is_asked() -> None:
    asked: list[str] = []
    token = CancellationToken()
    token.cancel()

    def answer(prompt: str) -> str:
        asked.append(prompt)
        return "x"

    agent = UserProxyAgent("user", input_func=answer)
    with pytest.raises(asyncio.CancelledError):
        await agent.on_messages(QUESTION, token)
    assert asked == []


async def test_a_cancelled_turn_leaves_the_agent_usable() -> None:
    answers = iter(["second"])
    gate = asyncio.Event()

    async def answer(prompt: str, token: CancellationToken | None) -> str:
        if not gate.is_set():
            gate.set()
            await asyncio.Event().wait()
        return next(answers)

    agent = UserProxyAgent("user", input_func=answer)
    token = CancellationToken()
    turn = asyncio.create_task(agent.on_messages(QUESTION, token))
    await gate.wait()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await turn
    response = await agent.on_messages(QUESTION, CancellationToken())
    assert response.chat_message.to_text() == "second"


# -- as a task runner ------------------------------------------------------------------------------------


async def test_run_stream_shows_the_request_then_the_reply() -> None:
    agent = UserProxyAgent("user", input_func=lambda prompt: "hello")
    items = [item async for item in agent.run_stream(task="Say hello")]
    assert [type(i).__name__ for i in items] == ["TextMessage", "UserInputRequestedEvent", "TextMessage", "TaskResult"]
    result = items[-1]
    assert isinstance(result, TaskResult)
    assert [m.to_text() for m in result.messages if isinstance(m, TextMessage)] == ["Say hello", "hello"]


def test_it_produces_text_and_handoffs() -> None:
    agent = UserProxyAgent("user", input_func=lambda prompt: "")
    assert agent.produced_message_types == (TextMessage, HandoffMessage)
    assert agent.description == "A human user"
