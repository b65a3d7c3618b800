"""Property tests: no context ever separates a tool call from its results, and each keeps the newest messages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

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

COUNTER = ReplayChatCompletionClient([])


@dataclass
class Conversation:
    """A history plus what the test knows about it: its units (oldest first) and a pending call, if any."""

    units: list[list[LLMMessage]]
    pending: AssistantMessage | None

    @property
    def history(self) -> list[LLMMessage]:
        messages = [m for unit in self.units for m in unit]
        return [*messages, self.pending] if self.pending is not None else messages

    @property
    def complete(self) -> list[LLMMessage]:
        return [m for unit in self.units for m in unit]


def tool_call(i: int) -> AssistantMessage:
    return AssistantMessage(
        content=[FunctionCall(id=f"t{i}", arguments="{}", name="tool")], thought=None, source="assistant"
    )


def tool_result(i: int, part: int) -> FunctionExecutionResultMessage:
    return FunctionExecutionResultMessage(
        content=[FunctionExecutionResult(content=f"out {i} {part}", name="tool", call_id=f"t{i}")]
    )


@st.composite
def conversations(draw: st.DrawFn) -> Conversation:
    kinds = draw(st.lists(st.sampled_from(["user", "assistant", "system", "tool", "tool2"]), max_size=25))
    units: list[list[LLMMessage]] = []
    for i, kind in enumerate(kinds):
        words = " ".join(["w"] * draw(st.integers(1, 4)))
        if kind == "user":
            units.append([UserMessage(content=f"{words} u{i}", source="user")])
        elif kind == "assistant":
            units.append([AssistantMessage(content=f"{words} a{i}", source="assistant")])
        elif kind == "system":
            units.append([SystemMessage(content=f"{words} s{i}")])
        else:
            results: list[LLMMessage] = [tool_result(i, part) for part in range(2 if kind == "tool2" else 1)]
            units.append([tool_call(i), *results])
    pending = tool_call(len(kinds)) if draw(st.booleans()) else None
    return Conversation(units, pending)


def is_call(m: LLMMessage) -> bool:
    return isinstance(m, AssistantMessage) and isinstance(m.content, list)


def assert_pairs_intact(view: list[LLMMessage]) -> None:
    """Each call is directly followed by its results; each result directly follows its call (or a sibling)."""
    open_call: str | None = None
    for i, m in enumerate(view):
        if is_call(m):
            assert i + 1 < len(view) and isinstance(view[i + 1], FunctionExecutionResultMessage), (
                f"call at {i} without its results"
            )
            assert isinstance(m.content, list) and isinstance(m.content[0], FunctionCall)
            open_call = m.content[0].id
        elif isinstance(m, FunctionExecutionResultMessage):
            assert open_call is not None, f"result at {i} without its call"
            assert m.content[0].call_id == open_call, f"result at {i} answers {m.content[0].call_id}, not {open_call}"
        else:
            open_call = None


def assert_in_order(view: list[LLMMessage], history: list[LLMMessage]) -> None:
    position = 0
    for m in view:
        while position < len(history) and history[position] is not m:
            position += 1
        assert position < len(history), f"{m!r} is not from the history, or out of order"
        position += 1


def split_note(
    view: list[LLMMessage], history: list[LLMMessage]
) -> tuple[list[LLMMessage], UserMessage | None, list[LLMMessage]]:
    ids = {id(m) for m in history}
    foreign = [i for i, m in enumerate(view) if id(m) not in ids]
    assert len(foreign) <= 1
    if not foreign:
        return view, None, []
    note = view[foreign[0]]
    assert isinstance(note, UserMessage) and note.source == "System"
    return view[: foreign[0]], note, view[foreign[0] + 1 :]


def window_sizes(units: list[list[LLMMessage]], view: list[LLMMessage]) -> int:
    """How many of the newest units ``view`` is made of (it must be exactly a run of newest units)."""
    taken = 0
    size = 0
    while size < len(view):
        taken += 1
        size += len(units[-taken])
    assert view == [m for unit in units[len(units) - taken :] for m in unit]
    return taken


def run(context: ChatCompletionContext, history: list[LLMMessage]) -> list[LLMMessage]:
    async def go() -> list[LLMMessage]:
        for m in history:
            await context.add_message(m)
        return await context.get_messages()

    return asyncio.run(go())


def assert_common(view: list[LLMMessage], conversation: Conversation) -> None:
    history = conversation.history
    before, _, after = split_note(view, history)
    real = before + after
    assert_pairs_intact(real)
    assert_in_order(real, history)
    if conversation.units:
        assert real[-1] is conversation.units[-1][-1], "the newest complete message must be in the view"
    else:
        assert real == []


@settings(max_examples=200, deadline=None)
@given(conversations())
def test_unbounded_sends_every_complete_unit(conversation: Conversation) -> None:
    view = run(UnboundedChatCompletionContext(), conversation.history)
    assert_common(view, conversation)
    assert view == conversation.complete


@settings(max_examples=200, deadline=None)
@given(conversations(), st.integers(1, 12))
def test_buffered_sends_the_longest_run_of_newest_units_that_fits(conversation: Conversation, size: int) -> None:
    view = run(BufferedChatCompletionContext(buffer_size=size), conversation.history)
    assert_common(view, conversation)
    if not conversation.units:
        return
    taken = window_sizes(conversation.units, view)
    assert len(view) <= size or taken == 1, "only the newest unit may exceed the buffer"
    if taken < len(conversation.units):
        assert len(view) + len(conversation.units[-taken - 1]) > size, "the window shrank more than needed"


@settings(max_examples=200, deadline=None)
@given(conversations(), st.integers(1, 40))
def test_token_limited_sends_the_newest_units_within_the_budget(conversation: Conversation, limit: int) -> None:
    view = run(TokenLimitedChatCompletionContext(COUNTER, token_limit=limit), conversation.history)
    assert_common(view, conversation)
    if not conversation.units:
        return
    taken = window_sizes(conversation.units, view)
    assert COUNTER.count_tokens(view) <= limit or taken == 1, "only the newest unit may exceed the budget"
    if taken < len(conversation.units):
        wider = [*conversation.units[-taken - 1], *view]
        assert COUNTER.count_tokens(wider) > limit, "the window shrank more than needed"


@settings(max_examples=200, deadline=None)
@given(conversations(), st.integers(1, 8), st.integers(1, 8))
def test_head_and_tail_send_whole_units_from_both_ends(conversation: Conversation, head: int, tail: int) -> None:
    view = run(HeadAndTailChatCompletionContext(head_size=head, tail_size=tail), conversation.history)
    assert_common(view, conversation)
    complete = conversation.complete
    before, note, after = split_note(view, conversation.history)
    if note is None:
        assert view == complete
        return
    assert len(complete) > head + tail
    assert len(before) <= head
    assert complete[: len(before)] == before
    taken = window_sizes(conversation.units, after)
    assert len(after) <= tail or taken == 1
    skipped = len(complete) - len(before) - len(after)
    assert skipped > 0
    assert note.content == f"Skipped {skipped} messages."


# Any sequence at all, including orphaned results and calls whose results never came.
any_message = st.one_of(
    st.integers(0, 5).map(lambda i: UserMessage(content=f"u{i}", source="user")),
    st.integers(0, 5).map(tool_call),
    st.integers(0, 5).map(lambda i: tool_result(i, 0)),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(any_message, max_size=20),
    st.sampled_from(["unbounded", "buffered", "head_tail", "tokens"]),
    st.integers(1, 10),
)
def test_no_context_ever_sends_a_broken_pair(history: list[LLMMessage], kind: str, size: int) -> None:
    # Give each message its own identity (the strategies may share equal objects).
    history = [m.model_copy() for m in history]
    for i, m in enumerate(history):  # a call and the results right after it share an id, as in real conversations
        if is_call(m):
            ident = f"x{i}"
            assert isinstance(m.content, list)
            m.content = [FunctionCall(id=ident, arguments="{}", name="tool")]
            j = i + 1
            while j < len(history) and isinstance(history[j], FunctionExecutionResultMessage):
                history[j] = FunctionExecutionResultMessage(
                    content=[FunctionExecutionResult(content="r", name="tool", call_id=ident)]
                )
                j += 1
    makers: dict[str, Callable[[], ChatCompletionContext]] = {
        "unbounded": UnboundedChatCompletionContext,
        "buffered": lambda: BufferedChatCompletionContext(buffer_size=size),
        "head_tail": lambda: HeadAndTailChatCompletionContext(head_size=size, tail_size=size),
        "tokens": lambda: TokenLimitedChatCompletionContext(COUNTER, token_limit=size),
    }
    context = makers[kind]()
    view = run(context, history)
    before, _, after = split_note(view, history)
    assert_pairs_intact(before + after)
    assert_in_order(before + after, history)


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["user", "call", "result", "clear"]), st.booleans()), min_size=1, max_size=40
    )
)
def test_unbounded_view_remembered_between_calls_equals_a_fresh_walk(steps: list[tuple[str, bool]]) -> None:
    """Whatever is appended (orphan results and pending calls included) and whenever the view is read,
    the remembered units give exactly what walking the whole history afresh gives."""
    from salon.model_context._pairing import flatten, units

    async def scenario() -> None:
        context = UnboundedChatCompletionContext()
        for i, (kind, read) in enumerate(steps):
            if kind == "user":
                await context.add_message(UserMessage(content=f"u{i}", source="user"))
            elif kind == "call":
                await context.add_message(tool_call(i))
            elif kind == "result":
                await context.add_message(tool_result(i, 0))
            else:
                await context.clear()
            if read:
                history = context._messages
                assert await context.get_messages() == flatten(history, list(units(history)))
        history = context._messages
        assert await context.get_messages() == flatten(history, list(units(history)))

    asyncio.run(scenario())
