"""Property tests: publish routing against a brute-force model, and identity validation.

Routing: for random sets of TypeSubscription / TypePrefixSubscription / custom Subscription objects,
added and removed in random order, every publish must reach exactly the agent ids the active
subscriptions map its topic to, once each (DESIGN.md §5.1), minus the sender. The runtime caches
routes per topic type and keeps custom subscriptions apart; the model does neither, so any stale
cache, lost custom subscription or duplicate delivery shows up as a difference.

Identity: AgentId and TopicId accept exactly the strings their regexes allow, and their string forms
round-trip.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salon import (
    AgentId,
    AgentType,
    ClosureAgent,
    ClosureContext,
    DefaultTopicId,
    MessageContext,
    SingleThreadedAgentRuntime,
    Subscription,
    TopicId,
    TypePrefixSubscription,
    TypeSubscription,
)
from salon.exceptions import CantHandleException

AGENT_TYPE_RE = re.compile(r"^[\w\-\.]+\Z")
TOPIC_TYPE_RE = re.compile(r"^[\w\-\.\:\=]+\Z")

REGISTERED_TYPES = ["a", "b", "c.d"]
AGENT_TYPES = [*REGISTERED_TYPES, "ghost"]  # "ghost" is subscribed to but never registered
SOURCES = ["s1", "s2", "", "x/y"]
TOPIC_CHARS = "abc.d:=-"


@dataclass
class Note:
    text: str


class SourceSubscription:
    """A custom subscription: matches topics whose source is in ``sources`` (and whose type starts with
    ``type_prefix``) and derives the key from the topic in one of several ways, so it cannot be cached
    per topic type."""

    def __init__(self, sub_id: str, agent_type: str, sources: frozenset[str], type_prefix: str, key_mode: str) -> None:
        self._id = sub_id
        self.agent_type = agent_type
        self.sources = sources
        self.type_prefix = type_prefix
        self.key_mode = key_mode

    @property
    def id(self) -> str:
        return self._id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SourceSubscription) and other._id == self._id

    def __hash__(self) -> int:
        return hash(self._id)

    def __repr__(self) -> str:
        return (
            f"SourceSubscription({self._id}, {self.agent_type}, {sorted(self.sources)}, "
            f"{self.type_prefix!r}, {self.key_mode})"
        )

    def is_match(self, topic_id: TopicId) -> bool:
        return topic_id.source in self.sources and topic_id.type.startswith(self.type_prefix)

    def map_to_agent(self, topic_id: TopicId) -> AgentId:
        if not self.is_match(topic_id):
            raise CantHandleException(f"{topic_id} does not match {self!r}")
        if self.key_mode == "fixed":
            return AgentId(self.agent_type, "fixed")
        if self.key_mode == "source":
            return AgentId(self.agent_type, topic_id.source)
        return AgentId(self.agent_type, f"{topic_id.type}|{topic_id.source}")


# -- strategies -------------------------------------------------------------------------------------

# Topic types and prefixes are drawn mostly from a small vocabulary that overlaps (so subscriptions
# match often and overlap each other, including the "<agent type>:" direct-message prefixes), and
# sometimes from random text over the allowed characters.
TOPIC_WORDS = ["a", "b", "a:", "a:x", "b:", "c.d:", "c.d:y", "news", "news.x", "n", "x=1"]
topic_types = st.one_of(st.sampled_from(TOPIC_WORDS), st.text(alphabet=TOPIC_CHARS, min_size=1, max_size=4))
prefixes = st.one_of(
    st.sampled_from(["", "a", "a:", "b", "news", "n", "c.d:"]), st.text(alphabet=TOPIC_CHARS, max_size=3)
)
agent_types = st.sampled_from(AGENT_TYPES)


@st.composite
def subscriptions(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["type", "prefix", "custom"]))
    agent_type = draw(agent_types)
    if kind == "type":
        return TypeSubscription(draw(topic_types), agent_type)
    if kind == "prefix":
        return TypePrefixSubscription(draw(prefixes), agent_type)
    return SourceSubscription(
        f"custom-{draw(st.integers(0, 10**9))}",
        agent_type,
        frozenset(draw(st.sets(st.sampled_from(SOURCES), min_size=1))),
        draw(prefixes),
        draw(st.sampled_from(["fixed", "source", "topic"])),
    )


@st.composite
def publishes(draw: st.DrawFn) -> tuple[str, TopicId, AgentId | None]:
    topic = TopicId(draw(topic_types), draw(st.sampled_from(SOURCES)))
    sender: AgentId | None = None
    if draw(st.booleans()):
        # usually a likely recipient (same key as the topic source), so the sender's exclusion is exercised
        key = draw(st.sampled_from([topic.source, topic.source, "fixed", f"{topic.type}|{topic.source}"]))
        sender = AgentId(draw(st.sampled_from(REGISTERED_TYPES)), key)
    return ("publish", topic, sender)


# A scenario starts with a few subscriptions, then interleaves more adds, removals and publishes.
operations = st.builds(
    lambda initial, rest: [("add", sub) for sub in initial] + rest,
    st.lists(subscriptions(), min_size=1, max_size=8),
    st.lists(
        st.one_of(
            st.tuples(st.just("add"), subscriptions()),
            st.tuples(st.just("remove"), st.integers(0, 50)),
            publishes(),
            publishes(),
        ),
        min_size=1,
        max_size=25,
    ),
)


# -- the model --------------------------------------------------------------------------------------


def expected_recipients(active: list[Any], topic: TopicId, sender: AgentId | None) -> set[AgentId]:
    """Brute force: every registered agent id any active subscription maps the topic to, except the sender."""
    result = {sub.map_to_agent(topic) for sub in active if sub.is_match(topic)}
    return {agent_id for agent_id in result if agent_id.type in REGISTERED_TYPES and agent_id != sender}


async def run_scenario(ops: list[tuple[Any, ...]]) -> None:
    runtime = SingleThreadedAgentRuntime()
    deliveries: list[tuple[AgentId, str]] = []

    async def record(ctx: ClosureContext, message: Note, mctx: MessageContext) -> None:
        deliveries.append((ctx.id, message.text))

    model: list[Any] = []
    for agent_type in REGISTERED_TYPES:
        await ClosureAgent.register_closure(runtime, agent_type, record)
        model.append(TypePrefixSubscription(agent_type + ":", agent_type))  # added by register_closure
    added: list[Any] = []

    for n, op in enumerate(ops):
        if op[0] == "add":
            sub = op[1]
            duplicate = any(existing == sub for existing in model)
            if duplicate:
                with pytest.raises(ValueError):
                    await runtime.add_subscription(sub)
            else:
                await runtime.add_subscription(sub)
                model.append(sub)
                added.append(sub)
        elif op[0] == "remove":
            if not added:
                continue
            sub = added.pop(op[1] % len(added))
            await runtime.remove_subscription(sub.id)
            model.remove(sub)
        else:
            _, topic, sender = op
            text = f"m{n}"
            runtime.start()
            await runtime.publish_message(Note(text), topic, sender=sender)
            async with asyncio.timeout(5):
                await runtime.stop_when_idle()
            got = Counter(agent_id for agent_id, t in deliveries if t == text)
            want = expected_recipients(model, topic, sender)
            assert got == Counter(want), (
                f"publish to {topic} (sender {sender}) with subscriptions {model}: "
                f"delivered {dict(got)}, expected each of {sorted(map(str, want))} once"
            )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_publish_reaches_exactly_the_mapped_agents_once(ops: list[tuple[Any, ...]]) -> None:
    asyncio.run(run_scenario(ops))


def test_overlapping_subscriptions_deliver_once() -> None:
    """The example that motivated DESIGN.md §5.1 (AutoGen delivers twice here)."""
    asyncio.run(
        run_scenario(
            [
                ("add", TypeSubscription("news", "a")),
                ("add", TypePrefixSubscription("ne", "a")),
                ("add", SourceSubscription("c1", "a", frozenset({"s1"}), "", "source")),
                ("publish", TopicId("news", "s1"), None),
            ]
        )
    )


# -- identity validation ----------------------------------------------------------------------------

# Mostly characters near the edges of the allowed sets, plus arbitrary unicode now and then.
identity_text = st.one_of(
    st.text(alphabet="aZ09_-.:=/ \t\n@#é٣ß", max_size=6),
    st.text(max_size=6),
)


@given(identity_text)
def test_agent_type_accepts_exactly_the_regex(value: str) -> None:
    valid = AGENT_TYPE_RE.match(value) is not None
    if valid:
        agent_id = AgentId(value, "key")
        assert agent_id.type == value
        assert AgentId(AgentType(value), "key") == agent_id
        assert TypeSubscription("topic", value).agent_type == value
    else:
        with pytest.raises(ValueError) as info:
            AgentId(value, "key")
        assert repr(value) in str(info.value), "the error must name the offending value"
        with pytest.raises(ValueError):
            TypeSubscription("topic", value)


@given(identity_text)
def test_topic_type_accepts_exactly_the_regex(value: str) -> None:
    valid = TOPIC_TYPE_RE.match(value) is not None
    if valid:
        assert TopicId(value, "source").type == value
        assert DefaultTopicId(value, "source") == TopicId(value, "source")
    else:
        with pytest.raises(ValueError) as info:
            TopicId(value, "source")
        assert repr(value) in str(info.value), "the error must name the offending value"


@given(st.from_regex(AGENT_TYPE_RE), st.text())
def test_agent_id_string_round_trip(agent_type: str, key: str) -> None:
    agent_id = AgentId(agent_type, key)
    assert str(agent_id) == f"{agent_type}/{key}"
    parsed = AgentId.from_str(str(agent_id))
    assert parsed == agent_id
    assert hash(parsed) == hash(agent_id)


@given(st.from_regex(TOPIC_TYPE_RE), st.text())
def test_topic_id_string_round_trip(topic_type: str, source: str) -> None:
    topic_id = TopicId(topic_type, source)
    assert str(topic_id) == f"{topic_type}/{source}"
    parsed = TopicId.from_str(str(topic_id))
    assert parsed == topic_id
    assert hash(parsed) == hash(topic_id)


@given(st.text().filter(lambda s: "/" not in s))
def test_from_str_without_a_slash_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        AgentId.from_str(value)
    with pytest.raises(ValueError):
        TopicId.from_str(value)


@given(st.from_regex(TOPIC_TYPE_RE), st.sampled_from(REGISTERED_TYPES))
def test_equal_builtin_subscriptions_are_equal_across_ids(pattern: str, agent_type: str) -> None:
    """Equality (what the runtime uses to refuse duplicates) ignores the random id but not the kind."""
    first, second = TypeSubscription(pattern, agent_type), TypeSubscription(pattern, agent_type)
    assert first.id != second.id
    assert first == second
    assert hash(first) == hash(second)
    assert TypePrefixSubscription(pattern, agent_type) != first
    assert isinstance(first, Subscription)


def test_trailing_newline_is_not_allowed() -> None:
    """``\\Z`` (not ``$``): a trailing newline is rejected, which ``$`` would let through."""
    with pytest.raises(ValueError):
        AgentId("abc\n", "k")
    with pytest.raises(ValueError):
        TopicId("abc\n", "s")
