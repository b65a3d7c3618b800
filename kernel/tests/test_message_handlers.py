"""The handler decorators and RoutedAgent's routing table, checked without a runtime where possible."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from salon import (
    AgentId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    event,
    message_handler,
    rpc,
)
from salon.exceptions import CantHandleException


@dataclass
class A:
    text: str


@dataclass
class B:
    text: str


@dataclass
class SubA(A):
    pass


# -- bad declarations fail at decoration time, naming the function -----------------------------------


def test_handler_without_message_annotation_is_refused() -> None:
    with pytest.raises(TypeError, match="unannotated"):

        class Agent(RoutedAgent):
            @message_handler
            async def unannotated(self, message, ctx: MessageContext) -> None:  # type: ignore[no-untyped-def]
                pass


def test_handler_without_return_annotation_is_refused() -> None:
    with pytest.raises(TypeError, match="no_return"):

        @message_handler
        async def no_return(self: Any, message: A, ctx: MessageContext):  # type: ignore[no-untyped-def]
            pass


@pytest.mark.parametrize("decorator", [message_handler, event, rpc])
def test_sync_handler_is_refused(decorator: Any) -> None:
    with pytest.raises(TypeError, match="not_async"):

        @decorator
        def not_async(self: Any, message: A, ctx: MessageContext) -> None:
            pass


def test_handler_with_wrong_arity_is_refused() -> None:
    with pytest.raises(TypeError, match="two_args"):

        @message_handler
        async def two_args(self: Any, message: A) -> None:
            pass


# -- what the decorators record ----------------------------------------------------------------------


def test_decorators_record_target_and_produced_types() -> None:
    @message_handler
    async def union(self: Any, message: A | B, ctx: MessageContext) -> A | None:
        return None

    assert list(union.target_types) == [A, B]  # type: ignore[attr-defined]
    assert set(union.produces_types) == {A, type(None)}  # type: ignore[attr-defined]
    assert union.is_message_handler is True  # type: ignore[attr-defined]

    @event
    async def any_message(self: Any, message: Any, ctx: MessageContext) -> None:
        pass

    assert list(any_message.target_types) == [object]  # type: ignore[attr-defined]


def _ctx(is_rpc: bool) -> MessageContext:
    from salon import CancellationToken

    return MessageContext(
        sender=None, topic_id=None, is_rpc=is_rpc, cancellation_token=CancellationToken(), message_id="m"
    )


def test_routers_of_event_and_rpc() -> None:
    """``@event`` accepts only publishes, ``@rpc`` only direct messages, ``match=`` narrows further."""

    @event
    async def on_event(self: Any, message: A, ctx: MessageContext) -> None:
        pass

    @rpc(match=lambda m, c: m.text == "yes")
    async def on_rpc(self: Any, message: A, ctx: MessageContext) -> None:
        pass

    assert on_event.router(A("x"), _ctx(is_rpc=False)) is True  # type: ignore[attr-defined]
    assert on_event.router(A("x"), _ctx(is_rpc=True)) is False  # type: ignore[attr-defined]
    assert on_rpc.router(A("yes"), _ctx(is_rpc=True)) is True  # type: ignore[attr-defined]
    assert on_rpc.router(A("no"), _ctx(is_rpc=True)) is False  # type: ignore[attr-defined]
    assert on_rpc.router(A("yes"), _ctx(is_rpc=False)) is False  # type: ignore[attr-defined]


# -- routing through a runtime ------------------------------------------------------------------------


class Base(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("base")

    @message_handler
    async def handle_a(self, message: A, ctx: MessageContext) -> str:
        return "base:a"

    @message_handler
    async def handle_b(self, message: B, ctx: MessageContext) -> str:
        return "base:b"


class Derived(Base):
    @message_handler
    async def handle_a(self, message: A, ctx: MessageContext) -> str:  # overrides by name
        return "derived:a"

    @message_handler
    async def handle_sub_a(self, message: SubA, ctx: MessageContext) -> str:
        return "derived:sub_a"


class Unhandled(Base):
    async def on_unhandled_message(self, message: Any, ctx: MessageContext) -> Any:
        return "custom unhandled"


async def _ask(agent_class: type[RoutedAgent], message: Any) -> Any:
    runtime = SingleThreadedAgentRuntime()
    await agent_class.register(runtime, "agent", agent_class)
    runtime.start()
    try:
        async with asyncio.timeout(5):
            return await runtime.send_message(message, AgentId("agent", "k"))
    finally:
        await runtime.stop()


async def test_subclass_inherits_and_overrides_handlers() -> None:
    assert await _ask(Derived, A("x")) == "derived:a"
    assert await _ask(Derived, B("x")) == "base:b"
    assert await _ask(Derived, SubA("x")) == "derived:sub_a"
    assert await _ask(Base, SubA("x")) == "base:a"


async def test_overridden_on_unhandled_message_is_used() -> None:
    """A subclass that overrides ``on_unhandled_message`` answers instead of the default CantHandleException."""
    assert await _ask(Unhandled, 42) == "custom unhandled"
    with pytest.raises(CantHandleException, match="int"):
        await _ask(Base, 42)


async def test_default_strictness_matches_autogen() -> None:
    """AutoGen's decorators default to ``strict=True``: a response outside the return annotation raises
    ValueError at the caller. Ported code that relies on it must see the same."""

    class Liar(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("liar")

        @message_handler
        async def handle(self, message: A, ctx: MessageContext) -> B:
            return "not a B"  # type: ignore[return-value]

    with pytest.raises(ValueError, match="handle"):
        await _ask(Liar, A("x"))


async def test_a_decorated_handler_stays_a_plain_function_when_called_directly() -> None:
    """Salon: the decorator returns the function itself (no wrapper coroutine per delivery). The runtime
    routes by type, so a routed message always fits; a direct call is an ordinary call and is not checked
    (AutoGen's wrapper raises CantHandleException there). The routed checks are tested above."""

    @message_handler(strict=True)
    async def only_a(self: Any, message: A, ctx: MessageContext) -> None:
        pass

    assert only_a.target_types == [A]
    assert await only_a(None, B("x"), _ctx(is_rpc=True)) is None  # type: ignore[arg-type]
