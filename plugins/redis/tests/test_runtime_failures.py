"""Failure modes with clear errors: no live worker for a type, no reply in time, a message over the size limit."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import pytest

from salon import AgentId, MessageContext, RoutedAgent, TopicId, TypeSubscription, message_handler
from salon.exceptions import UndeliverableException
from salon_redis import RedisAgentRuntime


@dataclass
class Blob:
    """A message of any size."""

    data: str


class Sink(RoutedAgent):
    """Answers a blob with its length; a blob saying ``slow`` waits until cancelled; ``big`` answers 4 KiB."""

    def __init__(self) -> None:
        super().__init__("sink")

    @message_handler
    async def on_blob(self, message: Blob, ctx: MessageContext) -> str:
        """The length, or a slow or big answer."""
        if message.data == "slow":
            await asyncio.Event().wait()
        if message.data == "big":
            return "x" * 4096
        return str(len(message.data))


def _namespace() -> str:
    return f"fail-{uuid.uuid4().hex[:8]}"


async def test_an_rpc_to_a_type_whose_workers_are_gone_fails_after_the_timeout(redis_url: str) -> None:
    namespace = _namespace()
    host = RedisAgentRuntime(redis_url, namespace=namespace, worker_id="host")
    await Sink.register(host, "sink", Sink)
    await host.start()
    await host.close()  # leaves: the type stays registered, no worker hosts it
    client = RedisAgentRuntime(redis_url, namespace=namespace, worker_id="client", rpc_timeout=0.3)
    await client.start()
    try:
        with pytest.raises(UndeliverableException, match=r"'sink'.*no live worker hosts it"):
            await client.send_message(Blob("hello"), AgentId("sink", "k"))
    finally:
        await client.close()


async def test_an_rpc_without_a_reply_in_time_is_a_timeout_and_cancels_the_handler(redis_url: str) -> None:
    runtime = RedisAgentRuntime(redis_url, namespace=_namespace(), rpc_timeout=0.3)
    await Sink.register(runtime, "sink", Sink)
    await runtime.start()
    try:
        with pytest.raises(TimeoutError, match=r"No reply from sink/k.*1 live workers"):
            await runtime.send_message(Blob("slow"), AgentId("sink", "k"))
        await asyncio.wait_for(runtime.stop_when_idle(), 10)  # the handler was cancelled: nothing left running
    finally:
        await runtime.close()


async def test_a_message_over_the_limit_is_refused_at_the_sender(redis_url: str) -> None:
    runtime = RedisAgentRuntime(redis_url, namespace=_namespace(), max_message_bytes=1024)
    await Sink.register(runtime, "sink", Sink)
    await runtime.add_subscription(TypeSubscription("blobs", "sink"))
    await runtime.start()
    try:
        assert await runtime.send_message(Blob("x" * 900), AgentId("sink", "k")) == "900"
        with pytest.raises(ValueError, match=r"Blob is \d+ bytes serialized, over max_message_bytes=1024"):
            await runtime.send_message(Blob("x" * 2000), AgentId("sink", "k"))
        with pytest.raises(ValueError, match="max_message_bytes=1024"):
            await runtime.publish_message(Blob("x" * 2000), TopicId("blobs", "k"))
        with pytest.raises(ValueError, match=r"The result is \d+ bytes serialized"):  # a reply too large, too
            await runtime.send_message(Blob("big"), AgentId("sink", "k"))
        await asyncio.wait_for(runtime.stop_when_idle(), 10)
    finally:
        await runtime.close()
