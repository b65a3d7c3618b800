"""Model contexts: AutoGen's behaviour where it is sound, and Salon's rule that tool calls and results stay together."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from salon import FunctionCall
from salon.model_context import (
    BufferedChatCompletionContext,
    ChatCompletionContext,
    HeadAndTailChatCompletionContext,
    TokenLimitedChatCompletionContext,
    UnboundedChatCompletionContext,
)
from salon.models import (
    AssistantMessage,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    ReplayChatCompletionClient,
    SystemMessage,
    UserMessage,
)


def u(text: str) -> UserMessage:
    return UserMessage(content=text, source="user")


def a(text: str) -> AssistantMessage:
    return AssistantMessage(content=text, source="assistant")


def call(name: str) -> AssistantMessage:
    return AssistantMessage(content=[FunctionCall(id=name, arguments="{}", name=name)], source="assistant")


def result(name: str) -> FunctionExecutionResultMessage:
    return FunctionExecutionResultMessage(content=[FunctionExecutionResult(content=name, name=name, call_id=name)])


def names(messages: list[LLMMessage]) -> list[str]:
    out = []
    for m in messages:
        if isinstance(m, FunctionExecutionResultMessage):
            out.append("r:" + m.content[0].call_id)
        elif isinstance(m.content, list):
            first = m.content[0]
            out.append("c:" + (first.id if isinstance(first, FunctionCall) else "?"))
        else:
            out.append(str(m.content))
    return out


async def filled(context: ChatCompletionContext, messages: Sequence[LLMMessage]) -> ChatCompletionContext:
    for m in messages:
        await context.add_message(m)
    return context


# -- the plain cases behave as in AutoGen -----------------------------------------------------------------


async def test_unbounded_returns_everything_as_a_new_list() -> None:
    context = await filled(UnboundedChatCompletionContext(), [u("1"), call("x"), result("x"), a("2")])
    view = await context.get_messages()
    assert names(view) == ["1", "c:x", "r:x", "2"]
    view.clear()
    assert len(await context.get_messages()) == 4


async def test_buffered_keeps_the_last_messages() -> None:
    context = await filled(BufferedChatCompletionContext(buffer_size=3), [u(str(i)) for i in range(6)])
    assert names(await context.get_messages()) == ["3", "4", "5"]


async def test_head_and_tail_keeps_both_ends_with_a_note() -> None:
    context = await filled(HeadAndTailChatCompletionContext(head_size=2, tail_size=2), [u(str(i)) for i in range(7)])
    assert names(await context.get_messages()) == ["0", "1", "Skipped 3 messages.", "5", "6"]
    short = await filled(HeadAndTailChatCompletionContext(head_size=2, tail_size=2), [u(str(i)) for i in range(4)])
    assert names(await short.get_messages()) == ["0", "1", "2", "3"]


@pytest.mark.parametrize(
    "make",
    [
        lambda: BufferedChatCompletionContext(buffer_size=0),
        lambda: HeadAndTailChatCompletionContext(head_size=0, tail_size=1),
        lambda: HeadAndTailChatCompletionContext(head_size=1, tail_size=-1),
        lambda: TokenLimitedChatCompletionContext(ReplayChatCompletionClient([]), token_limit=0),
    ],
)
def test_sizes_must_be_positive(make: object) -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        make()  # type: ignore[operator]


async def test_initial_messages_state_round_trip_and_clear() -> None:
    history: list[LLMMessage] = [SystemMessage(content="s"), u("q"), call("x"), result("x"), a("done")]
    context = BufferedChatCompletionContext(buffer_size=10, initial_messages=history)
    state = await context.save_state()
    json.dumps(state)  # plain JSON: it goes into agent and runtime state
    other = BufferedChatCompletionContext(buffer_size=10)
    await other.load_state(state)
    assert await other.get_messages() == history
    await other.clear()
    assert await other.get_messages() == []


# -- where AutoGen splits a call from its results, Salon does not ------------------------------------------


async def test_buffered_window_shrinks_to_the_unit_boundary() -> None:
    """AutoGen drops only the first of several result messages and sends an orphaned result."""
    history: list[LLMMessage] = [u("q"), call("x"), result("x"), result("y"), a("answer")]
    context = await filled(BufferedChatCompletionContext(buffer_size=3), history)
    assert names(await context.get_messages()) == ["answer"]
    context = await filled(BufferedChatCompletionContext(buffer_size=4), history)
    assert names(await context.get_messages()) == ["c:x", "r:x", "r:y", "answer"]


async def test_the_newest_unit_is_kept_whole_even_when_larger_than_the_buffer() -> None:
    context = await filled(BufferedChatCompletionContext(buffer_size=1), [u("q"), call("x"), result("x")])
    assert names(await context.get_messages()) == ["c:x", "r:x"]


async def test_head_and_tail_never_cut_through_a_pair() -> None:
    history: list[LLMMessage] = [u("task"), call("x"), result("x"), u("1"), u("2"), call("y"), result("y")]
    context = await filled(HeadAndTailChatCompletionContext(head_size=2, tail_size=3), history)
    # head shrinks to ["task"]; the tail keeps the last pair and one more message
    assert names(await context.get_messages()) == ["task", "Skipped 3 messages.", "2", "c:y", "r:y"]


async def test_token_limited_keeps_the_newest_messages_not_the_oldest() -> None:
    """AutoGen pops from the middle and, near the limit, drops the newest message before the oldest."""
    client = ReplayChatCompletionClient([])
    history: list[LLMMessage] = [u("old question here"), call("x"), result("x"), u("new question"), a("new answer")]
    assert client.count_tokens(history) == 3 + 3 + 2 + 2
    context = await filled(TokenLimitedChatCompletionContext(client, token_limit=7), history)
    view = await context.get_messages()
    assert names(view) == ["c:x", "r:x", "new question", "new answer"]
    assert client.count_tokens(view) == 7
    tight = await filled(TokenLimitedChatCompletionContext(client, token_limit=6), history)
    assert names(await tight.get_messages()) == ["new question", "new answer"]


async def test_token_limited_uses_the_models_window_without_a_limit() -> None:
    client = ReplayChatCompletionClient([], token_limit=3)
    context = await filled(TokenLimitedChatCompletionContext(client), [u("a b"), u("c d"), u("e")])
    assert names(await context.get_messages()) == ["c d", "e"]


async def test_token_limited_counts_tool_schemas() -> None:
    client = ReplayChatCompletionClient([])
    tool = {"name": "t", "description": "d", "parameters": {"type": "object", "properties": {}}}
    schema_words = client.count_tokens([], tools=[tool])  # type: ignore[list-item]
    history: list[LLMMessage] = [u("one"), u("two"), u("three")]
    context = await filled(
        TokenLimitedChatCompletionContext(client, token_limit=schema_words + 2, tool_schema=[tool]),  # type: ignore[list-item]
        history,
    )
    assert names(await context.get_messages()) == ["two", "three"]


async def test_broken_units_in_the_history_are_never_sent() -> None:
    """A result with no call before it, or a call whose results never came, cannot be sent to a provider."""
    history: list[LLMMessage] = [
        result("orphan"),
        u("q"),
        call("lost"),
        u("retry"),
        call("x"),
        result("x"),
        call("pending"),
    ]
    for context in (
        UnboundedChatCompletionContext(),
        BufferedChatCompletionContext(buffer_size=10),
        HeadAndTailChatCompletionContext(head_size=5, tail_size=5),
        TokenLimitedChatCompletionContext(ReplayChatCompletionClient([]), token_limit=100),
    ):
        await filled(context, history)
        assert names(await context.get_messages()) == ["q", "retry", "c:x", "r:x"], type(context).__name__
