"""Termination conditions: each one's semantics over message deltas, reset, and composition with | and &."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salon import FunctionCall
from salon.models import FunctionExecutionResult, RequestUsage
from salon_agentchat.base import (
    AndTerminationCondition,
    OrTerminationCondition,
    TerminatedException,
    TerminationCondition,
)
from salon_agentchat.conditions import (
    ExternalTermination,
    FunctionalTermination,
    FunctionCallTermination,
    HandoffTermination,
    MaxMessageTermination,
    SourceMatchTermination,
    StopMessageTermination,
    TextMentionTermination,
    TextMessageTermination,
    TimeoutTermination,
    TokenUsageTermination,
    _control,
)
from salon_agentchat.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    HandoffMessage,
    StopMessage,
    TextMessage,
    ThoughtEvent,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    ToolCallSummaryMessage,
)

Messages = Sequence[BaseAgentEvent | BaseChatMessage]


def text(content: str, source: str = "a", usage: RequestUsage | None = None) -> TextMessage:
    return TextMessage(content=content, source=source, models_usage=usage)


def thought(content: str = "hm", source: str = "a", usage: RequestUsage | None = None) -> ThoughtEvent:
    return ThoughtEvent(content=content, source=source, models_usage=usage)


def fired(condition: TerminationCondition) -> bool:
    """Read ``terminated`` afresh (mypy would otherwise narrow it from an earlier assert)."""
    return condition.terminated


async def assert_spent(condition: TerminationCondition) -> None:
    """A fired condition reports it and refuses to be called until reset."""
    assert condition.terminated
    with pytest.raises(TerminatedException, match="reset"):
        await condition([])


# ------------------------------------------------------------------------------------------- counting


async def test_max_messages_counts_chat_messages_across_calls() -> None:
    condition = MaxMessageTermination(3)
    assert await condition([text("1"), thought(), thought()]) is None
    assert not condition.terminated
    assert await condition([text("2")]) is None
    stop = await condition([thought(), text("3"), text("4")])
    assert isinstance(stop, StopMessage)
    assert (stop.content, stop.source) == (
        "Maximum number of messages 3 reached, current message count: 4",
        "MaxMessageTermination",
    )
    await assert_spent(condition)
    await condition.reset()
    assert not condition.terminated
    assert await condition([text("again")]) is None


async def test_max_messages_can_count_events() -> None:
    condition = MaxMessageTermination(2, include_agent_event=True)
    assert await condition([thought()]) is None
    stop = await condition([ToolCallRequestEvent(content=[], source="a")])
    assert stop is not None and stop.content.endswith("current message count: 2")


async def test_max_messages_of_zero_is_already_terminated() -> None:
    condition = MaxMessageTermination(0)
    await assert_spent(condition)


@given(
    kinds=st.lists(st.booleans(), max_size=30),
    cuts=st.lists(st.integers(0, 30), max_size=10),
    limit=st.integers(1, 20),
)
def test_max_messages_fires_at_the_same_message_however_the_thread_is_split(
    kinds: list[bool], cuts: list[int], limit: int
) -> None:
    thread: list[BaseAgentEvent | BaseChatMessage] = [text("t") if is_chat else thought() for is_chat in kinds]
    bounds = sorted({0, len(thread), *(c for c in cuts if c <= len(thread))})
    deltas = [thread[start:end] for start, end in itertools.pairwise(bounds)]

    async def fired_after() -> int | None:
        condition = MaxMessageTermination(limit)
        seen = 0
        for delta in deltas:
            seen += len(delta)
            if await condition(delta) is not None:
                return sum(1 for m in thread[:seen] if isinstance(m, BaseChatMessage))
        return None

    chat_count = sum(kinds)
    result = asyncio.run(fired_after())
    if chat_count < limit:
        assert result is None
    else:
        assert result is not None and result >= limit


async def test_token_usage_needs_a_limit() -> None:
    with pytest.raises(ValueError, match="at least one of max_total_token"):
        TokenUsageTermination()


async def test_token_usage_adds_up_usage_of_messages_and_events() -> None:
    condition = TokenUsageTermination(max_total_token=100)
    assert await condition([text("no usage"), thought(usage=RequestUsage(30, 10))]) is None
    stop = await condition([text("x", usage=RequestUsage(50, 10))])
    assert stop is not None and stop.source == "TokenUsageTermination"
    assert stop.content == (
        "Token usage limit reached, total token count: 100, prompt token count: 80, completion token count: 20."
    )
    await assert_spent(condition)
    await condition.reset()
    assert not condition.terminated
    assert await condition([text("x", usage=RequestUsage(1, 1))]) is None


@pytest.mark.parametrize(
    ("limits", "usage", "fires"),
    [
        ({"max_prompt_token": 10}, RequestUsage(10, 0), True),
        ({"max_prompt_token": 10}, RequestUsage(9, 100), False),
        ({"max_completion_token": 5}, RequestUsage(100, 5), True),
        ({"max_completion_token": 5, "max_prompt_token": 1000}, RequestUsage(999, 4), False),
        ({"max_total_token": 10, "max_prompt_token": 1000}, RequestUsage(6, 4), True),
    ],
)
async def test_token_usage_fires_on_any_of_its_limits(limits: dict[str, int], usage: RequestUsage, fires: bool) -> None:
    condition = TokenUsageTermination(**limits)
    assert (await condition([text("x", usage=usage)]) is not None) is fires
    assert condition.terminated is fires


# ------------------------------------------------------------------------------------------- matching


async def test_text_mention_looks_at_every_message_and_event() -> None:
    condition = TextMentionTermination("APPROVE")
    assert await condition([text("not yet"), text("approve")]) is None
    stop = await condition([thought("I APPROVE of this")])
    assert stop is not None
    assert (stop.content, stop.source) == ("Text 'APPROVE' mentioned", "TextMentionTermination")
    await assert_spent(condition)
    await condition.reset()
    assert await condition([text("APPROVE")]) is not None


async def test_text_mention_can_be_limited_to_sources() -> None:
    condition = TextMentionTermination("DONE", sources=["critic"])
    assert await condition([text("DONE", source="writer")]) is None
    assert await condition([text("DONE", source="critic")]) is not None


async def test_stop_message_termination_needs_a_stop_message() -> None:
    condition = StopMessageTermination()
    assert await condition([text("stop"), thought("StopMessage")]) is None
    stop = await condition([StopMessage(content="bye", source="a")])
    assert stop is not None and (stop.content, stop.source) == ("Stop message received", "StopMessageTermination")
    await assert_spent(condition)
    await condition.reset()
    assert not condition.terminated


async def test_handoff_termination_matches_the_target() -> None:
    condition = HandoffTermination(target="user")
    assert await condition([HandoffMessage(content="x", target="flights", source="triage")]) is None
    stop = await condition([HandoffMessage(content="x", target="user", source="triage")])
    assert stop is not None and stop.content == "Handoff to user from triage detected."
    assert stop.source == "HandoffTermination"
    await assert_spent(condition)


async def test_source_match_fires_on_any_message_from_a_source() -> None:
    condition = SourceMatchTermination(["critic", "judge"])
    assert await condition([]) is None
    assert await condition([text("x", source="writer")]) is None
    stop = await condition([thought(source="judge")])
    assert stop is not None and (stop.content, stop.source) == ("'judge' answered", "SourceMatchTermination")
    await assert_spent(condition)


async def test_text_message_termination_only_counts_text_messages() -> None:
    anyone = TextMessageTermination()
    summary = ToolCallSummaryMessage(content="x", source="a", tool_calls=[], results=[])
    assert await anyone([thought(), summary, StopMessage(content="s", source="a")]) is None
    stop = await anyone([text("hi", source="bob")])
    assert stop is not None and stop.content == "Text message received from 'bob'"
    only_alice = TextMessageTermination(source="alice")
    assert await only_alice([text("hi", source="bob")]) is None
    assert await only_alice([text("hi", source="alice")]) is not None


async def test_function_call_termination_needs_the_execution() -> None:
    condition = FunctionCallTermination(function_name="finish")
    request = ToolCallRequestEvent(content=[FunctionCall(id="1", arguments="{}", name="finish")], source="a")
    assert await condition([request]) is None
    other = FunctionExecutionResult(content="", name="search", call_id="0")
    done = FunctionExecutionResult(content="ok", name="finish", call_id="1")
    assert await condition([ToolCallExecutionEvent(content=[other], source="a")]) is None
    stop = await condition([ToolCallExecutionEvent(content=[other, done], source="a")])
    assert stop is not None and (stop.content, stop.source) == (
        "Function 'finish' was executed.",
        "FunctionCallTermination",
    )
    await assert_spent(condition)


# ---------------------------------------------------------------------------------------- control


async def test_timeout_is_checked_when_called_and_restarts_on_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(_control, "time", SimpleNamespace(monotonic=lambda: now[0]))
    condition = TimeoutTermination(timeout_seconds=5)
    now[0] += 4.9
    assert await condition([]) is None
    now[0] += 0.1
    assert not condition.terminated  # only a call notices the time
    stop = await condition([])
    assert stop is not None and (stop.content, stop.source) == (
        "Timeout of 5 seconds reached",
        "TimeoutTermination",
    )
    await assert_spent(condition)
    await condition.reset()
    assert not condition.terminated
    now[0] += 4
    assert await condition([]) is None


async def test_external_termination_fires_on_the_call_after_set() -> None:
    condition = ExternalTermination()
    assert await condition([]) is None
    condition.set()
    assert not condition.terminated
    stop = await condition([text("x")])
    assert stop is not None and (stop.content, stop.source) == (
        "External termination requested",
        "ExternalTermination",
    )
    await assert_spent(condition)
    await condition.reset()
    assert await condition([]) is None  # reset also clears the request


async def test_functional_termination_with_plain_and_async_functions() -> None:
    seen: list[int] = []

    def plain(messages: Messages) -> bool:
        seen.append(len(messages))
        return any(isinstance(m, StopMessage) for m in messages)

    async def asynchronous(messages: Messages) -> bool:
        return len(messages) == 2

    condition = FunctionalTermination(plain)
    assert await condition([text("a")]) is None
    stop = await condition([text("a"), StopMessage(content="s", source="a")])
    assert stop is not None and (stop.content, stop.source) == (
        "Functional termination condition met",
        "FunctionalTermination",
    )
    assert seen == [1, 2]  # each call gets only its delta
    await assert_spent(condition)
    other = FunctionalTermination(asynchronous)
    assert await other([text("a")]) is None
    assert await other([text("a"), text("b")]) is not None


async def test_functional_termination_needs_exactly_true() -> None:
    condition = FunctionalTermination(lambda messages: len(messages))  # type: ignore[arg-type]
    assert await condition([text("a"), text("b")]) is None
    assert not condition.terminated


# ------------------------------------------------------------------------------------------ composition


async def test_or_fires_when_any_part_fires_and_joins_the_reasons() -> None:
    condition = MaxMessageTermination(2) | TextMentionTermination("STOP")
    assert isinstance(condition, OrTerminationCondition)
    assert await condition([text("hello")]) is None
    assert not condition.terminated
    stop = await condition([text("STOP")])
    assert stop is not None
    assert stop.content == "Maximum number of messages 2 reached, current message count: 2, Text 'STOP' mentioned"
    assert stop.source == "MaxMessageTermination, TextMentionTermination"
    await assert_spent(condition)
    await condition.reset()
    assert not condition.terminated
    single = await condition([text("STOP")])
    assert single is not None and single.source == "TextMentionTermination"


async def test_and_fires_once_every_part_has_fired_on_any_call() -> None:
    mention = TextMentionTermination("STOP")
    condition = mention & MaxMessageTermination(3)
    assert isinstance(condition, AndTerminationCondition)
    assert await condition([text("STOP")]) is None
    assert mention.terminated and not condition.terminated
    # The fired part is not called again (it would raise TerminatedException).
    assert await condition([text("2")]) is None
    stop = await condition([text("3")])
    assert stop is not None
    assert stop.content == "Text 'STOP' mentioned, Maximum number of messages 3 reached, current message count: 3"
    assert stop.source == "TextMentionTermination, MaxMessageTermination"
    await assert_spent(condition)
    await condition.reset()
    assert not fired(mention)
    assert await condition([text("STOP"), text("b"), text("c")]) is not None
    again = await (AndTerminationCondition(TextMentionTermination("x")))([text("x")])
    assert again is not None and again.content == "Text 'x' mentioned"


async def test_and_does_not_repeat_reasons_after_reset() -> None:
    condition = TextMentionTermination("a") & TextMentionTermination("b")
    await condition([text("a")])
    first = await condition([text("b")])
    await condition.reset()
    second = await condition([text("a b")])
    assert condition.terminated
    assert first is not None and second is not None
    assert first.content == second.content == "Text 'a' mentioned, Text 'b' mentioned"


async def test_nested_composition() -> None:
    external = ExternalTermination()
    condition = (TextMentionTermination("A") & TextMentionTermination("B")) | external
    assert await condition([text("A")]) is None
    external.set()
    stop = await condition([text("nothing")])
    assert stop is not None and stop.source == "ExternalTermination"


def test_reprs_read_like_the_code_that_made_them() -> None:
    condition = (MaxMessageTermination(10) | TextMentionTermination("APPROVE", sources=["critic"])) & (
        TokenUsageTermination(max_total_token=500)
    )
    assert repr(condition) == (
        "(MaxMessageTermination(max_messages=10) | TextMentionTermination(text='APPROVE', sources=['critic']))"
        " & TokenUsageTermination(max_total_token=500)"
    )
    assert repr(MaxMessageTermination(2, include_agent_event=True)) == (
        "MaxMessageTermination(max_messages=2, include_agent_event=True)"
    )
    assert repr(StopMessageTermination()) == "StopMessageTermination()"
    assert repr(HandoffTermination("user")) == "HandoffTermination(target='user')"
    assert repr(TimeoutTermination(1.5)) == "TimeoutTermination(timeout_seconds=1.5)"
    assert repr(SourceMatchTermination(["a"])) == "SourceMatchTermination(sources=['a'])"
    assert repr(TextMessageTermination("bob")) == "TextMessageTermination(source='bob')"
    assert repr(FunctionCallTermination("f")) == "FunctionCallTermination(function_name='f')"
    assert repr(ExternalTermination()) == "ExternalTermination()"
    assert str(StopMessageTermination() | ExternalTermination()) == "StopMessageTermination() | ExternalTermination()"


def test_terminated_exception_is_not_an_exception() -> None:
    # Agents' `except Exception` blocks must not swallow it.
    assert issubclass(TerminatedException, BaseException)
    assert not issubclass(TerminatedException, Exception)
