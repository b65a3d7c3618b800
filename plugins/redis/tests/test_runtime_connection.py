"""The runtime's directly driven connections, against a real redis-server: order, size, protocols, failures."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.exceptions

from salon import AgentId, MessageContext, RoutedAgent, TopicId, TypeSubscription, message_handler
from salon.testing import RedisServer
from salon_redis import RedisAgentRuntime
from salon_redis._runtime_connection import DirectConnection, HashedScript
from salon_redis._runtime_support import connection_pool


def _connection(url: str, read_timeout: float | None = 5.0) -> DirectConnection:
    pool, _ = connection_pool(url, 4)
    return DirectConnection(pool, read_timeout)


async def test_replies_come_back_in_order_however_they_are_split(redis_url: str) -> None:
    """A thousand commands in one write, and a reply far larger than a socket read, each reach their reader."""
    connection = _connection(redis_url)
    key = f"conn-{uuid.uuid4().hex}"
    big = b"x" * (5 * 1024 * 1024 + 7)
    try:
        await connection.send(
            connection.pack(*[("INCR", key)] * 1000, ("SET", key + ":big", big), ("GET", key + ":big"))
        )
        assert [await connection.read() for _ in range(1000)] == list(range(1, 1001))
        assert await connection.read() == b"OK"
        assert await connection.read() == big
    finally:
        await connection.run(("DEL", key, key + ":big"))
        await connection.close()


async def test_an_error_reply_is_raised_and_the_connection_goes_on(redis_url: str) -> None:
    connection = _connection(redis_url)
    try:
        with pytest.raises(redis.exceptions.ResponseError, match="unknown command"):
            await connection.run(("NOSUCHCOMMAND",))
        assert await connection.run(("PING",)) == b"PONG"
    finally:
        await connection.close()


async def test_a_script_redis_forgot_is_sent_again(redis_url: str) -> None:
    connection = _connection(redis_url)
    script = HashedScript("return tonumber(ARGV[1]) * 2")
    try:
        await connection.run(("SCRIPT", "FLUSH"))
        assert await connection.run_script(script, [], [21]) == 42  # NOSCRIPT, then EVAL
        assert await connection.run_script(script, [], [5]) == 10  # cached now
    finally:
        await connection.close()


async def test_a_server_gone_mid_read_fails_the_read_and_the_next_send_reconnects(tmp_path: Path) -> None:
    with RedisServer(workdir=tmp_path) as server:
        connection = _connection(server.url)
        try:
            await connection.send(connection.pack(("BLPOP", "never", 30)), blocking_s=30)
            waiting = asyncio.ensure_future(connection.read())
            await asyncio.sleep(0.1)
            server.stop()
            with pytest.raises(redis.exceptions.ConnectionError):
                await asyncio.wait_for(waiting, 10)
            server.start()
            assert await connection.run(("PING",)) == b"PONG"
        finally:
            await connection.close()


async def test_an_overdue_reply_drops_the_connection(redis_url: str) -> None:
    """A reply later than the read timeout fails the read; the late reply is never read as another's."""
    connection = _connection(redis_url, read_timeout=0.3)
    try:
        await connection.send(connection.pack(("BLPOP", f"never-{uuid.uuid4().hex}", 2)))  # blocks past the timeout
        with pytest.raises(redis.exceptions.TimeoutError, match="did not answer"):
            await asyncio.wait_for(connection.read(), 10)
        assert await connection.run(("ECHO", "mine")) == b"mine"
    finally:
        await connection.close()


@dataclass
class Ping:
    """Answered in capitals."""

    text: str


class Shouter(RoutedAgent):
    """Answers a ping in capitals and keeps what it got."""

    def __init__(self) -> None:
        super().__init__("shouts")
        self.seen: list[str] = []

    @message_handler
    async def on_ping(self, message: Ping, ctx: MessageContext) -> str:
        """Keep, then shout."""
        self.seen.append(message.text)
        return message.text.upper()


@pytest.mark.parametrize("protocol", ["2", "3"])
async def test_the_runtime_speaks_both_protocols(redis_url: str, protocol: str) -> None:
    """``?protocol=3`` in the URL (RESP3): replies are parsed as well as with the default RESP2."""
    url = f"{redis_url}?protocol={protocol}"
    namespace = f"resp{protocol}-{uuid.uuid4().hex[:8]}"
    host = RedisAgentRuntime(url, namespace=namespace, worker_id="host")
    client = RedisAgentRuntime(url, namespace=namespace, worker_id="client")
    await Shouter.register(host, "shouter", Shouter)
    await host.add_subscription(TypeSubscription("pings", "shouter"))
    await host.start()
    await client.start()
    try:
        assert await client.send_message(Ping("hi"), AgentId("shouter", "k")) == "HI"
        await client.publish_message(Ping("all"), TopicId("pings", "k"))
        await client.stop_when_idle()
        agent = await host.try_get_underlying_agent_instance(AgentId("shouter", "k"), Shouter)
        assert agent.seen == ["hi", "all"]
    finally:
        await client.close()
        await host.close()
