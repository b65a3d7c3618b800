"""Conformance: agent lookup and state, runtime state, and start/stop/close."""

from __future__ import annotations

import json

import pytest

from salon import AgentId, AgentType, RoutedAgent, TopicId, TypeSubscription

from ._conformance_handlers import DescribedProbe
from ._runtime_agents import Note, Ping, Pong, ProbeAgent, Recorder
from ._runtime_harness import ConformanceRuntime, RuntimeFactory, RuntimeHarness

__all__ = ["LifecycleConformance"]


class LifecycleConformance(RuntimeHarness):
    """Lookup of agents, saving and loading state, and the runtime's lifecycle."""

    # -- lookup ---------------------------------------------------------------------------------------

    async def test_get_is_lazy(self, runtime: ConformanceRuntime) -> None:
        """``get`` returns the id without creating the agent; an unknown type raises ``LookupError``."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        assert await self.within(runtime.get("probe", "k1")) == AgentId("probe", "k1")
        assert await self.within(runtime.get(AgentType("probe"))) == AgentId("probe", "default")
        assert await self.within(runtime.get(AgentId("probe", "k2"))) == AgentId("probe", "k2")
        await self.settle()
        await self.collect(runtime, rec)
        assert rec.created == []
        with pytest.raises(LookupError, match="unregistered"):
            await self.within(runtime.get("unregistered", "k", lazy=False))

    async def test_get_not_lazy_creates_the_agent_at_once(self, runtime: ConformanceRuntime) -> None:
        """``get(..., lazy=False)`` creates the agent before it returns."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        runtime.start()  # a distributed runtime reaches the agent's worker once started
        assert await self.within(runtime.get("probe", "k3", lazy=False)) == AgentId("probe", "k3")
        await self.collect(runtime, rec)
        assert rec.created == [AgentId("probe", "k3")]

    async def test_try_get_underlying_agent_instance(self, runtime: ConformanceRuntime) -> None:
        """Returns the (lazily created) local instance; checks its class; unknown types raise LookupError."""
        rec = Recorder()
        await ProbeAgent.register(runtime, "probe", lambda: ProbeAgent(rec))
        agent = await self.within(runtime.try_get_underlying_agent_instance(AgentId("probe", "k"), ProbeAgent))
        assert isinstance(agent, ProbeAgent)
        assert agent.id == AgentId("probe", "k")
        again: object = await self.within(runtime.try_get_underlying_agent_instance(AgentId("probe", "k")))
        assert again is agent
        with pytest.raises(TypeError):
            await self.within(runtime.try_get_underlying_agent_instance(AgentId("probe", "k"), _NotAProbe))
        with pytest.raises(LookupError, match="missing"):
            await self.within(runtime.try_get_underlying_agent_instance(AgentId("missing", "k")))

    async def test_agent_metadata(self, runtime: ConformanceRuntime) -> None:
        """``agent_metadata`` gives type, key and the description passed to the agent."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", DescribedProbe, rec)
        runtime.start()
        metadata = await self.within(runtime.agent_metadata(AgentId("probe", "m")))
        assert dict(metadata) == {"type": "probe", "key": "m", "description": "proxied probe"}

    # -- state ----------------------------------------------------------------------------------------

    async def test_agent_save_and_load_state(self, runtime: ConformanceRuntime) -> None:
        """``agent_save_state``/``agent_load_state`` reach one agent's ``save_state``/``load_state``."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        runtime.start()
        for _ in range(3):
            await self.within(runtime.send_message(Ping("x"), AgentId("probe", "s")))
        assert await self.within(runtime.agent_save_state(AgentId("probe", "s"))) == {"count": 3}
        await self.within(runtime.agent_load_state(AgentId("probe", "s"), {"count": 10}))
        await self.within(runtime.send_message(Ping("x"), AgentId("probe", "s")))
        assert await self.within(runtime.agent_save_state(AgentId("probe", "s"))) == {"count": 11}

    async def _fresh_probe_runtime(self, runtime_factory: RuntimeFactory, rec: Recorder) -> ConformanceRuntime:
        runtime = await runtime_factory()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        return runtime

    async def test_runtime_state_round_trip_restores_agents(self, runtime_factory: RuntimeFactory) -> None:
        """Runtime state round-trips agents' state through JSON.

        ``save_state`` is JSON data; ``load_state`` into a fresh runtime with the same registrations
        restores each agent's state.
        """
        first = await self._fresh_probe_runtime(runtime_factory, Recorder())
        first.start()
        for key in ("a", "a", "b"):
            await self.within(first.send_message(Ping(key), AgentId("probe", key)))
        await self.idle(first)
        state = json.loads(json.dumps(await self.within(self.save_runtime_state(first))))

        second = await self._fresh_probe_runtime(runtime_factory, Recorder())
        await self.within(self.load_runtime_state(second, state))
        second.start()
        assert await self.within(second.agent_save_state(AgentId("probe", "a"))) == {"count": 2}
        assert await self.within(second.agent_save_state(AgentId("probe", "b"))) == {"count": 1}

    async def test_runtime_state_covers_run_time_subscriptions(self, runtime_factory: RuntimeFactory) -> None:
        """Salon §5.6: subscriptions added at run time are part of the state (AutoGen saves agents only)."""
        first = await self._fresh_probe_runtime(runtime_factory, Recorder())
        await first.add_subscription(TypeSubscription("added-later", "probe"))
        state = json.loads(json.dumps(await self.within(self.save_runtime_state(first))))

        rec = Recorder()
        second = await self._fresh_probe_runtime(runtime_factory, rec)
        await self.within(self.load_runtime_state(second, state))
        second.start()
        await second.publish_message(Note("restored"), TopicId("added-later", "k"))
        await second.publish_message(Note("direct"), TopicId("probe:", "k"))
        await self.idle(second)
        await self.collect(second, rec)
        assert rec.texts("note") == ["restored", "direct"], "each subscription once, none lost"

    async def test_runtime_state_covers_queued_messages(self, runtime_factory: RuntimeFactory) -> None:
        """Runtime state includes queued publishes.

        Salon §5.6: published messages not yet delivered are saved, and delivered, in order, by the
        runtime the state is loaded into.
        """
        first = await self._fresh_probe_runtime(runtime_factory, Recorder())
        await first.add_subscription(TypeSubscription("later", "probe"))
        for text in ("q1", "q2", "q3"):
            await first.publish_message(Note(text), TopicId("later", "k"))
        state = json.loads(json.dumps(await self.within(self.save_runtime_state(first))))

        rec = Recorder()
        second = await self._fresh_probe_runtime(runtime_factory, rec)
        await self.within(self.load_runtime_state(second, state))
        second.start()
        await self.idle(second)
        await self.collect(second, rec)
        assert rec.texts("note") == ["q1", "q2", "q3"]

    # -- lifecycle ------------------------------------------------------------------------------------

    async def test_restart_after_stop(self, runtime: ConformanceRuntime) -> None:
        """A stopped runtime can be started again and keeps its agents (AutoGen allows it)."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        runtime.start()
        assert await self.within(runtime.send_message(Ping("1"), AgentId("probe", "k"))) == Pong("1")
        await self.within(runtime.stop())
        runtime.start()
        assert await self.within(runtime.send_message(Ping("2"), AgentId("probe", "k"))) == Pong("2")
        await self.idle(runtime)
        runtime.start()
        assert await self.within(runtime.send_message(Ping("3"), AgentId("probe", "k"))) == Pong("3")
        await self.collect(runtime, rec)
        assert rec.created == [AgentId("probe", "k")]

    async def test_stop_when_condition(self, runtime: ConformanceRuntime) -> None:
        """``stop_when(cond)`` returns once ``cond()`` holds (AutoGen polls it every second)."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await runtime.add_subscription(TypeSubscription("t", "probe"))
        runtime.start()
        for text in ("a", "b", "c"):
            await runtime.publish_message(Note(text), TopicId("t", "k"))
        async with self.collecting(runtime, rec):
            await self.within(runtime.stop_when(lambda: len(rec.texts("note")) >= 3))
        assert rec.texts("note") == ["a", "b", "c"]

    async def test_close_closes_every_agent(self, runtime: ConformanceRuntime) -> None:
        """``close()`` stops a running runtime and calls ``close`` on each instantiated agent."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        runtime.start()
        for key in ("x", "y"):
            await self.within(runtime.send_message(Ping(key), AgentId("probe", key)))
        await self.within(self.close_runtime(runtime))
        await self.collect(runtime, rec)
        assert sorted(map(str, rec.closed)) == ["probe/x", "probe/y"]


class _NotAProbe(RoutedAgent):
    """A class no probe is an instance of (for the type check of ``try_get_underlying_agent_instance``)."""

    def __init__(self) -> None:
        super().__init__("not a probe")
