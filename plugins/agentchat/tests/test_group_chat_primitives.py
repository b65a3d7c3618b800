"""The team base's building blocks: the FIFO lock, sequential handling, and the events on the wire."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import BaseModel

from salon import (
    AgentId,
    MessageContext,
    PydanticJsonMessageSerializer,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    event,
    rpc,
)
from salon_agentchat.base import Response, TaskResult
from salon_agentchat.group_chat import (
    GROUP_CHAT_EVENT_TYPES,
    FIFOLock,
    GroupChatAgentResponse,
    GroupChatError,
    GroupChatMessage,
    GroupChatStart,
    GroupChatTeamResponse,
    GroupChatTermination,
    SequentialRoutedAgent,
    SerializableException,
)
from salon_agentchat.messages import (
    HandoffMessage,
    SelectSpeakerEvent,
    StopMessage,
    TextMessage,
    ThoughtEvent,
    ToolCallSummaryMessage,
)


async def test_fifo_lock_grants_in_request_order() -> None:
    lock = FIFOLock()
    order: list[int] = []

    async def worker(i: int) -> None:
        await lock.acquire()
        try:
            order.append(i)
            await asyncio.sleep(0)
        finally:
            lock.release()

    await asyncio.gather(*(worker(i) for i in range(6)))
    assert order == list(range(6))
    assert not lock.locked()


async def test_fifo_lock_skips_a_cancelled_waiter_and_passes_on_a_handover() -> None:
    lock = FIFOLock()
    await lock.acquire()
    first = asyncio.create_task(lock.acquire())
    second = asyncio.create_task(lock.acquire())
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    lock.release()
    await asyncio.wait_for(second, timeout=1)  # the cancelled waiter did not swallow the lock
    assert lock.locked()
    # A waiter cancelled right after being handed the lock passes it on.
    third = asyncio.create_task(lock.acquire())
    await asyncio.sleep(0)
    lock.release()
    third.cancel()
    with pytest.raises(asyncio.CancelledError):
        await third
    assert not lock.locked()


class Slow(BaseModel):
    n: int


class Quick(BaseModel):
    n: int


class _Recorder(SequentialRoutedAgent):
    def __init__(self, log: list[str], gate: asyncio.Event) -> None:
        super().__init__("records", sequential_message_types=[Slow])
        self._log = log
        self._gate = gate

    @event
    async def on_slow(self, message: Slow, ctx: MessageContext) -> None:
        self._log.append(f"start {message.n}")
        if message.n == 0:
            await self._gate.wait()
        self._log.append(f"end {message.n}")

    @rpc
    async def on_quick(self, message: Quick, ctx: MessageContext) -> int:
        self._log.append(f"quick {message.n}")
        return message.n


async def test_sequential_types_wait_their_turn_and_others_do_not() -> None:
    log: list[str] = []
    gate = asyncio.Event()
    runtime = SingleThreadedAgentRuntime()
    await _Recorder.register(runtime, "rec", lambda: _Recorder(log, gate))
    runtime.start()
    recipient = AgentId("rec", "k")
    await runtime.add_subscription(TypeSubscription("t", "rec"))
    await runtime.publish_message(Slow(n=0), TopicId("t", "k"))
    await runtime.publish_message(Slow(n=1), TopicId("t", "k"))
    assert await asyncio.wait_for(runtime.send_message(Quick(n=7), recipient), timeout=1) == 7
    assert log == ["start 0", "quick 7"]  # Slow 1 waits for Slow 0; Quick does not
    gate.set()
    await runtime.stop_when_idle()
    assert log == ["start 0", "quick 7", "end 0", "start 1", "end 1"]


def _roundtrip(message: BaseModel) -> Any:
    serializer = PydanticJsonMessageSerializer(type(message))
    return serializer.deserialize(serializer.serialize(message))


@pytest.mark.parametrize(
    "message",
    [
        GroupChatStart(
            messages=[TextMessage(content="t", source="u"), HandoffMessage(content="h", source="a", target="b")]
        ),
        GroupChatStart(),
        GroupChatAgentResponse(
            response=Response(
                chat_message=ToolCallSummaryMessage(content="s", source="a", tool_calls=[], results=[]),
                inner_messages=[ThoughtEvent(content="hm", source="a"), TextMessage(content="i", source="a")],
            ),
            name="a",
        ),
        GroupChatTeamResponse(
            result=TaskResult(
                messages=[TextMessage(content="x", source="x"), SelectSpeakerEvent(content=["x"], source="m")]
            ),
            name="inner",
        ),
        GroupChatMessage(message=SelectSpeakerEvent(content=["a"], source="m")),
        GroupChatTermination(message=StopMessage(content="done", source="m")),
        GroupChatError(error=SerializableException(error_type="E", error_message="m")),
    ],
    ids=lambda m: type(m).__name__,
)
def test_events_round_trip_through_json_with_their_concrete_messages(message: BaseModel) -> None:
    copy = _roundtrip(message)
    assert type(copy) is type(message)
    assert copy == message
    assert copy.model_dump() == message.model_dump()


def test_every_event_type_has_a_json_serializer() -> None:
    for cls in GROUP_CHAT_EVENT_TYPES:
        assert PydanticJsonMessageSerializer(cls).type_name == cls.__name__


def test_an_unknown_message_type_on_the_wire_names_the_fix() -> None:
    payload = b'{"message": {"type": "NoSuchMessage", "source": "x", "content": "y"}}'
    with pytest.raises(ValueError, match=r"NoSuchMessage.*custom_message_types"):
        PydanticJsonMessageSerializer(GroupChatMessage).deserialize(payload)


def test_builtin_exception_types_are_rebuilt_from_data() -> None:
    data = SerializableException.from_exception(KeyError("k")).model_dump()
    rebuilt = SerializableException.model_validate(data).to_exception()
    assert type(rebuilt) is KeyError
