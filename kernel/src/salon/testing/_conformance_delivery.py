"""Conformance: agent creation, direct messages, publishing and subscriptions (AutoGen 0.7 semantics)."""

from __future__ import annotations

import pytest

from salon import (
    AgentId,
    AgentInstantiationContext,
    AgentRuntime,
    DefaultSubscription,
    DefaultTopicId,
    MessageContext,
    RoutedAgent,
    TopicId,
    TypePrefixSubscription,
    TypeSubscription,
    default_subscription,
    message_handler,
    type_subscription,
)

from ._runtime_agents import ConformanceError, Note, Ping, Pong, ProbeAgent, Recorder
from ._runtime_harness import ConformanceRuntime, RuntimeHarness

__all__ = ["DeliveryConformance"]


@default_subscription
class DefaultSubscribedProbe(ProbeAgent):
    """Subscribed to the ``default`` topic type by the class decorator."""


@type_subscription("decorated-topic")
class TypeSubscribedProbe(ProbeAgent):
    """Subscribed to the ``decorated-topic`` topic type by the class decorator."""


class Relay(RoutedAgent):
    """Publishes every :class:`Note` it is sent to :class:`DefaultTopicId` from inside its handler."""

    def __init__(self) -> None:
        super().__init__("relay")

    @message_handler
    async def on_note(self, message: Note, ctx: MessageContext) -> None:
        """Republish, leaving the topic source to :class:`DefaultTopicId`."""
        await self.publish_message(Note("relayed:" + message.text), DefaultTopicId())


class Forwarder(RoutedAgent):
    """Forwards a :class:`Ping` to ``probe/<own key>`` and returns the answer (agent-to-agent RPC)."""

    def __init__(self) -> None:
        super().__init__("forwarder")

    @message_handler
    async def on_ping(self, message: Ping, ctx: MessageContext) -> Pong:
        """Ask the probe with the same key."""
        answer = await self.send_message(message, AgentId("probe", self.id.key))
        assert isinstance(answer, Pong)
        return Pong("via-forwarder:" + answer.text)


class DeliveryConformance(RuntimeHarness):
    """Creation of agents, send/publish delivery and subscription management."""

    # -- agent creation -------------------------------------------------------------------------------

    async def test_factory_creates_each_key_once_on_first_message(self, runtime: ConformanceRuntime) -> None:
        """AutoGen creates agents lazily: one factory call per (type, key), on first delivery.

        ``ProbeAgent`` records ``AgentInstantiationContext.current_agent_id()`` in ``created`` when a
        factory builds it, so ``created`` lists the factory calls.
        """
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await self.collect(runtime, rec)
        assert rec.created == [], "the factory ran at registration; instances must be created lazily"
        runtime.start()
        for key in ("a", "a", "b", "a"):
            assert await self.within(runtime.send_message(Ping(key), AgentId("probe", key))) == Pong(key)
        await self.collect(runtime, rec)
        assert rec.created == [AgentId("probe", "a"), AgentId("probe", "b")]
        assert rec.agents("ping") == [AgentId("probe", k) for k in ("a", "a", "b", "a")]

    async def test_async_factory(self, runtime: ConformanceRuntime) -> None:
        """A factory may be a coroutine function; the runtime awaits it (AutoGen accepts both)."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec, async_factory=True)
        runtime.start()
        assert await self.within(runtime.send_message(Ping("x"), AgentId("probe", "k"))) == Pong("x")
        await self.collect(runtime, rec)
        assert rec.created == [AgentId("probe", "k")]

    async def test_factory_runs_inside_instantiation_context(self, runtime: ConformanceRuntime) -> None:
        """The factory sees its runtime and the new agent's id, so ``BaseAgent`` binds both at construction."""
        seen: list[tuple[AgentRuntime, AgentId]] = []
        rec = Recorder()

        def factory() -> ProbeAgent:
            seen.append((AgentInstantiationContext.current_runtime(), AgentInstantiationContext.current_agent_id()))
            return ProbeAgent(rec)

        await ProbeAgent.register(runtime, "probe", factory)
        runtime.start()
        await self.within(runtime.send_message(Ping("x"), AgentId("probe", "key-1")))
        assert len(seen) == 1
        assert seen[0][0] is runtime
        assert seen[0][1] == AgentId("probe", "key-1")
        agent = await self.within(runtime.try_get_underlying_agent_instance(AgentId("probe", "key-1"), ProbeAgent))
        assert agent.id == AgentId("probe", "key-1")
        assert agent.runtime is runtime
        assert not AgentInstantiationContext.is_in_factory_call()

    async def test_register_agent_instance(self, runtime: ConformanceRuntime) -> None:
        """An agent built outside any factory is bound to the id it is registered under and receives messages."""
        rec = Recorder()
        agent = ProbeAgent(rec)
        agent_id = AgentId("instance", "only")
        assert await self.within(runtime.register_agent_instance(agent, agent_id)) == agent_id
        assert agent.id == agent_id
        assert agent.runtime is runtime
        runtime.start()
        assert await self.within(runtime.send_message(Ping("hi"), agent_id)) == Pong("hi")
        assert rec.agents("ping") == [agent_id]
        assert await self.within(runtime.try_get_underlying_agent_instance(agent_id)) is agent

    async def test_register_instance_helper_adds_subscriptions(self, runtime: ConformanceRuntime) -> None:
        """``agent.register_instance`` subscribes the agent to the topic type named by its key (AutoGen)."""
        rec = Recorder()
        await self.within(self.host_agent_instance(runtime, AgentId("inst", "room"), ProbeAgent, rec))
        runtime.start()
        await runtime.publish_message(Note("to-key"), TopicId("room", "room"))
        await runtime.publish_message(Note("direct"), TopicId("inst:anything", "room"))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert rec.texts("note") == ["to-key", "direct"]
        assert rec.agents("note") == [AgentId("inst", "room")] * 2

    # -- direct messages ------------------------------------------------------------------------------

    async def test_send_message_returns_the_handler_response(self, runtime: ConformanceRuntime) -> None:
        """``send_message`` resolves to the handler's return value; the context says it is an RPC."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        runtime.start()
        sender = AgentId("outside", "me")
        response = await self.within(runtime.send_message(Ping("hello"), AgentId("probe", "k"), sender=sender))
        assert response == Pong("hello")
        await self.collect(runtime, rec)
        (record,) = rec.kinds("ping")
        assert record.is_rpc is True
        assert record.sender == sender
        assert record.topic is None

    async def test_message_ids_reach_the_handler(self, runtime: ConformanceRuntime) -> None:
        """Handlers see the message id the sender gave, or a fresh one per message.

        Without an explicit ``message_id`` each message gets its own (AutoGen makes a uuid4).
        """
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await self.host_agent(runtime, "other", ProbeAgent, rec)
        for agent_type in ("probe", "other"):
            await runtime.add_subscription(TypeSubscription("t", agent_type))
        runtime.start()
        await self.within(runtime.send_message(Ping("given"), AgentId("probe", "k"), message_id="rpc-id-1"))
        await runtime.publish_message(Note("given"), TopicId("t", "k"), message_id="publish-id-1")
        await self.within(runtime.send_message(Ping("a"), AgentId("probe", "k")))
        await self.within(runtime.send_message(Ping("b"), AgentId("probe", "k")))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert rec.kinds("ping")[0].message_id == "rpc-id-1"
        assert {r.message_id for r in rec.kinds("note")} == {"publish-id-1"}
        generated = [r.message_id for r in rec.kinds("ping")[1:]]
        assert all(isinstance(m, str) and m for m in generated)
        assert len(set(generated)) == 2

    async def test_agent_to_agent_send(self, runtime: ConformanceRuntime) -> None:
        """An agent's ``send_message`` names it as the sender and gets the answer back."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await self.host_agent(runtime, "forwarder", Forwarder)
        runtime.start()
        answer = await self.within(runtime.send_message(Ping("p"), AgentId("forwarder", "k7")))
        assert answer == Pong("via-forwarder:p")
        await self.collect(runtime, rec)
        (record,) = rec.kinds("ping")
        assert record.agent == AgentId("probe", "k7")
        assert record.sender == AgentId("forwarder", "k7")

    async def test_rpc_handler_exception_reaches_caller_with_its_type(self, runtime: ConformanceRuntime) -> None:
        """The exception a handler raises is re-raised at the caller with its original type and message."""
        from ._runtime_agents import Boom

        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        runtime.start()
        with pytest.raises(ConformanceError, match="broken on purpose"):
            await self.within(runtime.send_message(Boom("broken on purpose"), AgentId("probe", "k")))
        # the agent and the runtime keep working
        assert await self.within(runtime.send_message(Ping("after"), AgentId("probe", "k"))) == Pong("after")

    async def test_send_to_unregistered_type_raises_lookup_error(self, runtime: ConformanceRuntime) -> None:
        """Salon raises ``LookupError`` naming the type (AutoGen raises a bare ``Exception("Recipient not found")``)."""
        runtime.start()
        with pytest.raises(LookupError, match="no_such_type"):
            await self.within(runtime.send_message(Ping("x"), AgentId("no_such_type", "k")))

    # -- publishing -----------------------------------------------------------------------------------

    async def test_publish_fans_out_to_every_subscribed_type(self, runtime: ConformanceRuntime) -> None:
        """One publish reaches one instance of each subscribed type, keyed by the topic source."""
        rec = Recorder()
        for agent_type in ("alpha", "beta", "gamma"):
            await self.host_agent(runtime, agent_type, ProbeAgent, rec)
            await runtime.add_subscription(TypeSubscription("fan", agent_type))
        await self.host_agent(runtime, "bystander", ProbeAgent, rec)
        runtime.start()
        await runtime.publish_message(Note("n"), TopicId("fan", "src"), sender=AgentId("outside", "x"))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        notes = rec.kinds("note")
        assert sorted(str(r.agent) for r in notes) == ["alpha/src", "beta/src", "gamma/src"]
        for record in notes:
            assert record.is_rpc is False
            assert record.topic == TopicId("fan", "src")
            assert record.sender == AgentId("outside", "x")

    async def test_a_publish_reaches_each_agent_once_when_subscriptions_overlap(
        self, runtime: ConformanceRuntime
    ) -> None:
        """Salon §5.1: several subscriptions mapping one topic to the same agent deliver to it once.

        Here a TypeSubscription, two TypePrefixSubscriptions and the direct-message prefix all map
        ``TopicId("probe:news", "k")`` to ``probe/k``; AutoGen 0.7.5 would deliver four times.
        """
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await runtime.add_subscription(TypeSubscription("probe:news", "probe"))
        await runtime.add_subscription(TypePrefixSubscription("probe:n", "probe"))
        await runtime.add_subscription(TypePrefixSubscription("pro", "probe"))
        runtime.start()
        await runtime.publish_message(Note("once"), TopicId("probe:news", "k"))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert [(str(r.agent), r.text) for r in rec.kinds("note")] == [("probe/k", "once")]

    async def test_publish_skips_the_sender(self, runtime: ConformanceRuntime) -> None:
        """A publisher never receives its own publish, while other instances of its type still do."""
        rec = Recorder()
        await self.host_agent(runtime, "peer", ProbeAgent, rec)
        await self.host_agent(runtime, "other", ProbeAgent, rec)
        await runtime.add_subscription(TypeSubscription("room", "peer"))
        await runtime.add_subscription(TypeSubscription("room", "other"))
        runtime.start()
        await runtime.publish_message(Note("n"), TopicId("room", "k"), sender=AgentId("peer", "k"))
        await runtime.publish_message(Note("m"), TopicId("room", "j"), sender=AgentId("peer", "k"))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert sorted((str(r.agent), r.text) for r in rec.kinds("note")) == [
            ("other/j", "m"),
            ("other/k", "n"),
            ("peer/j", "m"),
        ]

    async def test_publish_without_subscribers_is_a_no_op(self, runtime: ConformanceRuntime) -> None:
        """Publishing to a topic nobody subscribes to succeeds and leaves the runtime idle."""
        runtime.start()
        await runtime.publish_message(Note("void"), TopicId("nobody-listens", "x"))
        await self.idle(runtime)

    async def test_type_subscription_keys_the_recipient_by_topic_source(self, runtime: ConformanceRuntime) -> None:
        """``TypeSubscription`` maps ``TopicId(t, source)`` to ``AgentId(agent_type, source)``."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await runtime.add_subscription(TypeSubscription("chat", "probe"))
        runtime.start()
        for source in ("s1", "s2", "s1"):
            await runtime.publish_message(Note(source), TopicId("chat", source))
        await runtime.publish_message(Note("other-type"), TopicId("chat2", "s1"))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert [(str(r.agent), r.text) for r in rec.kinds("note")] == [
            ("probe/s1", "s1"),
            ("probe/s2", "s2"),
            ("probe/s1", "s1"),
        ]
        assert sorted(str(a) for a in rec.created) == ["probe/s1", "probe/s2"]

    async def test_type_prefix_subscription(self, runtime: ConformanceRuntime) -> None:
        """``TypePrefixSubscription`` matches topic types that start with the prefix, and only those."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await runtime.add_subscription(TypePrefixSubscription("news.", "probe"))
        runtime.start()
        for topic_type in ("news.sport", "news.", "news", "old.news.x", "news.a.b"):
            await runtime.publish_message(Note(topic_type), TopicId(topic_type, "src"))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert rec.texts("note") == ["news.sport", "news.", "news.a.b"]

    async def test_default_subscription_and_default_topic(self, runtime: ConformanceRuntime) -> None:
        """``DefaultSubscription`` + ``DefaultTopicId()`` from outside an agent reach key ``"default"``."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await runtime.add_subscription(DefaultSubscription(agent_type="probe"))
        runtime.start()
        await runtime.publish_message(Note("d"), DefaultTopicId())
        await runtime.publish_message(Note("tenant"), DefaultTopicId(source="tenant-1"))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert [(str(r.agent), r.text) for r in rec.kinds("note")] == [
            ("probe/default", "d"),
            ("probe/tenant-1", "tenant"),
        ]
        assert rec.kinds("note")[0].topic == TopicId("default", "default")

    async def test_default_topic_inside_a_handler_uses_the_handling_agents_key(
        self, runtime: ConformanceRuntime
    ) -> None:
        """A handler's DefaultTopicId() is sourced by the handling agent's key.

        Inside a handler ``DefaultTopicId()``'s source is the handling agent's key, so replies stay in the
        conversation (AutoGen reads ``MessageHandlerContext``).
        """
        rec = Recorder()
        await self.host_agent(runtime, "relay", Relay)
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await runtime.add_subscription(DefaultSubscription(agent_type="probe"))
        runtime.start()
        await self.within(runtime.send_message(Note("x"), AgentId("relay", "conversation-9")))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        (record,) = rec.kinds("note")
        assert record.agent == AgentId("probe", "conversation-9")
        assert record.topic == TopicId("default", "conversation-9")
        assert record.sender == AgentId("relay", "conversation-9")

    async def test_default_subscription_class_decorator(self, runtime: ConformanceRuntime) -> None:
        """``@default_subscription`` subscribes each type registered from the class, at ``register``."""
        rec = Recorder()
        await self.host_agent(runtime, "first", DefaultSubscribedProbe, rec)
        await self.host_agent(runtime, "second", DefaultSubscribedProbe, rec)
        await self.host_agent(runtime, "skipped", DefaultSubscribedProbe, rec, skip_class_subscriptions=True)
        runtime.start()
        await runtime.publish_message(Note("hello"), DefaultTopicId())
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert sorted(str(a) for a in rec.agents("note")) == ["first/default", "second/default"]

    async def test_type_subscription_class_decorator(self, runtime: ConformanceRuntime) -> None:
        """``@type_subscription(topic_type)`` subscribes each registered type to that topic type."""
        rec = Recorder()
        await self.host_agent(runtime, "decorated", TypeSubscribedProbe, rec)
        runtime.start()
        await runtime.publish_message(Note("yes"), TopicId("decorated-topic", "s"))
        await runtime.publish_message(Note("no"), TopicId("default", "s"))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert [(str(r.agent), r.text) for r in rec.kinds("note")] == [("decorated/s", "yes")]

    async def test_register_adds_the_direct_message_prefix_subscription(self, runtime: ConformanceRuntime) -> None:
        """``register`` subscribes the type to topic types starting with ``"<type>:"``; the skip flag omits it."""
        rec = Recorder()
        await self.host_agent(runtime, "direct", ProbeAgent, rec)
        await self.host_agent(runtime, "nodirect", ProbeAgent, rec, skip_direct_message_subscription=True)
        runtime.start()
        await runtime.publish_message(Note("a"), TopicId("direct:", "k1"))
        await runtime.publish_message(Note("b"), TopicId("direct:whatever", "k2"))
        await runtime.publish_message(Note("c"), TopicId("direct", "k3"))
        await runtime.publish_message(Note("d"), TopicId("nodirect:x", "k4"))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert [(str(r.agent), r.text) for r in rec.kinds("note")] == [("direct/k1", "a"), ("direct/k2", "b")]

    # -- subscription management ----------------------------------------------------------------------

    async def test_add_and_remove_subscription_while_running(self, runtime: ConformanceRuntime) -> None:
        """Subscriptions added or removed while the runtime runs apply to the publishes that follow.

        An RPC to another agent is the barrier between steps: envelopes are dispatched in FIFO order, so
        once it is answered the publish before it has been routed.
        """
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        runtime.start()

        async def barrier() -> None:
            await self.within(runtime.send_message(Ping("barrier"), AgentId("probe", "barrier")))

        await runtime.publish_message(Note("before"), TopicId("live", "k"))
        await barrier()
        subscription = TypeSubscription("live", "probe")
        await runtime.add_subscription(subscription)
        await runtime.publish_message(Note("during"), TopicId("live", "k"))
        await barrier()
        await self.until_recorded(
            runtime, rec, lambda: rec.texts("note") == ["during"], "the subscribed publish is delivered"
        )
        await runtime.remove_subscription(subscription.id)
        await runtime.publish_message(Note("after"), TopicId("live", "k"))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert rec.texts("note") == ["during"]

    async def test_remove_unknown_subscription_raises(self, runtime: ConformanceRuntime) -> None:
        """Removing an id that is not subscribed raises, naming the id (AutoGen raises ``ValueError``)."""
        with pytest.raises((LookupError, ValueError), match="no-such-subscription"):
            await runtime.remove_subscription("no-such-subscription")
        subscription = TypeSubscription("t", "probe")
        await runtime.add_subscription(subscription)
        await runtime.remove_subscription(subscription.id)
        with pytest.raises((LookupError, ValueError)):
            await runtime.remove_subscription(subscription.id)

    async def test_duplicate_subscription_raises_value_error(self, runtime: ConformanceRuntime) -> None:
        """An equal subscription (same id, or same kind, pattern and agent type) is refused with ValueError."""
        first = TypeSubscription("topic", "probe", id="sub-1")
        await runtime.add_subscription(first)
        with pytest.raises(ValueError, match="sub-1"):
            await runtime.add_subscription(TypeSubscription("topic", "probe", id="sub-1"))
        with pytest.raises(ValueError, match="already exists"):
            await runtime.add_subscription(TypeSubscription("topic", "probe"))
        # a different kind or pattern is not a duplicate
        await runtime.add_subscription(TypePrefixSubscription("topic", "probe"))
        await runtime.add_subscription(TypeSubscription("topic2", "probe"))

    async def test_duplicate_registration_raises_value_error(self, runtime: ConformanceRuntime) -> None:
        """Registering an agent type twice raises ValueError naming the type; the first stays usable.

        Twice on one runtime, that is: on a distributed runtime several workers host one type by design.
        """
        rec = Recorder()
        await self.host_agent(runtime, "twice", ProbeAgent, rec)
        with pytest.raises(ValueError, match="twice"):
            await self.host_agent(runtime, "twice", ProbeAgent, rec, factory_only=True)
        with pytest.raises(ValueError, match="twice"):
            await self.host_agent(runtime, "twice", ProbeAgent, rec)
        runtime.start()
        assert await self.within(runtime.send_message(Ping("ok"), AgentId("twice", "k"))) == Pong("ok")
