"""Invariants of the message-list -> Messages API request mapping, for any conversation (hypothesis)."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salon import FunctionCall
from salon.models import (
    AssistantMessage,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
    UserMessage,
)
from salon.testing import AnthropicTestServer
from salon_anthropic import AnthropicChatCompletionClient
from salon_anthropic._convert import to_anthropic_messages

from .conftest import API_KEY, MODEL

texts = st.text(alphabet=st.sampled_from("ab \n.é"), max_size=12)
ids = st.text(alphabet="abcdef0123456789", min_size=1, max_size=6).map(lambda s: f"toolu_{s}")
names = st.sampled_from(["get_weather", "add", "search-web"])
arguments = st.one_of(
    st.dictionaries(st.sampled_from(["city", "n"]), st.one_of(st.integers(), texts), max_size=2).map(json.dumps),
    texts,  # not JSON at all: what a broken model sends
)
calls = st.builds(FunctionCall, id=ids, arguments=arguments, name=names)
results = st.builds(
    FunctionExecutionResult, content=texts, name=names, call_id=ids, is_error=st.one_of(st.none(), st.booleans())
)
messages: st.SearchStrategy[LLMMessage] = st.one_of(
    st.builds(SystemMessage, content=texts),
    st.builds(UserMessage, content=texts, source=st.just("user")),
    st.builds(UserMessage, content=st.lists(texts, max_size=3), source=st.just("user")),
    st.builds(AssistantMessage, content=texts, source=st.just("a")),
    st.builds(
        AssistantMessage,
        content=st.lists(calls, min_size=1, max_size=3),
        thought=st.one_of(st.none(), texts),
        source=st.just("a"),
    ),
    st.builds(FunctionExecutionResultMessage, content=st.lists(results, min_size=1, max_size=3)),
)
conversations = st.lists(messages, max_size=10)


def expected_texts(conversation: list[LLMMessage]) -> list[tuple[str, str]]:
    """(role, text) of every non-blank text the request must carry, in order (thoughts included)."""
    out: list[tuple[str, str]] = []
    for message in conversation:
        if isinstance(message, UserMessage):
            parts = [message.content] if isinstance(message.content, str) else message.content
            out += [("user", part) for part in parts if isinstance(part, str) and part.strip()]
        elif isinstance(message, AssistantMessage):
            if isinstance(message.content, str):
                if message.content.strip():
                    out.append(("assistant", message.content))
            elif message.thought and message.thought.strip():
                out.append(("assistant", message.thought))
    return out


@given(conversations)
def test_mapping_invariants(conversation: list[LLMMessage]) -> None:
    before = [message.model_dump() for message in conversation]
    system, turns = to_anthropic_messages(conversation)
    assert [message.model_dump() for message in conversation] == before, "the input is never modified"

    # system: every non-blank system message, in order, and nothing else
    system_texts = [m.content for m in conversation if isinstance(m, SystemMessage) and m.content.strip()]
    assert system == ("\n\n".join(system_texts) if system_texts else None)

    # roles alternate, no turn is empty, no text block is blank
    roles = [turn["role"] for turn in turns]
    assert all(a != b for a, b in pairwise(roles))
    assert all(turn["content"] for turn in turns)
    blocks = [(turn["role"], block) for turn in turns for block in turn["content"]]
    assert all(block["text"].strip() for _, block in blocks if block["type"] == "text")

    # texts keep their order and role (the last assistant text only loses trailing whitespace)
    got = [(role, block["text"]) for role, block in blocks if block["type"] == "text"]
    want = expected_texts(conversation)
    assert [role for role, _ in got] == [role for role, _ in want]
    assert [text.rstrip() for _, text in got] == [text.rstrip() for _, text in want]

    # every call becomes a tool_use in an assistant turn, with an object input; results pair by id, in order
    call_list = [
        c for m in conversation if isinstance(m, AssistantMessage) and isinstance(m.content, list) for c in m.content
    ]
    tool_uses = [block for role, block in blocks if block["type"] == "tool_use" and role == "assistant"]
    assert [(b["id"], b["name"]) for b in tool_uses] == [(c.id, c.name) for c in call_list]
    assert all(isinstance(b["input"], dict) for b in tool_uses)
    result_list = [r for m in conversation if isinstance(m, FunctionExecutionResultMessage) for r in m.content]
    tool_results = [block for role, block in blocks if block["type"] == "tool_result" and role == "user"]
    assert [b["tool_use_id"] for b in tool_results] == [r.call_id for r in result_list]
    assert [bool(b.get("is_error")) for b in tool_results] == [bool(r.is_error) for r in result_list]

    # in a user turn, tool results come before anything else
    for turn in turns:
        kinds = [block["type"] == "tool_result" for block in turn["content"]]
        assert kinds == sorted(kinds, reverse=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(conversations.filter(lambda c: any(not isinstance(m, SystemMessage) and expected_texts([m]) for m in c)))
async def test_the_sdk_sends_exactly_the_mapping(conversation: list[LLMMessage]) -> None:
    """Through the real SDK over HTTP, the request body holds the mapped system and messages unchanged."""
    system, turns = to_anthropic_messages(conversation)
    with AnthropicTestServer() as server:
        client = AnthropicChatCompletionClient(model=MODEL, base_url=server.url, api_key=API_KEY, max_retries=0)
        server.script("ok")
        try:
            await client.create(conversation)
        finally:
            await client.close()
        body: Any = server.requests[-1].body
    assert body["messages"] == turns
    assert body.get("system") == system
