"""ChatCompletionCache: hits make no request, keys cover the whole request, stored entries stay intact."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import pytest
from pydantic import BaseModel

from salon import CancellationToken, FunctionCall
from salon.cache import CHAT_CACHE_VALUE_TYPE, CacheStore, ChatCompletionCache, InMemoryStore, chat_cache_key
from salon.models import CreateResult, LLMMessage, ModelInfo, ReplayChatCompletionClient, RequestUsage, UserMessage

INFO = ModelInfo(vision=False, function_calling=True, json_output=True, family="unknown", structured_output=True)


def ask(text: str = "Hello, how are you?") -> list[LLMMessage]:
    return [UserMessage(content=text, source="user")]


def replay(*responses: str | CreateResult) -> ReplayChatCompletionClient:
    client = ReplayChatCompletionClient(list(responses), model_info=INFO)
    client.set_cached_bool_value(False)
    return client


async def test_a_hit_makes_no_request_and_is_marked_cached() -> None:
    """The seed's example: the second identical request is answered from the store, usage unchanged."""
    inner = replay("I am fine.", "never used")
    cache = ChatCompletionCache(inner)
    first = await cache.create(ask())
    usage_before = cache.total_usage()
    usage_before = RequestUsage(usage_before.prompt_tokens, usage_before.completion_tokens)
    second = await cache.create(ask())
    assert first.cached is False
    assert second.cached is True
    assert second.content == "I am fine."
    assert second.usage == first.usage  # what the original call cost
    assert cache.total_usage() == usage_before == inner.total_usage()
    assert len(inner.create_calls) == 1


async def test_hits_are_copies_so_earlier_results_and_the_entry_never_change() -> None:
    """AutoGen flips ``cached`` on the stored object, which is also the object the first caller holds."""
    cache = ChatCompletionCache(replay("answer"))
    first = await cache.create(ask())
    hit = await cache.create(ask())
    hit.content = "tampered"
    assert first.cached is False
    again = await cache.create(ask())
    assert again.content == "answer" and again is not hit


async def test_streams_are_stored_when_complete_and_replayed_chunk_by_chunk() -> None:
    inner = replay("one two three")
    cache = ChatCompletionCache(inner)
    first = [item async for item in cache.create_stream(ask())]
    second = [item async for item in cache.create_stream(ask())]
    assert (
        [i for i in first if isinstance(i, str)]
        == [i for i in second if isinstance(i, str)]
        == ["one ", "two ", "three"]
    )
    assert isinstance(first[-1], CreateResult) and first[-1].cached is False
    assert isinstance(second[-1], CreateResult) and second[-1].cached is True
    assert inner.total_usage().completion_tokens == 3  # one real call


async def test_create_and_create_stream_share_entries() -> None:
    inner = replay("from create", "from stream")
    cache = ChatCompletionCache(inner)
    await cache.create(ask("a"))
    replayed = [item async for item in cache.create_stream(ask("a"))]
    assert replayed[0] == "from create"
    assert isinstance(replayed[-1], CreateResult) and replayed[-1].cached
    _ = [item async for item in cache.create_stream(ask("b"))]
    hit = await cache.create(ask("b"))
    assert hit.content == "from stream" and hit.cached


async def test_a_stream_abandoned_early_is_not_stored() -> None:
    inner = replay("one two three", "one two three")
    cache = ChatCompletionCache(inner)
    stream = cache.create_stream(ask())
    assert await stream.__anext__() == "one "
    await stream.aclose()
    final = [item async for item in cache.create_stream(ask())][-1]
    assert isinstance(final, CreateResult) and final.cached is False


async def test_cancelled_tokens_are_honoured_on_hits() -> None:
    cache = ChatCompletionCache(replay("x"))
    await cache.create(ask())
    token = CancellationToken()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cache.create(ask(), cancellation_token=token)
    with pytest.raises(asyncio.CancelledError):
        _ = [item async for item in cache.create_stream(ask(), cancellation_token=token)]


async def test_tool_call_results_are_cached() -> None:
    calls = [FunctionCall(id="1", arguments='{"city": "Oslo"}', name="weather")]
    scripted = CreateResult(finish_reason="function_calls", content=calls, usage=RequestUsage(4, 2), cached=False)
    cache = ChatCompletionCache(replay(scripted))
    tool = {"name": "weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}
    await cache.create(ask(), tools=[tool])  # type: ignore[list-item]
    hit = await cache.create(ask(), tools=[tool])  # type: ignore[list-item]
    assert hit.content == calls and hit.cached


class Answer(BaseModel):
    answer: int


class Other(BaseModel):
    text: str


def test_the_key_covers_everything_that_changes_the_answer() -> None:
    base = chat_cache_key(ask())
    tool = {"name": "t", "parameters": {"type": "object", "properties": {}}}
    variants = [
        chat_cache_key(ask("something else")),
        chat_cache_key([UserMessage(content="Hello, how are you?", source="someone")]),
        chat_cache_key(ask(), tools=[tool]),  # type: ignore[list-item]
        chat_cache_key(ask(), tool_choice="required"),
        chat_cache_key(ask(), json_output=True),
        chat_cache_key(ask(), json_output=Answer),
        chat_cache_key(ask(), json_output=Other),
        chat_cache_key(ask(), extra_create_args={"temperature": 0.5}),
        chat_cache_key(ask(), namespace="gpt-4o"),
    ]
    assert len({base, *variants}) == len(variants) + 1
    assert chat_cache_key(ask()) == base  # equal requests, distinct objects
    assert chat_cache_key(ask(), extra_create_args={"a": 1, "b": 2}) == chat_cache_key(
        ask(), extra_create_args={"b": 2, "a": 1}
    )


def test_the_key_is_stable_across_processes() -> None:
    """Persistent stores are shared between runs: the key must not depend on hash seeds or object ids."""
    code = (
        "from salon.cache import chat_cache_key\n"
        "from salon.models import UserMessage\n"
        "print(chat_cache_key([UserMessage(content='hi', source='u')], extra_create_args={'s': {1, 2}}))\n"
    )
    keys = {
        subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True, env={"PYTHONHASHSEED": seed}
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert len(keys) == 1
    assert keys == {chat_cache_key([UserMessage(content="hi", source="u")], extra_create_args={"s": {2, 1}})}


async def test_namespaces_keep_models_sharing_a_store_apart() -> None:
    store: InMemoryStore[CHAT_CACHE_VALUE_TYPE] = InMemoryStore()
    gpt = ChatCompletionCache(replay("from gpt"), store, namespace="gpt")
    claude = ChatCompletionCache(replay("from claude"), store, namespace="claude")
    assert (await gpt.create(ask())).content == "from gpt"
    assert (await claude.create(ask())).content == "from claude"
    assert len(store.store) == 2


class DictStore(CacheStore[Any]):
    """A store that keeps JSON-like data, as a persistent store hands it back."""

    def __init__(self, as_text: bool) -> None:
        self.data: dict[str, Any] = {}
        self.as_text = as_text

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        if isinstance(value, list):
            dumped: Any = [v.model_dump(mode="json") if isinstance(v, CreateResult) else v for v in value]
        else:
            dumped = value.model_dump(mode="json")
        self.data[key] = json.dumps(dumped) if self.as_text else dumped


@pytest.mark.parametrize("as_text", [False, True])
async def test_entries_come_back_from_dict_or_json_stores(as_text: bool) -> None:
    store = DictStore(as_text)
    cache = ChatCompletionCache(replay("a", "b"), store)
    await cache.create(ask("1"))
    _ = [item async for item in cache.create_stream(ask("2"))]
    assert (await cache.create(ask("1"))).cached
    replayed = [item async for item in cache.create_stream(ask("2"))]
    assert replayed[0] == "b" and isinstance(replayed[-1], CreateResult) and replayed[-1].cached


@pytest.mark.parametrize("garbage", ["not json", {"finish_reason": "nope"}, [1, 2], ["chunk only"], 42])
async def test_an_unusable_entry_is_a_miss_and_gets_replaced(garbage: Any) -> None:
    store = DictStore(as_text=False)
    store.data[chat_cache_key(ask())] = garbage
    inner = replay("fresh")
    cache = ChatCompletionCache(inner, store)
    result = await cache.create(ask())
    assert result.content == "fresh" and result.cached is False
    assert (await cache.create(ask())).cached


async def test_everything_else_is_delegated() -> None:
    inner = replay("x")
    cache = ChatCompletionCache(inner)
    assert cache.model_info is inner.model_info
    assert cache.count_tokens(ask()) == inner.count_tokens(ask())
    assert cache.remaining_tokens(ask()) == inner.remaining_tokens(ask())
    with pytest.warns(DeprecationWarning, match="model_info"):
        assert cache.capabilities["function_calling"] is True
    await cache.create(ask())
    assert cache.actual_usage() == inner.actual_usage()
    await cache.close()


class AsyncOnlyStore(CacheStore[CHAT_CACHE_VALUE_TYPE]):
    """A store whose blocking methods must never be called from the event loop: they fail the test."""

    def __init__(self) -> None:
        self.data: dict[str, CHAT_CACHE_VALUE_TYPE] = {}
        self.async_calls: list[str] = []

    def get(self, key: str, default: CHAT_CACHE_VALUE_TYPE | None = None) -> CHAT_CACHE_VALUE_TYPE | None:
        raise AssertionError("ChatCompletionCache called the blocking get() on the event loop")

    def set(self, key: str, value: CHAT_CACHE_VALUE_TYPE) -> None:
        raise AssertionError("ChatCompletionCache called the blocking set() on the event loop")

    async def aget(self, key: str, default: CHAT_CACHE_VALUE_TYPE | None = None) -> CHAT_CACHE_VALUE_TYPE | None:
        self.async_calls.append("aget")
        await asyncio.sleep(0)
        return self.data.get(key, default)

    async def aset(self, key: str, value: CHAT_CACHE_VALUE_TYPE) -> None:
        self.async_calls.append("aset")
        await asyncio.sleep(0)
        self.data[key] = value


async def test_the_cache_uses_the_stores_async_methods_so_io_never_blocks_the_loop() -> None:
    store = AsyncOnlyStore()
    cached = ChatCompletionCache(replay("one", "two"), store)
    first = await cached.create(ask())
    again = await cached.create(ask())
    streamed = [item async for item in cached.create_stream(ask("other"))]
    replayed = [item async for item in cached.create_stream(ask("other"))]

    assert (first.cached, again.cached, again.content) == (False, True, "one")
    assert isinstance(streamed[-1], CreateResult) and isinstance(replayed[-1], CreateResult)
    assert replayed[-1].cached and replayed[-1].content == streamed[-1].content
    assert store.async_calls == ["aget", "aset", "aget", "aget", "aset", "aget"]


async def test_a_store_written_for_autogen_with_only_get_and_set_still_works() -> None:
    class SyncOnly:  # duck-typed, not a CacheStore subclass: no aget/aset
        def __init__(self) -> None:
            self.data: dict[str, Any] = {}

        def get(self, key: str, default: Any = None) -> Any:
            return self.data.get(key, default)

        def set(self, key: str, value: Any) -> None:
            self.data[key] = value

    cached = ChatCompletionCache(replay("one"), SyncOnly())  # type: ignore[arg-type]
    await cached.create(ask())
    assert (await cached.create(ask())).cached
