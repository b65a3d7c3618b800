"""RedisStore beyond the suite: prefixes, TTL, the async path, JSON only, errors."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest
import redis

from salon.cache import ChatCompletionCache
from salon.models import CreateResult, ReplayChatCompletionClient, RequestUsage, UserMessage
from salon_redis import RedisStore


def test_keys_live_under_the_prefix(client: redis.Redis) -> None:
    store = RedisStore[str](client, prefix="app1:")
    other = RedisStore[str](client, prefix="app2:")
    store.set("k", "one")
    other.set("k", "two")
    assert (store.get("k"), other.get("k")) == ("one", "two")
    assert client.get("app1:k") == b'"one"'
    assert RedisStore[str](client).get("k") is None  # no prefix, as AutoGen's store: a different key


def test_entries_expire_after_the_ttl(client: redis.Redis) -> None:
    store = RedisStore[str](client, prefix="ttl-test:", ttl=0.3)
    store.set("k", "v")
    assert store.get("k") == "v"
    assert 0 < client.pttl("ttl-test:k") <= 300
    time.sleep(0.5)
    assert store.get("k") is None


def test_without_ttl_entries_do_not_expire(client: redis.Redis) -> None:
    RedisStore[str](client, prefix="nottl:").set("k", "v")
    assert client.ttl("nottl:k") == -1


@pytest.mark.parametrize("ttl", [0, -1.5])
def test_a_ttl_must_be_positive(client: redis.Redis, ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl must be a positive number"):
        RedisStore[str](client, ttl=ttl)


def test_values_are_json_never_pickle(client: redis.Redis) -> None:
    store = RedisStore[Any](client, prefix="json:")
    usage = RequestUsage(prompt_tokens=1, completion_tokens=1)
    store.set("r", CreateResult(finish_reason="stop", content="hi", usage=usage, cached=False))
    raw = client.get("json:r")
    assert isinstance(raw, bytes) and raw.startswith(b"{") and b'"content":"hi"' in raw
    with pytest.raises(TypeError, match="cannot store a object"):
        store.set("bad", object())


def test_text_written_by_others_and_junk(client: redis.Redis, caplog: pytest.LogCaptureFixture) -> None:
    store = RedisStore[Any](client, prefix="raw:")
    client.set("raw:text", b"plain text, not JSON")
    client.set("raw:junk", b"\xff\xfe")
    assert store.get("text") == "plain text, not JSON"
    with caplog.at_level(logging.WARNING, logger="salon_redis"):
        assert store.get("junk", "default") == "default"
    assert "not UTF-8" in caplog.text


def test_a_server_that_is_down_is_a_miss_not_a_crash(caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = RedisStore[str].from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.5)
    with caplog.at_level(logging.WARNING, logger="salon_redis"):
        store.set("k", "v")
        assert store.get("k", "default") == "default"
    assert "writing 'k' failed" in caplog.text and "reading 'k' failed" in caplog.text
    store.close()


async def test_async_path_runs_off_the_event_loop(client: redis.Redis) -> None:
    threads: list[int] = []

    class Recording(redis.Redis):
        def get(self, name: Any) -> Any:
            threads.append(threading.get_ident())
            return super().get(name)

        def set(self, name: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
            threads.append(threading.get_ident())
            return super().set(name, value, *args, **kwargs)

    recording = Recording(connection_pool=client.connection_pool)
    store = RedisStore[str](recording, prefix="async:")
    await asyncio.gather(*(store.aset(f"k{i}", f"v{i}") for i in range(10)))
    assert await asyncio.gather(*(store.aget(f"k{i}") for i in range(10))) == [f"v{i}" for i in range(10)]
    assert await store.aget("missing", "d") == "d"
    assert len(threads) == 21 and threading.get_ident() not in threads


async def test_chat_completion_cache_over_redis(client: redis.Redis) -> None:
    model = ReplayChatCompletionClient(["Paris."])
    model.set_cached_bool_value(False)
    cached = ChatCompletionCache(model, RedisStore(client, prefix="chat:"))
    question = [UserMessage(content="Capital of France?", source="user")]
    first, second = await cached.create(question), await cached.create(question)
    assert (first.cached, second.cached, second.content) == (False, True, "Paris.")
    assert second.usage == first.usage


def test_repr_shows_no_url(redis_url: str) -> None:
    store = RedisStore[str].from_url(redis_url.replace("redis://", "redis://:hunter2@"), prefix="p:", ttl=5)
    assert repr(store) == "RedisStore(prefix='p:', ttl=5)" and "hunter2" not in repr(store)
    store.close()
