"""Conformance: ordering and scheduling (DESIGN.md §5, "Ordering and scheduling"), and sequential agents."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import CodeType
from typing import Any

import pytest

from salon import AgentId, MessageContext, RoutedAgent, TopicId, TypeSubscription, message_handler

from ._runtime_agents import (
    Boom,
    ConformanceError,
    Nap,
    Note,
    Ping,
    Pong,
    ProbeAgent,
    Record,
    Recorder,
    SequentialProbeAgent,
    Wait,
    frames_running,
    own_depth,
)
from ._runtime_harness import ConformanceRuntime, RuntimeHarness

__all__ = ["SchedulingConformance"]


@dataclass
class Hop:
    """Bounced between two agents by publishing; ``left`` counts the hops still to go."""

    left: int


@dataclass
class Ask:
    """Makes :class:`Asker` send a :class:`StackCheck` to ``stack/<key>`` and answer its result."""

    key: str


@dataclass
class StackCheck:
    """Makes :class:`StackProbe` report whether any caller's code is on its stack."""

    label: str


# Code objects of functions that send or publish; no handler may find one of them on its own stack.
_CALLER_CODES: list[CodeType] = []


class HopAgent(RoutedAgent):
    """Publishes the next hop from inside its handler and records how deep its handler is nested."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__("hop")
        self.recorder = recorder

    @message_handler
    async def on_hop(self, message: Hop, ctx: MessageContext) -> None:
        """Record the nesting depth, then publish the next hop."""
        self.recorder.add(Record("hop", self.id, str(own_depth())))
        if message.left > 0:
            assert ctx.topic_id is not None
            await self.publish_message(Hop(message.left - 1), ctx.topic_id)
        self.recorder.add(Record("hop-done", self.id, str(message.left)))


class StackProbe(RoutedAgent):
    """Reports whether the code of a sender is on its handler's stack."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__("stack probe")
        self.recorder = recorder

    @message_handler
    async def on_check(self, message: StackCheck, ctx: MessageContext) -> bool:
        """Return (and record) whether a caller's frame is below this handler."""
        nested = any(frames_running(code) for code in _CALLER_CODES)
        self.recorder.add(Record("nested" if nested else "separate", self.id, message.label))
        return nested


class Asker(RoutedAgent):
    """Sends a :class:`StackCheck` from inside its handler."""

    def __init__(self) -> None:
        super().__init__("asker")

    @message_handler
    async def on_ask(self, message: Ask, ctx: MessageContext) -> bool:
        """Ask the stack probe and return its answer."""
        answer = await self.send_message(StackCheck("from-agent"), AgentId("stack", message.key))
        assert isinstance(answer, bool)
        return answer


async def _outside_send(runtime: ConformanceRuntime, label: str) -> Any:
    return await runtime.send_message(StackCheck(label), AgentId("stack", "k"))


async def _outside_publish(runtime: ConformanceRuntime, label: str) -> None:
    await runtime.publish_message(StackCheck(label), TopicId("stack-topic", "k"))


_CALLER_CODES.extend([_outside_send.__code__, _outside_publish.__code__, Asker.on_ask.__code__])


class SchedulingConformance(RuntimeHarness):
    """Ordering, non-recursion, concurrency between agents, sequential agents and handler tasks."""

    async def test_publish_from_a_handler_does_not_recurse(self, runtime: ConformanceRuntime) -> None:
        """Publishing from a handler queues the message instead of recursing.

        A handler's publish is queued, never run inside the publishing handler: 300 hops between two
        agents all run at nesting depth 1, and ``stop_when_idle`` waits for the whole chain.
        """
        rec = Recorder()
        for side in ("left", "right"):
            await self.host_agent(runtime, side, HopAgent, rec)
            await runtime.add_subscription(TypeSubscription("hops", side))
        runtime.start()
        await runtime.publish_message(Hop(300), TopicId("hops", "k"), sender=AgentId("right", "k"))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        depths = rec.texts("hop")
        assert len(depths) == 301
        assert set(depths) == {"1"}, "a handler ran inside another handler's publish_message call"
        # each handler finished before the next hop started: records strictly alternate
        kinds = [r.kind for r in rec.records]
        assert kinds == ["hop", "hop-done"] * 301

    async def test_recipients_never_run_inside_the_callers_call(self, runtime: ConformanceRuntime) -> None:
        """Recipients never run inside their caller's call.

        Neither ``send_message`` nor ``publish_message`` runs the recipient's handler inside the caller's own
        call (from outside the runtime, or from another agent's handler).
        """
        rec = Recorder()
        await self.host_agent(runtime, "stack", StackProbe, rec)
        await runtime.add_subscription(TypeSubscription("stack-topic", "stack"))
        await self.host_agent(runtime, "asker", Asker)
        runtime.start()
        assert await self.within(_outside_send(runtime, "outside-send")) is False
        await self.within(_outside_publish(runtime, "outside-publish"))
        assert await self.within(runtime.send_message(Ask("k"), AgentId("asker", "k"))) is False
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert sorted((r.kind, r.text) for r in rec.records) == [
            ("separate", "from-agent"),
            ("separate", "outside-publish"),
            ("separate", "outside-send"),
        ]

    async def test_envelopes_are_dispatched_in_fifo_order(self, runtime: ConformanceRuntime) -> None:
        """Messages are handled in the order they were sent, across recipients and across send/publish."""
        rec = Recorder()
        for agent_type in ("even", "odd"):
            await self.host_agent(runtime, agent_type, ProbeAgent, rec)
            await runtime.add_subscription(TypeSubscription(agent_type + "-topic", agent_type))
        runtime.start()
        for i in range(100):
            side = "even" if i % 2 == 0 else "odd"
            await runtime.publish_message(Note(str(i)), TopicId(side + "-topic", str(i % 3)))
        calls = [
            asyncio.ensure_future(runtime.send_message(Ping(str(i)), AgentId("even" if i % 2 else "odd", "rpc")))
            for i in range(100, 150)
        ]
        await self.within(asyncio.gather(*calls))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        handled = [int(r.text) for r in rec.records]
        assert handled == list(range(150))

    async def test_a_waiting_handler_does_not_hold_up_other_agents(self, runtime: ConformanceRuntime) -> None:
        """A waiting handler does not hold up other messages.

        While one handler waits on I/O, other agents' messages are handled (and, by default, so are
        other messages to the same agent: AutoGen runs handlers concurrently).
        """
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        runtime.start()
        waiting = asyncio.ensure_future(runtime.send_message(Wait("g"), AgentId("probe", "a")))
        await self.until_recorded(runtime, rec, lambda: rec.texts("waiting") == ["g"], "the first handler waits")
        assert await self.within(runtime.send_message(Ping("other"), AgentId("probe", "b"))) == Pong("other")
        assert await self.within(runtime.send_message(Ping("same"), AgentId("probe", "a"))) == Pong("same")
        assert not waiting.done()
        await self.open_gate(runtime, rec, "g")
        assert await self.within(waiting) == "g"
        await self.idle(runtime)

    async def test_concurrent_by_default(self, runtime: ConformanceRuntime) -> None:
        """Without ``sequential`` two naps sent to one agent overlap (AutoGen's behaviour)."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await runtime.add_subscription(TypeSubscription("naps", "probe"))
        runtime.start()
        await runtime.publish_message(Nap(0.2, "slow"), TopicId("naps", "k"))
        await runtime.publish_message(Nap(0.0, "fast"), TopicId("naps", "k"))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        order = [(r.kind, r.text) for r in rec.records]
        assert order.index(("start", "fast")) < order.index(("end", "slow"))
        assert order.index(("end", "fast")) < order.index(("end", "slow"))

    async def test_sequential_agent_handles_one_message_at_a_time_in_arrival_order(
        self, runtime: ConformanceRuntime
    ) -> None:
        """A sequential agent handles one message at a time, in arrival order.

        Salon §5.5: with ``sequential = True`` each instance runs one handler at a time, in arrival order,
        even when later messages would finish sooner.
        """
        rec = Recorder()
        await self.host_agent(runtime, "seq", SequentialProbeAgent, rec)
        await runtime.add_subscription(TypeSubscription("naps", "seq"))
        runtime.start()
        for seconds, tag in ((0.06, "1"), (0.03, "2"), (0.0, "3"), (0.01, "4")):
            await runtime.publish_message(Nap(seconds, tag), TopicId("naps", "k"))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert [(r.kind, r.text) for r in rec.records] == [(kind, tag) for tag in "1234" for kind in ("start", "end")]

    async def test_sequential_applies_per_instance_and_to_rpcs(self, runtime: ConformanceRuntime) -> None:
        """Sequential processing is per instance, covers RPCs and survives failures.

        A waiting sequential instance holds back its own later messages (sends too) but not other
        instances; a failing message does not block the ones behind it.
        """
        rec = Recorder()
        await self.host_agent(runtime, "seq", SequentialProbeAgent, rec)
        runtime.start()
        first = asyncio.ensure_future(runtime.send_message(Wait("g"), AgentId("seq", "a")))
        await self.until_recorded(runtime, rec, lambda: rec.texts("waiting") == ["g"], "the first handler waits")
        queued = asyncio.ensure_future(runtime.send_message(Ping("queued"), AgentId("seq", "a")))
        assert await self.within(runtime.send_message(Ping("other"), AgentId("seq", "b"))) == Pong("other")
        await self.settle()
        assert not queued.done(), "a sequential agent handled a second message while the first was waiting"
        await self.open_gate(runtime, rec, "g")
        assert await self.within(first) == "g"
        assert await self.within(queued) == Pong("queued")
        await self.collect(runtime, rec)
        assert [(str(r.agent), r.kind) for r in rec.records if str(r.agent) == "seq/a"] == [
            ("seq/a", "waiting"),
            ("seq/a", "passed"),
            ("seq/a", "ping"),
        ]
        failing = asyncio.ensure_future(runtime.send_message(Boom("x"), AgentId("seq", "a")))
        after = asyncio.ensure_future(runtime.send_message(Ping("after failure"), AgentId("seq", "a")))
        with pytest.raises(ConformanceError):
            await self.within(failing)
        assert await self.within(after) == Pong("after failure")
        await self.idle(runtime)

    async def test_cancelling_the_rpc_caller_cancels_the_handlers_token(self, runtime: ConformanceRuntime) -> None:
        """Cancelling an RPC's caller cancels the token its handler sees.

        Salon: cancelling the task awaiting ``send_message`` cancels the token its handler sees (AutoGen only
        cancels the caller's future, the handler's token stays live).
        """
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        runtime.start()
        call = asyncio.ensure_future(runtime.send_message(Wait("g"), AgentId("probe", "k")))
        await self.until_recorded(runtime, rec, lambda: rec.texts("waiting") == ["g"], "the handler waits")
        call.cancel()
        await self.until_recorded(
            runtime, rec, lambda: rec.texts("cancelled") == ["g"], "the handler's token is cancelled"
        )
        await self.open_gate(runtime, rec, "g")
        await self.idle(runtime)
