"""Failure modes with clear errors: no live worker for a type, no reply in time, a message over the size limit."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import pytest
import redis.asyncio
import redis.exceptions

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


async def _two_workers(redis_url: str, **options: object) -> tuple[RedisAgentRuntime, RedisAgentRuntime]:
    namespace = _namespace()
    host = RedisAgentRuntime(redis_url, namespace=namespace, worker_id="host", **options)  # type: ignore[arg-type]
    await Sink.register(host, "sink", Sink)
    client = RedisAgentRuntime(redis_url, namespace=namespace, worker_id="client", **options)  # type: ignore[arg-type]
    await host.start()
    await client.start()
    return host, client


async def test_rpcs_go_on_after_redis_forgets_its_scripts(redis_url: str) -> None:
    """Writes run a cached script by its hash; after ``SCRIPT FLUSH`` (what a restart does) they send it again."""
    host, client = await _two_workers(redis_url)
    admin = redis.asyncio.Redis.from_url(redis_url)
    try:
        assert await client.send_message(Blob("ab"), AgentId("sink", "k")) == "2"
        for round_ in range(3):
            await admin.script_flush()
            # Sequential and concurrent calls: the first takes the reader's carried batch, the rest the writer's.
            assert await client.send_message(Blob("abc"), AgentId("sink", f"r{round_}")) == "3"
            sizes = [n % 7 for n in range(40)]
            replies = await asyncio.wait_for(
                asyncio.gather(*(client.send_message(Blob("x" * n), AgentId("sink", f"k{n}")) for n in sizes)), 10
            )
            assert replies == [str(n) for n in sizes]
    finally:
        await admin.aclose()
        await client.close()
        await host.close()


async def test_a_reply_that_comes_too_late_is_never_taken_for_the_next_one(redis_url: str) -> None:
    """Redis paused beyond the read timeout: the connection is dropped, and no call gets another call's reply.

    A connection that gave up waiting and were used again would read the late reply as the answer to its next
    command. Each call here checks that it got the length of its own message, or (a call whose write timed out)
    an error that says Redis did not answer; calls after the pause all succeed.
    """
    host, client = await _two_workers(redis_url + "?socket_timeout=0.3", rpc_timeout=20)
    admin = redis.asyncio.Redis.from_url(redis_url)
    try:
        assert await client.send_message(Blob("ab"), AgentId("sink", "k")) == "2"
        await admin.client_pause(1200, all=False)
        sizes = list(range(1, 30))
        calls = [asyncio.ensure_future(client.send_message(Blob("y" * n), AgentId("sink", f"k{n}"))) for n in sizes]
        outcomes = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 20)
        for n, outcome in zip(sizes, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                assert isinstance(outcome, redis.exceptions.TimeoutError), outcome
                assert "did not answer" in str(outcome)
            else:
                assert outcome == str(n)
        assert any(isinstance(outcome, BaseException) for outcome in outcomes), "the pause was not noticed"
        await admin.client_unpause()
        after = [asyncio.ensure_future(client.send_message(Blob("z" * n), AgentId("sink", f"a{n}"))) for n in sizes]
        assert await asyncio.wait_for(asyncio.gather(*after), 20) == [str(n) for n in sizes]
        assert await client.send_message(Blob("abcd"), AgentId("sink", "k")) == "4"
    finally:
        await admin.client_unpause()
        await admin.aclose()
        await client.close()
        await host.close()


class Impatient(RoutedAgent):
    """Raises its own TimeoutError."""

    def __init__(self) -> None:
        super().__init__("impatient")

    @message_handler
    async def on_blob(self, message: Blob, ctx: MessageContext) -> str:
        """Always times out, on its own."""
        raise TimeoutError(f"gave up on {message.data}")


async def test_a_handlers_own_timeout_error_is_not_reported_as_the_rpc_timeout(redis_url: str) -> None:
    runtime = RedisAgentRuntime(redis_url, namespace=_namespace(), rpc_timeout=30)
    await Impatient.register(runtime, "impatient", Impatient)
    await runtime.start()
    try:
        with pytest.raises(TimeoutError, match="gave up on soon") as raised:
            await runtime.send_message(Blob("soon"), AgentId("impatient", "k"))
        assert "rpc_timeout" not in str(raised.value)
    finally:
        await runtime.close()
