"""Conformance: failures never hang the runtime, errors are clear, and ``stats()`` tells the truth."""

from __future__ import annotations

import asyncio
import logging

import pytest

from salon import AgentId, TopicId, TypeSubscription

from ._runtime_agents import Boom, ConformanceError, Note, PickyProbe, Ping, Pong, ProbeAgent, Recorder, Wait
from ._runtime_harness import ConformanceRuntime, RuntimeFactory, RuntimeHarness, assert_stats

__all__ = ["RobustnessConformance"]


class BrokenSubscription:
    """A custom subscription with a bug: ``is_match`` raises for every topic."""

    def __init__(self) -> None:
        self._id = "broken-subscription"

    @property
    def id(self) -> str:
        """The subscription's id."""
        return self._id

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return id(self)

    def is_match(self, topic_id: TopicId) -> bool:
        """Fail."""
        raise ConformanceError(f"broken subscription asked about {topic_id}")

    def map_to_agent(self, topic_id: TopicId) -> AgentId:
        """Fail."""
        raise ConformanceError("broken subscription")


class RobustnessConformance(RuntimeHarness):
    """Failure handling, input validation and runtime statistics."""

    # -- nothing hangs --------------------------------------------------------------------------------

    async def test_publish_handler_exception_is_logged_and_the_runtime_goes_on(
        self, runtime: ConformanceRuntime
    ) -> None:
        """A publish handler's exception is logged and does not stop the runtime.

        An exception in a publish handler is logged at ERROR with its traceback (as AutoGen does), other
        recipients still get the message, and the runtime goes idle.
        """
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await self.host_agent(runtime, "other", ProbeAgent, rec)
        await runtime.add_subscription(TypeSubscription("t", "probe"))
        await runtime.add_subscription(TypeSubscription("t", "other"))
        runtime.start()
        async with self.capture_logs(runtime, "", logging.ERROR) as records:
            await runtime.publish_message(Boom("published failure"), TopicId("t", "k"))
            await self.idle(runtime)
        await self.collect(runtime, rec)
        assert sorted(str(a) for a in rec.agents("boom")) == ["other/k", "probe/k"]
        logged = [
            r
            for r in records
            if r.levelno >= logging.ERROR and r.exc_info and isinstance(r.exc_info[1], ConformanceError)
        ]
        assert logged, "the handler's exception was not logged at ERROR with exc_info"
        runtime.start()
        assert await self.within(runtime.send_message(Ping("after"), AgentId("probe", "k"))) == Pong("after")

    async def test_publish_handler_exception_is_raised_when_not_ignored(self, runtime_factory: RuntimeFactory) -> None:
        """ignore_unhandled_exceptions=False surfaces publish handler errors.

        With ``ignore_unhandled_exceptions=False`` a publish handler's exception surfaces from
        ``stop_when_idle`` (AutoGen's switch).
        """
        runtime = await runtime_factory(ignore_unhandled_exceptions=False)
        await self.host_agent(runtime, "probe", ProbeAgent, Recorder())
        await runtime.add_subscription(TypeSubscription("t", "probe"))
        runtime.start()
        await runtime.publish_message(Boom("surfaced"), TopicId("t", "k"))
        with pytest.raises(ConformanceError, match="surfaced"):
            await self.stop_when_idle_everywhere(runtime)

    async def test_factory_exception_reaches_the_rpc_caller(self, runtime: ConformanceRuntime) -> None:
        """A factory that raises fails the RPC with that exception; other keys and later calls still work."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", PickyProbe, rec)
        await runtime.add_subscription(TypeSubscription("t", "probe"))
        runtime.start()
        with pytest.raises(ConformanceError, match="factory refused"):
            await self.within(runtime.send_message(Ping("x"), AgentId("probe", "bad")))
        await runtime.publish_message(Note("to bad"), TopicId("t", "bad"))
        await runtime.publish_message(Note("to good"), TopicId("t", "good"))
        assert await self.within(runtime.send_message(Ping("y"), AgentId("probe", "good"))) == Pong("y")
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert rec.texts("note") == ["to good"]

    async def test_a_failing_custom_subscription_does_not_stall_the_runtime(self, runtime: ConformanceRuntime) -> None:
        """A subscription whose ``is_match`` raises costs no other subscriber its messages.

        The error is a bug in that subscription: the runtime logs it and keeps dispatching, the other
        subscriptions still deliver every publish, and ``stop_when_idle`` returns. (AutoGen 0.7.5 also
        keeps going, though it loses the first message to the topic.)
        """
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await runtime.add_subscription(TypeSubscription("t", "probe"))
        await runtime.add_subscription(BrokenSubscription())
        runtime.start()
        await runtime.publish_message(Note("first"), TopicId("t", "k"))
        await runtime.publish_message(Note("second"), TopicId("t", "k"))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert rec.texts("note") == ["first", "second"]
        runtime.start()
        assert await self.within(runtime.send_message(Ping("after"), AgentId("probe", "k"))) == Pong("after")

    async def test_stop_when_idle_waits_for_a_waiting_handler(self, runtime: ConformanceRuntime) -> None:
        """Idle means idle: ``stop_when_idle`` does not return while a handler is still waiting."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await runtime.add_subscription(TypeSubscription("t", "probe"))
        runtime.start()
        await runtime.publish_message(Wait("g"), TopicId("t", "k"))
        idle = asyncio.ensure_future(runtime.stop_when_idle())
        await self.until_recorded(runtime, rec, lambda: rec.texts("waiting") == ["g"], "the handler waits")
        await self.settle()
        assert not idle.done(), "stop_when_idle returned while a handler was still running"
        await self.open_gate(runtime, rec, "g")
        await self.within(idle)
        await self.collect(runtime, rec)
        assert rec.texts("passed") == ["g"]

    async def test_stop_with_work_in_flight_returns(self, runtime: ConformanceRuntime) -> None:
        """``stop()`` returns promptly even while a handler waits forever, and the runtime restarts."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        runtime.start()
        call = asyncio.ensure_future(runtime.send_message(Wait("never"), AgentId("probe", "k")))
        await self.until_recorded(runtime, rec, lambda: rec.texts("waiting") == ["never"], "the handler waits")
        await self.within(runtime.stop())
        call.cancel()
        runtime.start()
        assert await self.within(runtime.send_message(Ping("again"), AgentId("probe", "k2"))) == Pong("again")
        await self.open_gate(runtime, rec, "never")
        await self.idle(runtime)

    async def test_stop_when_idle_after_every_kind_of_failure(self, runtime: ConformanceRuntime) -> None:
        """The runtime goes idle after any mix of failures.

        RPC failures, publish failures, unhandled messages and cancelled callers, mixed: the runtime goes
        idle afterwards, and again after a restart.
        """
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await runtime.add_subscription(TypeSubscription("t", "probe"))
        runtime.start()
        for round_ in range(2):
            tag = f"w{round_}"
            calls = [
                asyncio.ensure_future(runtime.send_message(Boom("rpc"), AgentId("probe", "a"))),
                asyncio.ensure_future(runtime.send_message(Wait(tag), AgentId("probe", "b"))),
                asyncio.ensure_future(runtime.send_message(Pong("no handler"), AgentId("probe", "c"))),
            ]
            await runtime.publish_message(Boom("pub"), TopicId("t", "d"))
            await runtime.publish_message(Pong("no handler"), TopicId("t", "e"))

            def started(tag: str = tag) -> bool:
                return tag in rec.texts("waiting")

            await self.until_recorded(runtime, rec, started, "the waiting handler started")
            calls[1].cancel()
            await self.open_gate(runtime, rec, tag)
            results = await self.within(asyncio.gather(*calls, return_exceptions=True))
            assert isinstance(results[0], ConformanceError)
            assert isinstance(results[1], asyncio.CancelledError)
            assert isinstance(results[2], Exception)
            await self.idle(runtime)
            runtime.start()

    # -- bad input ------------------------------------------------------------------------------------

    async def test_invalid_agent_type_is_refused_at_once(self, runtime: ConformanceRuntime) -> None:
        r"""An agent type outside ``^[\w\-\.]+\Z`` raises ValueError naming it, wherever it is given."""
        with pytest.raises(ValueError, match="bad type"):
            AgentId("bad type", "k")
        with pytest.raises(ValueError, match="bad/type"):
            TypeSubscription("t", "bad/type")
        with pytest.raises(ValueError, match="bad type"):
            await runtime.register_factory("bad type", lambda: ProbeAgent(Recorder()))

    async def test_invalid_topic_type_is_refused_at_once(self) -> None:
        r"""A topic type outside ``^[\w\-\.\:\=]+\Z`` raises ValueError naming it."""
        with pytest.raises(ValueError, match="bad topic"):
            TopicId("bad topic", "s")
        with pytest.raises(ValueError, match="a/b"):
            TopicId("a/b", "s")

    # -- stats ----------------------------------------------------------------------------------------

    async def test_stats_count_types_subscriptions_agents_and_outcomes(self, runtime: ConformanceRuntime) -> None:
        """``stats()`` counts registered types, subscriptions, live agents, handled and failed deliveries."""
        assert_stats(
            await self.runtime_stats(runtime),
            registered_types=0,
            subscriptions=0,
            live_agents=0,
            queued_messages=0,
            in_flight_messages=0,
            handled_messages=0,
            failed_messages=0,
        )
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await self.host_agent(runtime, "other", ProbeAgent, rec)
        extra = TypeSubscription("t", "probe")
        await runtime.add_subscription(extra)
        await runtime.add_subscription(TypeSubscription("t", "other"))
        assert_stats(await self.runtime_stats(runtime), registered_types=2, subscriptions=4, live_agents=0)
        runtime.start()
        await self.within(runtime.send_message(Ping("1"), AgentId("probe", "k1")))
        await self.within(runtime.send_message(Ping("2"), AgentId("probe", "k2")))
        await runtime.publish_message(Note("both"), TopicId("t", "k1"))
        with pytest.raises(ConformanceError):
            await self.within(runtime.send_message(Boom("x"), AgentId("probe", "k1")))
        await self.idle(runtime)
        assert_stats(
            await self.runtime_stats(runtime),
            live_agents=3,
            queued_messages=0,
            in_flight_messages=0,
            handled_messages=4,
            failed_messages=1,
        )
        await runtime.remove_subscription(extra.id)
        assert_stats(await self.runtime_stats(runtime), subscriptions=3)

    async def test_stats_count_queued_and_in_flight_messages(self, runtime: ConformanceRuntime) -> None:
        """Messages published before ``start()`` are queued; a waiting handler is in flight."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await runtime.add_subscription(TypeSubscription("t", "probe"))
        for text in ("a", "b", "c"):
            await runtime.publish_message(Note(text), TopicId("t", "k"))
        assert_stats(await self.runtime_stats(runtime), queued_messages=3, in_flight_messages=0, handled_messages=0)
        runtime.start()
        call = asyncio.ensure_future(runtime.send_message(Wait("g"), AgentId("probe", "k")))
        await self.until_recorded(runtime, rec, lambda: rec.texts("waiting") == ["g"], "the handler waits")
        assert_stats(await self.runtime_stats(runtime), queued_messages=0, in_flight_messages=1, handled_messages=3)
        await self.open_gate(runtime, rec, "g")
        await self.within(call)
        await self.idle(runtime)
        assert_stats(
            await self.runtime_stats(runtime),
            queued_messages=0,
            in_flight_messages=0,
            handled_messages=4,
            live_agents=1,
        )
