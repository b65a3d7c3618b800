"""Conformance: intervention handlers, cancellation tokens and the structured event log."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import pytest

from salon import (
    EVENT_LOGGER_NAME,
    AgentId,
    CancellationToken,
    DefaultInterventionHandler,
    DropMessage,
    MessageContext,
    TopicId,
    TypeSubscription,
)
from salon.exceptions import MessageDroppedException
from salon.logging import DeliveryStage, MessageDroppedEvent, MessageEvent, MessageHandlerExceptionEvent, MessageKind

from ._runtime_agents import Boom, ConformanceError, Note, Ping, Pong, ProbeAgent, Record, Recorder, Wait
from ._runtime_harness import RuntimeFactory, RuntimeHarness

__all__ = ["InterventionConformance"]


@dataclass
class Rewrite(DefaultInterventionHandler):
    """Appends ``suffix`` to the text of every message and response it sees, and records what it saw.

    Each call adds a record to ``recorder`` whose agent is ``rewrite/<suffix>`` and whose kind is the
    stage (``send``, ``publish``, ``response``): for a send or publish ``sender``, ``topic`` and
    ``is_rpc`` come from the message context and ``text`` names the recipient; for a response
    ``sender`` is the responding agent and ``text`` names the recipient. Reporting to a recorder (not to
    a list of its own) keeps it usable where messages are handled in another process.
    """

    suffix: str
    recorder: Recorder

    def _seen(self, stage: str, sender: AgentId | None, recipient: AgentId | None, **context: Any) -> None:
        who = AgentId("rewrite", self.suffix)
        self.recorder.add(Record(stage, who, "" if recipient is None else str(recipient), sender=sender, **context))

    async def on_send(self, message: Any, *, message_context: MessageContext, recipient: AgentId) -> Any:
        """Rewrite a direct message."""
        ctx = message_context
        self._seen("send", ctx.sender, recipient, topic=ctx.topic_id, is_rpc=ctx.is_rpc)
        return type(message)(message.text + self.suffix)

    async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any:
        """Rewrite a published message."""
        ctx = message_context
        self._seen("publish", ctx.sender, None, topic=ctx.topic_id, is_rpc=ctx.is_rpc)
        return type(message)(message.text + self.suffix)

    async def on_response(self, message: Any, *, sender: AgentId, recipient: AgentId | None) -> Any:
        """Rewrite a response."""
        self._seen("response", sender, recipient)
        return type(message)(message.text + self.suffix)


@dataclass
class Dropper(DefaultInterventionHandler):
    """Drops messages (or responses) whose text contains ``"drop"`` at the stages listed in ``stages``."""

    stages: tuple[str, ...] = ("send", "publish", "response")

    async def on_send(self, message: Any, *, message_context: MessageContext, recipient: AgentId) -> Any:
        """Drop marked direct messages."""
        return DropMessage if "send" in self.stages and "drop" in getattr(message, "text", "") else message

    async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any:
        """Drop marked publishes."""
        return DropMessage if "publish" in self.stages and "drop" in getattr(message, "text", "") else message

    async def on_response(self, message: Any, *, sender: AgentId, recipient: AgentId | None) -> Any:
        """Drop marked responses."""
        return DropMessage if "response" in self.stages and "drop" in getattr(message, "text", "") else message


@dataclass
class FailingIntervention(DefaultInterventionHandler):
    """Raises :class:`ConformanceError` from ``on_send``."""

    async def on_send(self, message: Any, *, message_context: MessageContext, recipient: AgentId) -> Any:
        """Fail."""
        raise ConformanceError("intervention failed")


class InterventionConformance(RuntimeHarness):
    """Intervention handlers, cancellation and event logging."""

    async def test_interventions_rewrite_send_publish_and_response_in_order(
        self, runtime_factory: RuntimeFactory
    ) -> None:
        """Intervention handlers rewrite sends, publishes and responses, in order.

        Each handler sees the previous one's result; ``on_send``/``on_publish``/``on_response`` get the
        context, recipient and sender AutoGen passes them.
        """
        rec = Recorder()
        runtime = await runtime_factory(intervention_handlers=[Rewrite("-1", rec), Rewrite("-2", rec)])
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await runtime.add_subscription(TypeSubscription("t", "probe"))
        runtime.start()
        caller = AgentId("caller", "c")
        response = await self.within(runtime.send_message(Ping("x"), AgentId("probe", "k"), sender=caller))
        await self.collect(runtime, rec)
        assert rec.texts("ping") == ["x-1-2"]
        assert response == Pong("x-1-2-1-2")
        await runtime.publish_message(Note("n"), TopicId("t", "k"), sender=caller)
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert rec.texts("note") == ["n-1-2"]

        seen_by = {suffix: [r for r in rec.records if r.agent == AgentId("rewrite", suffix)] for suffix in ("-1", "-2")}
        assert [r.kind for r in seen_by["-1"]] == ["send", "response", "publish"]
        assert [r.kind for r in seen_by["-2"]] == ["send", "response", "publish"]
        send, response_seen, publish = seen_by["-1"]
        assert send.sender == caller and send.is_rpc is True and send.topic is None
        assert send.text == "probe/k", "on_send's recipient"
        assert response_seen.sender == AgentId("probe", "k")
        assert response_seen.text == "caller/c", "on_response's recipient"
        assert publish.sender == caller and publish.is_rpc is False
        assert publish.topic == TopicId("t", "k")
        # each handler saw the previous one's result, in order: -1 then -2 at every stage
        intervened = [(r.kind, r.agent.key) for r in rec.records if r.agent.type == "rewrite"]
        assert intervened == [(stage, suffix) for stage in ("send", "response", "publish") for suffix in ("-1", "-2")]

    async def test_dropped_send_raises_message_dropped_at_the_caller(self, runtime_factory: RuntimeFactory) -> None:
        """A dropped send fails the caller with MessageDroppedException.

        ``DropMessage`` from ``on_send``: the handler never runs and the caller gets
        ``MessageDroppedException``; the runtime can still go idle.
        """
        runtime = await runtime_factory(intervention_handlers=[Dropper(("send",))])
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        runtime.start()
        with pytest.raises(MessageDroppedException):
            await self.within(runtime.send_message(Ping("drop me"), AgentId("probe", "k")))
        assert await self.within(runtime.send_message(Ping("keep"), AgentId("probe", "k"))) == Pong("keep")
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert rec.texts("ping") == ["keep"]

    async def test_dropped_publish_reaches_nobody_and_the_runtime_goes_idle(
        self, runtime_factory: RuntimeFactory
    ) -> None:
        """A dropped publish reaches nobody and never blocks idleness.

        Salon §5.4: dropping a publish never leaves ``stop_when_idle`` waiting (AutoGen 0.7.5 hangs there,
        because the dropped envelope is never marked done).
        """
        runtime = await runtime_factory(intervention_handlers=[Dropper(("publish",))])
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await runtime.add_subscription(TypeSubscription("t", "probe"))
        runtime.start()
        for text in ("a", "drop 1", "b", "drop 2"):
            await runtime.publish_message(Note(text), TopicId("t", "k"))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert rec.texts("note") == ["a", "b"]
        runtime.start()
        await runtime.publish_message(Note("drop 3"), TopicId("t", "k"))
        await self.idle(runtime)

    async def test_dropped_response_raises_message_dropped_at_the_caller(self, runtime_factory: RuntimeFactory) -> None:
        """``DropMessage`` from ``on_response``: the handler ran, the caller gets ``MessageDroppedException``."""
        runtime = await runtime_factory(intervention_handlers=[Dropper(("response",))])
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        runtime.start()
        with pytest.raises(MessageDroppedException):
            await self.within(runtime.send_message(Ping("drop the answer"), AgentId("probe", "k")))
        await self.collect(runtime, rec)
        assert rec.texts("ping") == ["drop the answer"]
        await self.idle(runtime)

    async def test_failing_intervention_reaches_the_caller(self, runtime_factory: RuntimeFactory) -> None:
        """An intervention handler's exception reaches the RPC caller.

        An exception in ``on_send`` is raised at the caller (AutoGen sets it on the response future), and
        the runtime still goes idle.
        """
        runtime = await runtime_factory(intervention_handlers=[FailingIntervention()])
        await self.host_agent(runtime, "probe", ProbeAgent, Recorder())
        runtime.start()
        with pytest.raises(ConformanceError, match="intervention failed"):
            await self.within(runtime.send_message(Ping("x"), AgentId("probe", "k")))
        await self.idle(runtime)

    # -- cancellation ---------------------------------------------------------------------------------

    async def test_cancelling_the_token_cancels_the_callers_await(self, runtime_factory: RuntimeFactory) -> None:
        """Cancelling the token of a send cancels the caller's await.

        Cancelling the token passed to ``send_message`` makes the caller's await raise ``CancelledError``;
        the handler sees its token cancelled (at once in one process; as soon as the cancellation
        arrives where the handler runs in another); the runtime goes idle afterwards.
        """
        runtime = await runtime_factory()
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        runtime.start()
        token = CancellationToken()
        call = asyncio.ensure_future(runtime.send_message(Wait("g"), AgentId("probe", "k"), cancellation_token=token))
        await self.until_recorded(runtime, rec, lambda: rec.texts("waiting") == ["g"], "the handler is waiting")
        token.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.within(call)
        await self.until_recorded(
            runtime, rec, lambda: rec.texts("cancelled") == ["g"], "the handler's token is cancelled"
        )
        await self.open_gate(runtime, rec, "g")  # AutoGen leaves the handler running; let it end either way
        await self.idle(runtime)

    async def test_already_cancelled_token(self, runtime_factory: RuntimeFactory) -> None:
        """A token cancelled before the call makes ``send_message`` raise ``CancelledError`` without hanging."""
        runtime = await runtime_factory()
        await self.host_agent(runtime, "probe", ProbeAgent, Recorder())
        runtime.start()
        token = CancellationToken()
        token.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.within(runtime.send_message(Ping("x"), AgentId("probe", "k"), cancellation_token=token))
        await self.idle(runtime)

    # -- event log ------------------------------------------------------------------------------------

    async def test_event_logger_records_messages(self, runtime_factory: RuntimeFactory) -> None:
        """The event logger receives structured message events.

        With :data:`EVENT_LOGGER_NAME` at INFO the runtime logs ``MessageEvent`` objects (kind, stage,
        sender, receiver), ``MessageDroppedEvent`` and ``MessageHandlerExceptionEvent`` (for RPC and
        publish handlers alike), as AutoGen 0.7.5 does.
        """
        runtime = await runtime_factory(intervention_handlers=[Dropper(("publish",))])
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await runtime.add_subscription(TypeSubscription("t", "probe"))
        async with self.capture_logs(runtime, EVENT_LOGGER_NAME, logging.INFO) as captured:
            runtime.start()
            await self.within(runtime.send_message(Ping("x"), AgentId("probe", "k"), sender=AgentId("c", "c")))
            await runtime.publish_message(Note("n"), TopicId("t", "k"))
            await runtime.publish_message(Note("drop"), TopicId("t", "k"))
            with pytest.raises(ConformanceError):
                await self.within(runtime.send_message(Boom("b"), AgentId("probe", "k")))
            await runtime.publish_message(Boom("p"), TopicId("t", "p"))
            await self.idle(runtime)
        events = [r.msg for r in captured]
        messages = [e.kwargs for e in events if isinstance(e, MessageEvent)]
        kinds = {(m["kind"], m["delivery_stage"]) for m in messages}
        for kind, stage in [
            (MessageKind.DIRECT, DeliveryStage.SEND),
            (MessageKind.DIRECT, DeliveryStage.DELIVER),
            (MessageKind.PUBLISH, DeliveryStage.SEND),
            (MessageKind.PUBLISH, DeliveryStage.DELIVER),
            (MessageKind.RESPOND, DeliveryStage.SEND),
        ]:
            assert (str(kind), str(stage)) in kinds, f"no MessageEvent for {kind} at {stage}: {sorted(kinds)}"
        direct_send = next(
            m
            for m in messages
            if m["kind"] == str(MessageKind.DIRECT) and m["delivery_stage"] == str(DeliveryStage.SEND)
        )
        assert direct_send["sender"] == "c/c"
        assert direct_send["receiver"] == "probe/k"
        assert '"x"' in direct_send["payload"]
        assert any(isinstance(e, MessageDroppedEvent) for e in events), "no MessageDroppedEvent"
        failed_in = {e.kwargs["handling_agent"] for e in events if isinstance(e, MessageHandlerExceptionEvent)}
        assert failed_in == {"probe/k", "probe/p"}, "a MessageHandlerExceptionEvent for the RPC and the publish"
