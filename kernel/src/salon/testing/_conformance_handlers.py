"""Conformance: how a delivered message reaches a handler (RoutedAgent, ClosureAgent, BaseAgent, AgentProxy)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from salon import (
    AgentId,
    AgentProxy,
    BaseAgent,
    ClosureContext,
    DefaultSubscription,
    DefaultTopicId,
    MessageContext,
    MessageHandlerContext,
    RoutedAgent,
    Subscription,
    TopicId,
    TypeSubscription,
    event,
    message_handler,
    rpc,
)
from salon.exceptions import CantHandleException

from ._runtime_agents import Note, Ping, Pong, ProbeAgent, Record, Recorder
from ._runtime_harness import ConformanceRuntime, RuntimeHarness

__all__ = ["HandlerConformance"]


@dataclass
class Animal:
    """Root of a small message hierarchy for routing by MRO."""

    name: str


@dataclass
class Dog(Animal):
    """Handled by its own handler."""


@dataclass
class Puppy(Dog):
    """Not handled directly: routed to ``Dog``'s handler, its nearest handled base."""


@dataclass
class Cat(Animal):
    """Not handled directly: routed to ``Animal``'s handler."""


@dataclass
class Unknown:
    """No handler accepts it."""

    text: str


class Zoo(RoutedAgent):
    """Handlers exercising union types, MRO routing, declaration order, ``match=``, ``@event`` and ``@rpc``."""

    def __init__(self) -> None:
        super().__init__("zoo")

    # declared first on purpose: the most specific type must win regardless of declaration order
    @message_handler
    async def animal(self, message: Animal, ctx: MessageContext) -> str:
        """The catch-all for animals."""
        return "animal:" + message.name

    @message_handler
    async def dog(self, message: Dog, ctx: MessageContext) -> str:
        """Dogs and puppies."""
        return "dog:" + message.name

    @message_handler
    async def note_or_ping(self, message: Note | Ping, ctx: MessageContext) -> str:
        """Either member of the union."""
        return type(message).__name__ + ":" + message.text

    # Two handlers for Pong, in non-alphabetical declaration order; with `match=` the first that accepts wins.
    @message_handler(match=lambda message, ctx: message.text.startswith("special"))
    async def zz_special(self, message: Pong, ctx: MessageContext) -> str:
        """Declared first; accepts only special pongs."""
        return "zz_special"

    @message_handler
    async def mm_plain(self, message: Pong, ctx: MessageContext) -> str:
        """Declared second; accepts every pong."""
        return "mm_plain"

    @message_handler
    async def aa_shadowed(self, message: Pong, ctx: MessageContext) -> str:
        """Declared third; alphabetically first (AutoGen would pick it) but ``mm_plain`` always wins."""
        return "aa_shadowed"


class EventsAndRpcs(RoutedAgent):
    """One ``@event`` and one ``@rpc`` handler for the same type, and an ``@event``-only type."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__("events and rpcs")
        self.recorder = recorder

    @event
    async def on_ping_event(self, message: Ping, ctx: MessageContext) -> None:
        """Publishes only."""
        self.recorder.add(_record("event", self, message.text))

    @rpc
    async def on_ping_rpc(self, message: Ping, ctx: MessageContext) -> Pong:
        """Direct messages only."""
        self.recorder.add(_record("rpc", self, message.text))
        return Pong("rpc:" + message.text)

    @event
    async def on_note(self, message: Note, ctx: MessageContext) -> None:
        """Publishes only: a direct Note has no handler."""
        self.recorder.add(_record("event", self, message.text))

    @rpc
    async def on_unknown(self, message: Unknown, ctx: MessageContext) -> str:
        """Direct messages only: a published Unknown has no handler."""
        self.recorder.add(_record("rpc", self, message.text))
        return "unknown"


def _record(kind: str, agent: BaseAgent, text: str) -> Record:
    return Record(kind, agent.id, text)


class Strict(RoutedAgent):
    """Handlers whose return value breaks their annotation."""

    def __init__(self) -> None:
        super().__init__("strict")

    @message_handler(strict=True)
    async def lies(self, message: Ping, ctx: MessageContext) -> Pong:
        """Annotated to return Pong; returns a str."""
        return message.text  # type: ignore[return-value]

    @message_handler(strict=False)
    async def lenient(self, message: Note, ctx: MessageContext) -> Pong:
        """Not strict: the wrong type passes through (AutoGen logs a warning)."""
        return message.text  # type: ignore[return-value]


class Manual(BaseAgent):
    """A plain BaseAgent with its own ``on_message_impl`` (no handler routing at all)."""

    def __init__(self) -> None:
        super().__init__("manual")

    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
        """Answer with a description of what arrived."""
        return f"manual:{type(message).__name__}:{ctx.is_rpc}:{MessageHandlerContext.agent_id()}"

    async def save_state(self) -> Mapping[str, Any]:
        """Stateless."""
        return {}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Stateless."""


class Wrapped(ProbeAgent):
    """A RoutedAgent that overrides ``on_message_impl``: a runtime must not route around the override."""

    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
        """Rewrite pings before routing them."""
        if isinstance(message, Ping):
            message = Ping("wrapped:" + message.text)
        return await super().on_message_impl(message, ctx)


class DescribedProbe(ProbeAgent):
    """A :class:`ProbeAgent` with the description ``"proxied probe"`` (for the metadata tests)."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(recorder, "proxied probe")


class ContextProbe(RoutedAgent):
    """Records ``MessageHandlerContext.agent_id()`` (kind ``context``) before and after an await."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__("context probe")
        self.recorder = recorder

    @message_handler
    async def on_note(self, message: Note, ctx: MessageContext) -> None:
        """Record the handling agent twice, with a suspension in between."""
        self.recorder.add(Record("context", self.id, str(MessageHandlerContext.agent_id())))
        await asyncio.sleep(0.001)
        self.recorder.add(Record("context", self.id, str(MessageHandlerContext.agent_id())))


def echo_closure(recorder: Recorder) -> Callable[[ClosureContext, Note, MessageContext], Awaitable[str]]:
    """A closure that records what it got (``closure``), asks ``probe/<key>`` (``answer``) and publishes an echo."""

    async def closure(agent: ClosureContext, message: Note, ctx: MessageContext) -> str:
        recorder.add(Record("closure", agent.id, message.text, is_rpc=ctx.is_rpc))
        answer = await agent.send_message(Ping(message.text), AgentId("probe", agent.id.key))
        recorder.add(Record("answer", agent.id, repr(answer)))
        await agent.publish_message(Note("echo:" + message.text), TopicId("echoes", agent.id.key))
        return "closure:" + message.text

    return closure


def default_subscriptions() -> list[Subscription]:
    """A closure agent's subscriptions: the default topic."""
    return [DefaultSubscription()]


class HandlerConformance(RuntimeHarness):
    """Handler selection and the agent kinds that are not plain routed agents."""

    async def _zoo(self, runtime: ConformanceRuntime) -> AgentId:
        await self.host_agent(runtime, "zoo", Zoo)
        runtime.start()
        return AgentId("zoo", "k")

    async def test_union_annotation_handles_each_member(self, runtime: ConformanceRuntime) -> None:
        """A handler annotated ``A | B`` receives both types."""
        zoo = await self._zoo(runtime)
        assert await self.within(runtime.send_message(Note("n"), zoo)) == "Note:n"
        assert await self.within(runtime.send_message(Ping("p"), zoo)) == "Ping:p"

    async def test_most_specific_annotated_type_wins(self, runtime: ConformanceRuntime) -> None:
        """The handler of the nearest class in the message's MRO wins.

        Salon §5.2: a message goes to the handler of the nearest class in its MRO, whatever the declaration
        order. AutoGen only looks up the exact class, so ``Puppy`` and ``Cat`` would be unhandled there.
        """
        zoo = await self._zoo(runtime)
        assert await self.within(runtime.send_message(Dog("rex"), zoo)) == "dog:rex"
        assert await self.within(runtime.send_message(Puppy("bit"), zoo)) == "dog:bit"
        assert await self.within(runtime.send_message(Cat("tom"), zoo)) == "animal:tom"
        assert await self.within(runtime.send_message(Animal("any"), zoo)) == "animal:any"

    async def test_declaration_order_then_match_chooses_among_equals(self, runtime: ConformanceRuntime) -> None:
        """Salon §5.2: among handlers of one type the first declared whose ``match`` accepts wins.

        AutoGen orders them alphabetically by method name and would pick ``aa_shadowed``.
        """
        zoo = await self._zoo(runtime)
        assert await self.within(runtime.send_message(Pong("special-1"), zoo)) == "zz_special"
        assert await self.within(runtime.send_message(Pong("ordinary"), zoo)) == "mm_plain"

    async def test_event_handlers_only_see_publishes_and_rpc_handlers_only_sends(
        self, runtime: ConformanceRuntime
    ) -> None:
        """``@event`` handles publishes, ``@rpc`` handles ``send_message``, even for the same message type."""
        rec = Recorder()
        await self.host_agent(runtime, "er", EventsAndRpcs, rec)
        await runtime.add_subscription(TypeSubscription("er-topic", "er"))
        runtime.start()
        assert await self.within(runtime.send_message(Ping("s"), AgentId("er", "k"))) == Pong("rpc:s")
        await runtime.publish_message(Ping("p"), TopicId("er-topic", "k"))
        await runtime.publish_message(Unknown("published-unknown"), TopicId("er-topic", "k"))
        await self.idle(runtime)
        await self.collect(runtime, rec)
        assert [(r.kind, r.text) for r in rec.records] == [("rpc", "s"), ("event", "p")]

    async def test_rpc_that_no_handler_accepts_raises_cant_handle(self, runtime: ConformanceRuntime) -> None:
        """An RPC that no handler accepts raises CantHandleException at the caller.

        Salon §5.3: an RPC no handler accepts raises ``CantHandleException`` at the caller (AutoGen returns
        ``None``). This covers an unknown type and a type that only an ``@event`` handler takes.
        """
        rec = Recorder()
        await self.host_agent(runtime, "er", EventsAndRpcs, rec)
        zoo = await self._zoo(runtime)
        with pytest.raises(CantHandleException):
            await self.within(runtime.send_message(Unknown("u"), zoo))
        with pytest.raises(CantHandleException):
            await self.within(runtime.send_message(Note("event-only"), AgentId("er", "k")))
        await self.collect(runtime, rec)
        assert rec.records == []
        assert await self.within(runtime.send_message(Dog("still works"), zoo)) == "dog:still works"

    async def test_publish_that_no_handler_accepts_is_ignored(self, runtime: ConformanceRuntime) -> None:
        """A published message without a handler is dropped quietly and the runtime still goes idle."""
        await self.host_agent(runtime, "zoo", Zoo)
        await runtime.add_subscription(TypeSubscription("zoo-topic", "zoo"))
        runtime.start()
        await runtime.publish_message(Unknown("nobody"), TopicId("zoo-topic", "k"))
        await self.idle(runtime)

    async def test_strict_handler_rejects_a_response_outside_its_annotation(self, runtime: ConformanceRuntime) -> None:
        """strict=True checks the response against the return annotation.

        ``strict=True``: returning a value outside the return annotation raises ``ValueError`` at the caller;
        ``strict=False`` lets it through (as AutoGen).
        """
        await self.host_agent(runtime, "strict", Strict)
        runtime.start()
        with pytest.raises(ValueError, match="lies"):
            await self.within(runtime.send_message(Ping("x"), AgentId("strict", "k")))
        assert await self.within(runtime.send_message(Note("y"), AgentId("strict", "k"))) == "y"

    async def test_plain_base_agent(self, runtime: ConformanceRuntime) -> None:
        """A ``BaseAgent`` subclass gets every message through ``on_message_impl``, in its handler context."""
        await self.host_agent(runtime, "manual", Manual)
        await runtime.add_subscription(TypeSubscription("manual-topic", "manual"))
        runtime.start()
        assert await self.within(runtime.send_message(Unknown("u"), AgentId("manual", "k"))) == (
            "manual:Unknown:True:manual/k"
        )
        await runtime.publish_message(Note("n"), TopicId("manual-topic", "k"))
        await self.idle(runtime)

    async def test_overridden_on_message_impl_is_honoured(self, runtime: ConformanceRuntime) -> None:
        """A routed agent that overrides ``on_message_impl`` sees every message there first."""
        rec = Recorder()
        await self.host_agent(runtime, "wrapped", Wrapped, rec)
        runtime.start()
        assert await self.within(runtime.send_message(Ping("x"), AgentId("wrapped", "k"))) == Pong("wrapped:x")

    async def test_closure_agent(self, runtime: ConformanceRuntime) -> None:
        """ClosureAgent.register_closure gives the closure a working ClosureContext.

        ``ClosureAgent.register_closure``: the closure gets a ``ClosureContext`` (its id, send, publish),
        its subscriptions are bound to the registered type, and its return value answers an RPC.
        """
        rec = Recorder()
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        await runtime.add_subscription(TypeSubscription("echoes", "probe"))
        await self.host_closure(runtime, "closure", echo_closure, rec, subscriptions=default_subscriptions)
        runtime.start()
        await runtime.publish_message(Note("pub"), DefaultTopicId(source="c1"))
        assert await self.within(runtime.send_message(Note("rpc"), AgentId("closure", "c2"))) == "closure:rpc"
        await self.idle(runtime)
        await self.collect(runtime, rec)
        seen = [(r.agent, r.text, r.is_rpc) for r in rec.kinds("closure")]
        assert sorted(seen, key=str) == sorted(
            [(AgentId("closure", "c1"), "pub", False), (AgentId("closure", "c2"), "rpc", True)], key=str
        )
        assert sorted(rec.texts("answer")) == [repr(Pong("pub")), repr(Pong("rpc"))]
        assert sorted(rec.texts("note")) == ["echo:pub", "echo:rpc"]
        assert {r.sender for r in rec.kinds("note")} == {AgentId("closure", "c1"), AgentId("closure", "c2")}

    async def test_agent_proxy(self, runtime: ConformanceRuntime) -> None:
        """``AgentProxy`` forwards send, metadata and state calls to the runtime for its id."""
        rec = Recorder()
        await self.host_agent(runtime, "probe", DescribedProbe, rec)
        runtime.start()
        proxy = AgentProxy(AgentId("probe", "p"), runtime)
        assert proxy.id == AgentId("probe", "p")
        assert await self.within(proxy.send_message(Ping("hi"), sender=AgentId("caller", "c"))) == Pong("hi")
        await self.collect(runtime, rec)
        assert rec.kinds("ping")[0].sender == AgentId("caller", "c")
        metadata = await self.within(proxy.metadata)
        assert metadata == {"type": "probe", "key": "p", "description": "proxied probe"}
        assert await self.within(proxy.save_state()) == {"count": 1}
        await self.within(proxy.load_state({"count": 41}))
        assert await self.within(proxy.save_state()) == {"count": 41}

    async def test_handler_context_names_the_handling_agent(self, runtime: ConformanceRuntime) -> None:
        """``MessageHandlerContext.agent_id()`` is the handling agent, also across an await in the handler."""
        rec = Recorder()
        await self.host_agent(runtime, "ctx", ContextProbe, rec)
        runtime.start()
        await self.within(
            asyncio.gather(
                runtime.send_message(Note("a"), AgentId("ctx", "a")),
                runtime.send_message(Note("b"), AgentId("ctx", "b")),
            )
        )
        await self.collect(runtime, rec)
        assert sorted(r.text for r in rec.kinds("context")) == ["ctx/a", "ctx/a", "ctx/b", "ctx/b"]
        assert all(r.text == str(r.agent) for r in rec.kinds("context"))
        assert not MessageHandlerContext.is_in_handler()
