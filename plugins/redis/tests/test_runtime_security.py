"""Security through the connection URL: an ACL user confined to its namespace, and TLS (``rediss://``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from salon import AgentId, MessageContext, RoutedAgent, message_handler
from salon.testing import RedisServer, RedisTlsFiles
from salon_redis import RedisAgentRuntime


@dataclass
class Echo:
    """Answered with its text."""

    text: str


class Echoer(RoutedAgent):
    """Answers an echo with its text."""

    def __init__(self) -> None:
        super().__init__("echoes")

    @message_handler
    async def on_echo(self, message: Echo, ctx: MessageContext) -> str:
        """The text."""
        return message.text


@pytest.fixture
def tenant(redis_url: str) -> Iterator[tuple[str, str]]:
    """An ACL user that may touch only the keys of namespace ``tenant-<id>``: (its URL, that namespace)."""
    namespace = f"tenant-{uuid.uuid4().hex[:8]}"
    user, password = f"u{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    admin = redis.Redis.from_url(redis_url)
    admin.acl_setuser(user, enabled=True, passwords=[f"+{password}"], keys=[f"salon:{namespace}:*"], commands=["+@all"])
    try:
        yield redis_url.replace("redis://", f"redis://{user}:{password}@"), namespace
    finally:
        admin.acl_deluser(user)
        admin.close()


async def test_an_acl_user_works_in_its_namespace_and_is_refused_outside_it(tenant: tuple[str, str]) -> None:
    url, namespace = tenant
    runtime = RedisAgentRuntime(url, namespace=namespace)
    await Echoer.register(runtime, "echo", Echoer)
    await runtime.start()
    try:
        assert await runtime.send_message(Echo("inside"), AgentId("echo", "k")) == "inside"
    finally:
        await runtime.close()
    outsider = RedisAgentRuntime(url, namespace="someone-else")
    with pytest.raises(redis.exceptions.NoPermissionError):
        await Echoer.register(outsider, "echo", Echoer)
    await outsider.close()


@pytest.fixture
def tls_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server that speaks TLS only, with a CA and a server certificate made for the test."""
    with RedisServer(tls=RedisTlsFiles.for_localhost(tmp_path), workdir=tmp_path) as server:
        yield server.url


async def test_a_cluster_over_tls(tls_url: str) -> None:
    runtime = RedisAgentRuntime(tls_url, namespace="tls")
    await Echoer.register(runtime, "echo", Echoer)
    await runtime.start()
    try:
        assert await runtime.send_message(Echo("encrypted"), AgentId("echo", "k")) == "encrypted"
    finally:
        await runtime.close()
    plain = RedisAgentRuntime(tls_url.split("?")[0].replace("rediss://", "redis://"), namespace="tls")
    with pytest.raises(ConnectionError, match="Cannot reach Redis"):  # a plain client cannot talk to it
        await plain.start()
    await plain.stop()
    await plain.close()
