"""The ``redis`` runtime from a config, its options, and clear errors for bad settings or an unreachable server."""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass

import pytest

import salon_redis
from salon import AgentId, ConfigError, Container, MessageContext, PluginManager, RoutedAgent, TopicId, message_handler
from salon_redis import RedisAgentRuntime, RedisRuntimeConfig


def plugin_manager() -> PluginManager:
    pm = PluginManager(entry_points_enabled=False, strict=True)
    pm.add_plugin(salon_redis, "redis", distribution="salon-redis", version=salon_redis.__version__)
    return pm


@dataclass
class Number:
    """A number to double."""

    value: int


class Doubler(RoutedAgent):
    """Answers a :class:`Number` with twice its value as a plain int (a result needs no serializer)."""

    def __init__(self) -> None:
        super().__init__("doubles")

    @message_handler
    async def on_number(self, message: Number, ctx: MessageContext) -> int:
        """Twice the number."""
        return message.value * 2


def test_registers_the_runtime() -> None:
    spec = plugin_manager().registry.get("runtime", "redis")
    assert (spec.distribution, spec.options_model) == ("salon-redis", RedisRuntimeConfig)
    assert spec.description.startswith("RedisAgentRuntime")


async def test_config_builds_a_worker_from_a_secret_url(redis_url: str) -> None:
    namespace = f"cfg-{uuid.uuid4().hex[:8]}"
    container = Container.from_dict(
        {"runtime": {"use": "redis", "options": {"url": "${REDIS_URL}", "namespace": namespace, "partitions": 2}}},
        source="app.yaml",
        plugin_manager=plugin_manager(),
        environ={"REDIS_URL": redis_url},
    )
    runtime = container.runtime()
    assert isinstance(runtime, RedisAgentRuntime)
    assert runtime.namespace == namespace
    await runtime.close()


@pytest.mark.parametrize(
    ("options", "expected"),
    [({"partitions": 0}, "partitions"), ({"lease_ms": 10}, "lease_ms"), ({"namespaces": "x"}, "namespaces")],
)
def test_bad_options_are_config_errors(options: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Container.from_dict(
            {"runtime": {"use": "redis", "options": options}}, source="app.yaml", plugin_manager=plugin_manager()
        )
    assert f"runtime.options.{expected}" in str(caught.value)


@pytest.mark.parametrize("namespace", ["", "has space", "a{b}"])
def test_a_bad_namespace_is_refused_with_an_example(namespace: str) -> None:
    with pytest.raises(ValueError, match=r"namespace.*for example"):
        RedisAgentRuntime("redis://127.0.0.1:1/0", namespace=namespace)


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_server_fails_start_naming_the_url_without_the_password() -> None:
    url = f"redis://user:s3cret@127.0.0.1:{_closed_port()}/0"
    runtime = RedisAgentRuntime(url, namespace="unreachable")
    with pytest.raises(ConnectionError) as caught:
        await runtime.start()
    message = str(caught.value)
    assert "redis://user:***@127.0.0.1" in message and "s3cret" not in message
    with pytest.raises(ConnectionError):  # later calls report the same failure instead of hanging
        await runtime.publish_message(Number(1), TopicId("t", "s"))
    await runtime.stop()
    await runtime.close()


async def test_plain_results_travel_and_unserializable_messages_are_refused_at_the_sender(redis_url: str) -> None:
    runtime = RedisAgentRuntime(redis_url, namespace=f"plain-{uuid.uuid4().hex[:8]}")
    await Doubler.register(runtime, "doubler", Doubler)
    await runtime.start()
    try:
        assert await runtime.send_message(Number(21), AgentId("doubler", "k")) == 42
        with pytest.raises(ValueError, match=r"Cannot serialize 'int'.*add_message_serializer"):
            await runtime.send_message(21, AgentId("doubler", "k"))
    finally:
        await runtime.close()
