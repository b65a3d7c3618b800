"""MessageFilterAgent: per-source first/last selection, delegation of streams, reset and state."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from salon import CancellationToken
from salon.models import ReplayChatCompletionClient, SystemMessage
from salon_agentchat.agents import (
    AssistantAgent,
    BaseChatAgent,
    MessageFilterAgent,
    MessageFilterConfig,
    PerSourceFilter,
)
from salon_agentchat.base import Response
from salon_agentchat.messages import BaseAgentEvent, BaseChatMessage, StopMessage, TextMessage, ThoughtEvent


class Recorder(BaseChatAgent):
    """Remembers what it was given; replies with the number of messages it saw."""

    def __init__(self, name: str = "inner") -> None:
        super().__init__(name, "Records its input.")
        self.seen: list[list[BaseChatMessage]] = []
        self.resets = 0

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage, StopMessage)

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        self.seen.append(list(messages))
        return Response(chat_message=TextMessage(content=str(len(messages)), source=self.name))

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        yield ThoughtEvent(content="counting", source=self.name)
        yield await self.on_messages(messages, cancellation_token)

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        self.resets += 1
        self.seen.clear()

    async def save_state(self) -> Mapping[str, Any]:
        return {"seen": [[m.dump() for m in turn] for turn in self.seen]}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.seen = [[TextMessage.load(m) for m in turn] for turn in state["seen"]]


def msg(source: str, content: str) -> TextMessage:
    return TextMessage(content=content, source=source)


THREAD = [msg("user", "task"), msg("A", "a1"), msg("B", "b1"), msg("A", "a2"), msg("B", "b2"), msg("B", "b3")]


def filtered(*filters: PerSourceFilter) -> tuple[MessageFilterAgent, Recorder]:
    inner = Recorder()
    return MessageFilterAgent(
        "wrapper", wrapped_agent=inner, filter=MessageFilterConfig(per_source=list(filters))
    ), inner


async def test_first_and_last_n_per_source() -> None:
    agent, inner = filtered(
        PerSourceFilter(source="user", position="first", count=1),
        PerSourceFilter(source="B", position="last", count=2),
    )
    response = await agent.on_messages(THREAD, CancellationToken())
    assert [m.content for m in inner.seen[0]] == ["task", "b2", "b3"]  # type: ignore[attr-defined]
    assert response.chat_message.to_text() == "3"


async def test_a_filter_without_position_or_count_keeps_every_message_of_its_source() -> None:
    agent, inner = filtered(PerSourceFilter(source="A"), PerSourceFilter(source="B", position="first"))
    await agent.on_messages(THREAD, CancellationToken())
    assert [m.content for m in inner.seen[0]] == ["a1", "a2", "b1", "b2", "b3"]  # type: ignore[attr-defined]


async def test_selections_follow_the_filter_order_and_unnamed_sources_are_dropped() -> None:
    agent, inner = filtered(
        PerSourceFilter(source="B", position="first", count=1), PerSourceFilter(source="user", position="last", count=5)
    )
    await agent.on_messages(THREAD, CancellationToken())
    assert [m.content for m in inner.seen[0]] == ["b1", "task"]  # type: ignore[attr-defined]


@given(
    sources=st.lists(st.sampled_from(["user", "A", "B", "C"]), max_size=30),
    rules=st.lists(
        st.tuples(
            st.sampled_from(["user", "A", "B", "Z"]),
            st.sampled_from(["first", "last", None]),
            st.one_of(st.none(), st.integers(min_value=1, max_value=6)),
        ),
        max_size=4,
    ),
)
def test_filtering_matches_a_per_source_slice(
    sources: list[str], rules: list[tuple[str, str | None, int | None]]
) -> None:
    messages = [msg(source, f"{source}{i}") for i, source in enumerate(sources)]
    agent, _ = filtered(*(PerSourceFilter(source=s, position=p, count=c) for s, p, c in rules))  # type: ignore[arg-type]
    expected: list[BaseChatMessage] = []
    for source, position, count in rules:
        own = [m for m in messages if m.source == source]
        if count is not None and position == "first":
            own = own[:count]
        elif count is not None and position == "last":
            own = own[len(own) - count :] if count < len(own) else own
        expected.extend(own)
    assert agent._apply_filter(messages) == expected


async def test_the_stream_is_the_wrapped_agents_stream() -> None:
    agent, inner = filtered(PerSourceFilter(source="A", position="last", count=1))
    items = [item async for item in agent.on_messages_stream(THREAD, CancellationToken())]
    assert [type(i).__name__ for i in items] == ["ThoughtEvent", "Response"]
    assert [m.content for m in inner.seen[0]] == ["a2"]  # type: ignore[attr-defined]


async def test_a_model_sees_only_the_filtered_messages() -> None:
    client = ReplayChatCompletionClient(["noted"])
    assistant = AssistantAgent("critic", model_client=client, system_message="Be brief.")
    agent = MessageFilterAgent(
        "critic",
        wrapped_agent=assistant,
        filter=MessageFilterConfig(per_source=[PerSourceFilter(source="B", position="last", count=1)]),
    )
    result = await agent.run(task=THREAD)
    assert result.messages[-1].to_text() == "noted"
    sent = client.create_calls[0]["messages"]
    assert sent[0] == SystemMessage(content="Be brief.")
    assert [m.content for m in sent[1:]] == ["b3"]


async def test_reset_and_state_belong_to_the_wrapped_agent() -> None:
    agent, inner = filtered(PerSourceFilter(source="A"))
    await agent.on_messages(THREAD, CancellationToken())
    state = await agent.save_state()
    assert state == await inner.save_state()
    await agent.on_reset(CancellationToken())
    assert inner.resets == 1
    assert inner.seen == []
    await agent.load_state(state)
    assert [m.content for m in inner.seen[0]] == ["a1", "a2"]  # type: ignore[attr-defined]


def test_identity_comes_from_the_wrapper_and_types_from_the_wrapped_agent() -> None:
    agent, inner = filtered(PerSourceFilter(source="A"))
    assert agent.name == "wrapper"
    assert agent.description == "Records its input. (with message filtering)"
    assert agent.produced_message_types == (TextMessage, StopMessage)
    assert agent.wrapped_agent is inner
    assert agent.filter.per_source[0].source == "A"


def test_bad_filters_are_rejected() -> None:
    with pytest.raises(ValidationError, match="count"):
        PerSourceFilter(source="A", position="last", count=0)
    with pytest.raises(ValidationError, match="position"):
        PerSourceFilter(source="A", position="middle", count=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="MessageFilterConfig"):
        MessageFilterAgent("w", wrapped_agent=Recorder(), filter=[PerSourceFilter(source="A")])  # type: ignore[arg-type]
