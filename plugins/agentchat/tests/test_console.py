"""Console and UserInputManager: what a person sees for team and agent streams, stats, streaming, input."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncGenerator, Iterable
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salon import CancellationToken, FunctionCall, Image
from salon.models import FunctionExecutionResult, ReplayChatCompletionClient, RequestUsage
from salon_agentchat.agents import AssistantAgent, UserProxyAgent
from salon_agentchat.base import Response, TaskResult
from salon_agentchat.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    HandoffMessage,
    ModelClientStreamingChunkEvent,
    MultiModalMessage,
    TextMessage,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    UserInputRequestedEvent,
)
from salon_agentchat.ui import Console, UserInputManager

PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYGAAAAAEAAH2FzhVAAAAAElFTkSuQmCC"

Item = BaseAgentEvent | BaseChatMessage | TaskResult | Response


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """rich obeys these variables; the tests expect plain text unless they set them."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TERM_PROGRAM", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


class Terminal(io.StringIO):
    """A captured output that says it is a terminal."""

    def isatty(self) -> bool:
        return True


async def stream_of(items: Iterable[Item]) -> AsyncGenerator[Item, None]:
    for item in items:
        yield item


async def render(items: Iterable[Item], **kwargs: object) -> tuple[str, Item]:
    output = io.StringIO()
    last = await Console(stream_of(items), output=output, **kwargs)  # type: ignore[arg-type]
    return output.getvalue(), last


def text(source: str, content: str, usage: RequestUsage | None = None) -> TextMessage:
    return TextMessage(content=content, source=source, models_usage=usage)


class ObservedEvent(asyncio.Event):
    """An input event that tells the test when the wrapped input function starts waiting on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = asyncio.Event()

    async def wait(self) -> Literal[True]:
        self.waiting.set()
        return await super().wait()


def chunks(
    source: str, parts: Iterable[str], full_message_id: str | None = None
) -> list[ModelClientStreamingChunkEvent]:
    return [ModelClientStreamingChunkEvent(content=p, source=source, full_message_id=full_message_id) for p in parts]


# -- layout -----------------------------------------------------------------------------------------------


async def test_a_team_run_is_rendered_message_by_message_and_its_result_returned() -> None:
    call = FunctionCall(id="1", arguments='{"city": "Paris"}', name="weather")
    outcome = FunctionExecutionResult(content="sunny", name="weather", call_id="1", is_error=False)
    request = ToolCallRequestEvent(content=[call], source="assistant")
    execution = ToolCallExecutionEvent(content=[outcome], source="assistant")
    messages: list[BaseAgentEvent | BaseChatMessage] = [
        text("user", "Weather in Paris?"),
        request,
        execution,
        text("assistant", "Sunny."),
    ]
    result = TaskResult(messages=messages, stop_reason="done")
    output, last = await render([*messages, result])
    assert last is result
    assert output == (
        "---------- TextMessage (user) ----------\n"
        "Weather in Paris?\n"
        "---------- ToolCallRequestEvent (assistant) ----------\n"
        f"{request.to_text()}\n"
        "---------- ToolCallExecutionEvent (assistant) ----------\n"
        f"{execution.to_text()}\n"
        "---------- TextMessage (assistant) ----------\n"
        "Sunny.\n"
    )
    assert "weather" in output and "sunny" in output


async def test_text_is_printed_verbatim_without_markup_wrapping_or_emoji() -> None:
    content = "[bold]not bold[/bold] :smile: " + "x" * 300
    output, _ = await render([text("user", content), TaskResult(messages=[])])
    assert output.splitlines()[1] == content


async def test_a_handoff_header_names_both_ends() -> None:
    handoff = HandoffMessage(content="Over to you.", source="planner", target="user")
    output, _ = await render([handoff, TaskResult(messages=[handoff])])
    assert output == "---------- HandoffMessage (planner -> user) ----------\nOver to you.\n"


async def test_an_agent_stream_ends_with_its_response() -> None:
    response = Response(chat_message=text("assistant", "Done."), inner_messages=[])
    output, last = await render([response])
    assert last is response
    assert output == "---------- assistant ----------\nDone.\n"


async def test_input_requests_are_not_printed() -> None:
    event = UserInputRequestedEvent(request_id="r1", source="user")
    output, _ = await render([event, TaskResult(messages=[])])
    assert output == ""


async def test_images_are_placeholders_unless_iterm_draws_them(monkeypatch: pytest.MonkeyPatch) -> None:
    message = MultiModalMessage(content=["Look:", Image.from_base64(PIXEL)], source="user")
    items: list[Item] = [message, TaskResult(messages=[message])]
    plain, _ = await render(items)
    assert plain.endswith("Look:\n<image>\n")

    monkeypatch.setenv("TERM_PROGRAM", "iTerm.app")
    not_a_terminal, _ = await render(items)
    assert "<image>" in not_a_terminal

    terminal = Terminal()
    await Console(stream_of(items), output=terminal)
    assert "\x1b]1337;File=inline=1:" in terminal.getvalue()
    assert "<image>" not in terminal.getvalue()

    refused = Terminal()
    await Console(stream_of(items), output=refused, no_inline_images=True)
    assert "<image>" in refused.getvalue()
    assert "1337" not in refused.getvalue()


async def test_headers_are_styled_on_a_terminal() -> None:
    terminal = Terminal()
    await Console(stream_of([text("user", "hi"), TaskResult(messages=[])]), output=terminal)
    assert "\x1b[1m---------- TextMessage (user) ----------" in terminal.getvalue()


async def test_the_default_output_is_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    await Console(stream_of([text("user", "to stdout"), TaskResult(messages=[])]))
    assert "to stdout" in capsys.readouterr().out


async def test_a_stream_without_a_result_is_an_error() -> None:
    with pytest.raises(ValueError, match="No TaskResult or Response"):
        await render([text("user", "hi")])


async def test_a_foreign_item_is_an_error() -> None:
    with pytest.raises(TypeError, match="Console got a str"):
        await render(["hello"])  # type: ignore[list-item]


# -- streaming --------------------------------------------------------------------------------------------


async def test_a_streamed_message_is_shown_inline_and_not_again() -> None:
    final = text("assistant", "Hello world")
    output, _ = await render(
        [*chunks("assistant", ["Hel", "lo ", "world"], final.id), final, TaskResult(messages=[final])]
    )
    assert output == "---------- assistant (streaming) ----------\nHello world\n"


async def test_chunks_without_ids_match_their_message_by_text() -> None:
    same = text("assistant", "abc")
    output, _ = await render([*chunks("assistant", ["a", "bc"]), same, TaskResult(messages=[same])])
    assert output.count("abc") == 1
    different = text("assistant", "something else")
    output, _ = await render([*chunks("assistant", ["a", "bc"]), different, TaskResult(messages=[different])])
    assert output == (
        "---------- assistant (streaming) ----------\n"
        "abc\n"
        "---------- TextMessage (assistant) ----------\n"
        "something else\n"
    )


async def test_a_message_after_chunks_of_another_message_is_shown_in_full() -> None:
    # AutoGen 0.7.5 assumed anything after chunks was what they streamed, and hid tool calls this way.
    request = ToolCallRequestEvent(content=[FunctionCall(id="1", arguments="{}", name="lookup")], source="assistant")
    output, _ = await render([*chunks("assistant", ["Let me check."], "another-id"), request, TaskResult(messages=[])])
    assert output == (
        "---------- assistant (streaming) ----------\n"
        "Let me check.\n"
        "---------- ToolCallRequestEvent (assistant) ----------\n"
        f"{request.to_text()}\n"
    )


async def test_a_streamed_response_is_not_printed_twice() -> None:
    reply = text("assistant", "Streamed reply")
    response = Response(chat_message=reply)
    output, _ = await render([*chunks("assistant", ["Streamed ", "reply"], reply.id), response])
    assert output == "---------- assistant (streaming) ----------\nStreamed reply\n"


async def test_interleaved_streams_get_a_header_each_and_an_unfinished_stream_is_closed() -> None:
    output, _ = await render([*chunks("a", ["one"]), *chunks("b", ["two"]), TaskResult(messages=[])])
    header_a, header_b = "---------- a (streaming) ----------", "---------- b (streaming) ----------"
    assert output == f"{header_a}\none\n{header_b}\ntwo\n"


@given(
    parts=st.lists(
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp"]), min_size=1),
        min_size=1,
        max_size=8,
    ),
    with_ids=st.booleans(),
)
def test_streamed_text_appears_exactly_once_however_it_is_split(parts: list[str], with_ids: bool) -> None:
    final = text("assistant", "".join(parts))

    async def go() -> str:
        streamed = chunks("assistant", parts, final.id if with_ids else None)
        output, _ = await render([*streamed, final, TaskResult(messages=[final])])
        return output

    output = asyncio.run(go())
    assert output == f"---------- assistant (streaming) ----------\n{final.content}\n"


async def test_a_real_streaming_agent_is_rendered_once() -> None:
    agent = AssistantAgent(
        "assistant", model_client=ReplayChatCompletionClient(["The answer is 42."]), model_client_stream=True
    )
    output = io.StringIO()
    result = await Console(agent.run_stream(task="Question?"), output=output)
    assert isinstance(result, TaskResult)
    assert output.getvalue() == (
        "---------- TextMessage (user) ----------\n"
        "Question?\n"
        "---------- assistant (streaming) ----------\n"
        "The answer is 42.\n"
    )


# -- statistics -------------------------------------------------------------------------------------------


async def test_stats_show_usage_per_message_and_totals_for_a_run() -> None:
    first = text("a", "one", RequestUsage(10, 5))
    streamed = text("b", "two", RequestUsage(3, 2))
    result = TaskResult(messages=[first, streamed], stop_reason="Maximum number of messages 2 reached")
    output, _ = await render([first, *chunks("b", ["two"], streamed.id), streamed, result], output_stats=True)
    assert "one\n[Prompt tokens: 10, Completion tokens: 5]\n" in output
    assert "two\n[Prompt tokens: 3, Completion tokens: 2]\n" in output
    summary = output.split("---------- Summary ----------\n")[1]
    assert re.fullmatch(
        r"Number of messages: 2\n"
        r"Finish reason: Maximum number of messages 2 reached\n"
        r"Total prompt tokens: 13\n"
        r"Total completion tokens: 7\n"
        r"Duration: \d+\.\d\d seconds\n",
        summary,
    )


async def test_without_stats_no_usage_is_printed() -> None:
    message = text("a", "one", RequestUsage(10, 5))
    output, _ = await render([message, TaskResult(messages=[message])])
    assert "tokens" not in output


async def test_stats_for_an_agent_response() -> None:
    event = ToolCallRequestEvent(content=[], source="a", models_usage=RequestUsage(1, 1))
    response = Response(chat_message=text("a", "done", RequestUsage(4, 2)), inner_messages=[event, event])
    output, _ = await render([event, response], output_stats=True)
    assert output.endswith(
        "---------- a ----------\n"
        "done\n"
        "[Prompt tokens: 4, Completion tokens: 2]\n"
        "---------- Summary ----------\n"
        "Number of inner messages: 2\n"
        "Total prompt tokens: 5\n"
        "Total completion tokens: 3\n"
        f"Duration: {output.rsplit('Duration: ', 1)[1]}"
    )


# -- user input -------------------------------------------------------------------------------------------


async def test_the_wrapped_input_function_waits_for_the_console() -> None:
    manager = UserInputManager(lambda prompt: f"answer to {prompt}")
    ask = manager.get_wrapped_callback()
    observed = manager.input_events["r1"] = ObservedEvent()
    with UserProxyAgent.InputRequestContext.populate_context("r1"):
        waiting: asyncio.Future[str] = asyncio.ensure_future(ask("Name? ", None))
    await observed.waiting.wait()
    assert not waiting.done()
    manager.notify_event_received("r1")
    assert await waiting == "answer to Name? "
    assert manager.input_events == {}


async def test_a_request_the_console_saw_first_proceeds_at_once() -> None:
    tokens: list[CancellationToken | None] = []

    async def answer(prompt: str, token: CancellationToken | None) -> str:
        tokens.append(token)
        return "quick"

    manager = UserInputManager(answer)
    manager.notify_event_received("r2")
    token = CancellationToken()
    with UserProxyAgent.InputRequestContext.populate_context("r2"):
        async with asyncio.timeout(5):
            assert await manager.get_wrapped_callback()("Name? ", token) == "quick"
    assert tokens == [token]
    assert manager.input_events == {}


async def test_cancelling_a_waiting_request_forgets_it() -> None:
    manager = UserInputManager(lambda prompt: "never")
    agent = UserProxyAgent("user", input_func=manager.get_wrapped_callback())
    token = CancellationToken()
    stream = agent.on_messages_stream([text("bot", "Name?")], token)
    event = await anext(stream)
    assert isinstance(event, UserInputRequestedEvent)
    observed = manager.input_events[event.request_id] = ObservedEvent()
    pending = asyncio.create_task(anext(stream))
    await observed.waiting.wait()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    assert manager.input_events == {}


async def test_console_and_user_proxy_take_turns() -> None:
    output = io.StringIO()
    shown_before_prompt: list[str] = []

    def person(prompt: str) -> str:
        shown_before_prompt.append(output.getvalue())
        return "Ada"

    manager = UserInputManager(person)
    agent = UserProxyAgent("user", input_func=manager.get_wrapped_callback())
    result = await Console(agent.run_stream(task="Your name?"), output=output, user_input_manager=manager)
    assert isinstance(result, TaskResult)
    assert shown_before_prompt == ["---------- TextMessage (user) ----------\nYour name?\n"]
    assert output.getvalue().endswith("---------- TextMessage (user) ----------\nAda\n")


def test_the_callback_must_be_callable() -> None:
    with pytest.raises(TypeError, match="callback must be an input function"):
        UserInputManager("input")  # type: ignore[arg-type]
